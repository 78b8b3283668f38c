"""Runs page: one training or eval run at its own address (`?run=NAME`), with the links that
walk its lineage both ways: the datasets it read and the run it started from, the runs that
started from it and the evals of its model; then its results, loss curve and config."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from winnow.dashboard import charts, lineage
from winnow.dashboard.common import link, shown_errors, workspace
from winnow.dashboard.url_state import choice
from winnow.train.runs import read_metrics
from winnow.workspace import Workspace


def header(record: dict[str, Any]) -> None:
    """Method, status, times and device; the error of a failed run."""
    cols = st.columns(3)
    cols[0].metric("method", record.get("method") or "?")
    cols[1].metric("status", record.get("status") or "?")
    device = record.get("device") or {}
    cols[2].metric("device", f"{device.get('count', 1)} × {device.get('name') or '?'}")
    st.caption(f"created {record.get('created_at')} · finished {record.get('finished_at') or '-'}")
    if record.get("error"):
        st.error(f"failed: {record['error']}")


def base_link(base: dict[str, Any]) -> None:
    """The run a model started from as a link, or what else it was (tiny, hub, folder)."""
    parent = (base.get("run") or {}).get("name")
    if parent:
        link("runs", f"run {parent}", run=parent)
    else:
        st.caption(f"{base.get('kind') or '?'} {base.get('ref') or base.get('path') or ''}")


def training_lineage(records: dict[str, dict[str, Any]], name: str) -> None:
    """Datasets and base run upstream; runs and evals downstream."""
    record = records[name]
    inputs, base, later, evals = st.columns(4)
    with inputs:
        st.markdown("**Trained on**")
        for entry in record.get("inputs") or []:
            link("datasets", entry["ref"], dataset=entry["ref"])
            if entry.get("rows") is not None:
                st.caption(f"{entry['rows']:,} rows · {entry.get('kind') or ''}")
    with base:
        st.markdown("**Started from**")
        base_link(record.get("base") or {})
    with later:
        st.markdown("**Runs started from it**")
        for child in lineage.runs_from(records, name):
            link("runs", f"run {child}", run=child)
    with evals:
        st.markdown("**Evaluated by**")
        scored = lineage.evals_of(records, name)
        for eval_name in scored:
            link("evals", f"eval {eval_name}", runs=eval_name)
        if len(scored) > 1:
            link("evals", "compare them all", runs=",".join(scored))
        if not scored:
            st.caption(f"no eval yet: `winnow evaluate --model {name} --suite core`")


def results(ws: Workspace, name: str, record: dict[str, Any]) -> None:
    """The recorded results as numbers, and the logged loss against step."""
    numbers = {k: v for k, v in (record.get("results") or {}).items() if isinstance(v, int | float)}
    if numbers:
        cols = st.columns(min(len(numbers), 5))
        for i, (key, value) in enumerate(numbers.items()):
            cols[i % len(cols)].metric(key, f"{value:.4g}")
    logged = read_metrics(ws.root / "runs" / name / "metrics.jsonl")
    points = [
        {"step": row["step"], "series": key, "loss": row[key]}
        for row in logged
        for key in ("loss", "eval_loss")
        if row.get(key) is not None and "step" in row
    ]
    if points:
        frame = pl.DataFrame(points)
        last = frame.filter(pl.col("series") == "loss").tail(1).to_dicts()
        st.markdown(
            f"**Loss** over {frame['step'].max():,} steps"
            + (f", last training loss {last[0]['loss']:.4g}" if last else "")
        )
        st.altair_chart(charts.loss(frame), width="stretch")
    elif not numbers:
        st.info("No results or logged loss yet.")


def settings(record: dict[str, Any]) -> None:
    """The run's config, data and model facts as key-value tables."""
    for title, part in (("Config", "config"), ("Data", "data"), ("Model", "model")):
        values = record.get(part) or {}
        if values:
            st.markdown(f"**{title}**")
            rows = [{"key": k, "value": str(v)} for k, v in values.items()]
            st.dataframe(pl.DataFrame(rows), hide_index=True, key=f"{part}-table")


def eval_run(records: dict[str, dict[str, Any]], name: str) -> None:
    """An eval run: the model it scored (and that model's run), the datasets behind it, and
    the way to its scores on the Evals page."""
    record = records[name]
    model = record.get("model") or {}
    link("evals", f"Scores, flips and contamination of {name} on the Evals page", runs=name)
    scored, trained = st.columns(2)
    with scored:
        st.markdown("**Scored the model of**")
        run = lineage.model_run(record)
        if run:
            link("runs", f"run {run}", run=run)
        else:
            st.caption(f"{model.get('kind') or '?'} {model.get('ref') or model.get('path') or ''}")
    with trained:
        st.markdown("**Trained, through its bases, on**")
        for ref in lineage.training_datasets(record):
            link("datasets", ref, dataset=ref)
    tasks = record.get("tasks") or {}
    if tasks:
        st.caption(f"tasks: {', '.join(tasks)}")


def render() -> None:
    """The page."""
    st.title("Runs")
    ws = workspace()
    records = lineage.run_records(ws)
    if not records:
        st.info(
            "No runs in this workspace yet: `winnow train pretrain --data DATASET --output NAME`."
        )
        return
    name = choice(st.selectbox, "Run", list(records), "run", "run")
    record = records[name]
    with shown_errors(f"run {name}"):
        header(record)
        if record.get("method") == "evaluate":
            eval_run(records, name)
            return
        training_lineage(records, name)
        results(ws, name, record)
        settings(record)


if __name__ == "__main__":
    render()
