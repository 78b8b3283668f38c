"""Home page: what the workspace holds, with a link into each page, so every other page keeps
its own address (Streamlit serves the default page at the root)."""

from __future__ import annotations

import streamlit as st

from winnow.dashboard import lineage
from winnow.dashboard.common import dataset_refs, link, shown_errors, workspace


def render() -> None:
    """The page."""
    st.title("Winnow")
    ws = workspace()
    st.caption(f"workspace {ws.root}")
    with shown_errors("the workspace"):
        runs = lineage.run_records(ws)
        evals = [n for n, r in runs.items() if r.get("method") == "evaluate"]
        jobs = list((ws.root / "jobs").glob("*/job.json"))
        labels = list((ws.root / "labels").glob("*/*/*"))
        cols = st.columns(5)
        cols[0].metric("dataset versions", len(dataset_refs(ws)))
        cols[1].metric("training runs", len(runs) - len(evals))
        cols[2].metric("eval runs", len(evals))
        cols[3].metric("label projects", len(labels))
        cols[4].metric("jobs", len(jobs))
    link("datasets", "Datasets: versions, lineage, rows, search")
    link("runs", "Runs: each training and eval run, its datasets, base, evals and loss")
    link("label", "Label: quality, ratings, pairwise; agreement; export")
    link("jobs", "Jobs: start and follow curation, training and eval jobs")
    link("evals", "Evals: compare models, flips, contamination, loss curves")
    link("ablations", "Ablations: which recipe made the better model, over seeds")
    if not dataset_refs(ws):
        st.info("This workspace is empty: `winnow demo -w WORKSPACE` fills it with the whole loop.")


if __name__ == "__main__":
    render()
