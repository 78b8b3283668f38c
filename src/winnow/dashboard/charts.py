"""The Datasets and Runs charts, built alike: counts on whole-number ticks, step and reason names
never cut short, the count written on each bar, and axis titles that say what is counted."""

from __future__ import annotations

import altair as alt
import polars as pl

COUNT = alt.Axis(format="d", tickMinStep=1)
"""A count axis: whole numbers only, even when the largest bar is 2."""

LABEL = alt.Axis(labelLimit=0)
"""A name axis that shows every label whole."""


def counted_bars(
    frame: pl.DataFrame, name: str, count: str, title: str, **encode: object
) -> alt.Chart:
    """Horizontal bars, one per NAME in the frame's order, with COUNT written at each bar's end."""
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{name}:N", sort=None, axis=LABEL, title=None),
        x=alt.X(f"{count}:Q", axis=COUNT, title=title),
    )
    bars = base.mark_bar().encode(**encode)
    labels = base.mark_text(align="left", dx=3).encode(text=alt.Text(f"{count}:Q", format=","))
    return (bars + labels).properties(height=alt.Step(22))


def funnel(frame: pl.DataFrame) -> alt.Chart:
    """Rows kept by each step, in recipe order."""
    return counted_bars(
        frame, "step", "kept", "rows kept after the step", tooltip=["step", "in", "kept"]
    )


def removals(frame: pl.DataFrame) -> alt.Chart:
    """Rows removed per reason, coloured by the step that removed them, largest first."""
    totals = frame.group_by("reason").agg(pl.col("rows").sum()).sort("rows", descending=True)
    order = totals["reason"].to_list()
    base = alt.Chart(frame).encode(
        y=alt.Y("reason:N", sort=order, axis=LABEL, title="removal reason"),
        x=alt.X("sum(rows):Q", axis=COUNT, title="rows removed"),
    )
    bars = base.mark_bar().encode(color="step:N", tooltip=["step", "reason", "rows"])
    labels = (
        alt.Chart(totals)
        .mark_text(align="left", dx=3)
        .encode(y=alt.Y("reason:N", sort=order), x="rows:Q", text=alt.Text("rows:Q", format=","))
    )
    return (bars + labels).properties(height=alt.Step(22))


def histogram(frame: pl.DataFrame, title: str) -> alt.Chart:
    """Rows per bin of a histogram with columns start and rows."""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("start:Q", title=title),
            y=alt.Y("rows:Q", axis=COUNT, title="rows"),
            tooltip=["start", "rows"],
        )
    )


def values(frame: pl.DataFrame, title: str) -> alt.Chart:
    """Rows per value of a category column, largest first."""
    return counted_bars(frame, "value", "rows", f"rows per {title}", tooltip=["value", "rows"])


def loss(frame: pl.DataFrame) -> alt.Chart:
    """Logged loss against training step, one line per series (loss, eval_loss)."""
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("step:Q", axis=COUNT, title="training step"),
            y=alt.Y("loss:Q", title="loss"),
            color=alt.Color("series:N", title="series"),
            tooltip=["series", "step", "loss"],
        )
    )


def seed_spread(frame: pl.DataFrame, title: str) -> alt.Chart:
    """One metric per recipe: each seed's value as a point, the mean as a tick, and a bar
    from the lowest seed to the highest."""
    base = alt.Chart(frame).encode(x=alt.X("arm:N", sort=None, axis=LABEL, title="recipe"))
    points = base.mark_point(filled=True, size=60).encode(
        y=alt.Y("value:Q", title=title, scale=alt.Scale(zero=False)),
        color=alt.Color("seed:N", title="seed"),
        tooltip=["arm", "seed", "value", "run"],
    )
    spread = base.mark_rule().encode(y="min(value):Q", y2="max(value):Q")
    mean = base.mark_tick(thickness=2, size=28, color="black").encode(y="mean(value):Q")
    return spread + points + mean


def loss_by_run(frame: pl.DataFrame) -> alt.Chart:
    """Training loss against step, a colour per recipe and a line per seed."""
    return (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("step:Q", axis=COUNT, title="training step"),
            y=alt.Y("loss:Q", title="training loss"),
            color=alt.Color("arm:N", title="recipe"),
            detail="run:N",
            tooltip=["arm", "seed", "run", "step", "loss"],
        )
    )
