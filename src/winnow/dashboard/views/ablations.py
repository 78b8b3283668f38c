"""Ablations page: one ablation at its own address (`?ablation=NAME`): the verdict and its
caveats, the recipes side by side with their datasets, each metric with every seed's value,
the paired differences, the loss curves, and links to every dataset, run and eval behind
them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from winnow.dashboard import charts
from winnow.dashboard.common import link, shown_errors, workspace
from winnow.dashboard.url_state import choice
from winnow.files import read_json
from winnow.train.runs import read_metrics
from winnow.workspace import Workspace


def ablation_folders(ws: Workspace) -> dict[str, Path]:
    """Every ablation of the workspace with a record, by name."""
    root = ws.root / "ablations"
    found = sorted(root.glob("*/ablation.json")) if root.is_dir() else []
    return {path.parent.name: path.parent for path in found}


def header(record: dict[str, Any]) -> None:
    """Status, the plan in one line, and seconds per stage."""
    plan = record["plan"]
    cols = st.columns(4)
    cols[0].metric("status", record.get("status") or "?")
    cols[1].metric("tokens per run", f"{plan['tokens']:,}")
    cols[2].metric("seeds", plan["seeds"])
    cols[3].metric("model", plan["model"])
    evals = ", ".join(x for x in (plan.get("suite"), plan.get("tasks")) if x) or "none"
    refs = ", ".join(plan.get("references") or []) or "none"
    st.caption(f"evals: {evals} · limit {plan.get('limit') or 'all'} · references: {refs}")
    stages = record.get("stages") or {}
    if stages:
        st.caption(" · ".join(f"{k} {v:,.1f} s" for k, v in stages.items()))
    if record.get("error"):
        st.error(f"failed: {record['error']}")


def verdict(record: dict[str, Any]) -> None:
    """The verdict's lines, each a difference judged against the seed spread."""
    lines = record.get("verdict") or []
    st.markdown(
        "**Verdict** (a difference counts when its 95% interval over the paired seeds "
        "leaves out zero and it is larger than the seed spread)"
    )
    if not lines:
        st.info("No verdict yet: the ablation has not finished; run the same command again.")
    for line in lines:
        st.markdown(f"- {line}")


def recipes(record: dict[str, Any]) -> None:
    """Each recipe's dataset (a link), whether it was reused, its size and its runs."""
    datasets = record.get("datasets") or {}
    cols = st.columns(max(1, len(record["arms"])))
    for col, arm in zip(cols, record["arms"], strict=False):
        with col:
            st.markdown(f"**{arm['name']}**")
            entry = datasets.get(arm["name"]) or {}
            if entry:
                link("datasets", entry["dataset"], dataset=entry["dataset"])
                size = f"{entry['kept']:,} documents"
                st.caption(f"{size} · {'reused' if entry['reused'] else 'curated now'}")
            for name, unit in record["units"].items():
                if unit["arm"] == arm["name"]:
                    link("runs", f"run {name}", run=name)
                    for output in unit.get("evals", []):
                        link("evals", f"eval {output}", runs=output)


def metrics(folder: Path) -> None:
    """A metric chosen from the scores: every seed's value per recipe, and the differences."""
    scores = pl.read_parquet(folder / "scores.parquet")
    keys = scores.select("task", "metric").unique(maintain_order=True).rows()
    labels = [f"{task} {metric}" for task, metric in keys]
    picked = st.selectbox("Metric", labels, key="ablation-metric")
    task, metric = keys[labels.index(picked)]
    chosen = scores.filter((pl.col("task") == task) & (pl.col("metric") == metric))
    st.altair_chart(charts.seed_spread(chosen, metric), width="stretch")
    paired = pl.read_parquet(folder / "differences.parquet")
    st.dataframe(
        paired.filter((pl.col("task") == task) & (pl.col("metric") == metric)),
        hide_index=True,
        key="ablation-differences",
    )


def losses(ws: Workspace, record: dict[str, Any]) -> None:
    """Every run's logged training loss, a colour per recipe."""
    points = [
        {
            "arm": unit["arm"],
            "seed": unit["seed"],
            "run": name,
            "step": row["step"],
            "loss": row["loss"],
        }
        for name, unit in record["units"].items()
        for row in read_metrics(ws.root / "runs" / name / "metrics.jsonl")
        if row.get("loss") is not None and "step" in row
    ]
    if points:
        st.markdown("**Training loss** (each recipe's own text, so not comparable across recipes)")
        st.altair_chart(charts.loss_by_run(pl.DataFrame(points)), width="stretch")


def render() -> None:
    """The page."""
    st.title("Ablations")
    ws = workspace()
    folders = ablation_folders(ws)
    if not folders:
        st.info(
            "No ablations in this workspace yet: `winnow ablate --source FILE --recipe unfiltered "
            "--recipe web-en --reference DATASET --output NAME`."
        )
        return
    name = choice(st.selectbox, "Ablation", list(folders), "ablation", "ablation")
    folder = folders[name]
    record = read_json(folder / "ablation.json")
    with shown_errors(f"ablation {name}"):
        header(record)
        verdict(record)
        recipes(record)
        if (folder / "scores.parquet").is_file():
            metrics(folder)
        losses(ws, record)


if __name__ == "__main__":
    render()
