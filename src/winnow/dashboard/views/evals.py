"""Evals page: eval runs side by side (table, bars with error bars, deltas), hallucination
scores, the documents that flipped, contamination flags, each model's lineage back to its
training datasets, and the loss curves of training runs."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from winnow.dashboard import lineage
from winnow.dashboard.common import link, shown_errors, workspace
from winnow.evals.compare import (
    ALPHA,
    CORRECTIONS,
    RESAMPLES,
    EvalRun,
    delta_table,
    differences,
    flipped,
    flips,
    load_eval_run,
)
from winnow.train.runs import read_metrics
from winnow.workspace import Workspace

HALLUCINATION = ("halueval", "truthfulqa")  # task names of the hallucination suites


def eval_run_names(ws: Workspace) -> tuple[list[str], list[str]]:
    """Completed eval runs and training runs, by name."""
    records = lineage.run_records(ws)
    evals = [n for n, r in records.items() if r.get("method") == "evaluate"]
    done = [n for n in evals if records[n].get("status") == "completed"]
    training = [n for n, r in records.items() if r.get("method") != "evaluate"]
    return done, training


def loaded(ws: Workspace, names: list[str]) -> list[EvalRun]:
    """The chosen runs that load; each one that does not gets its own message."""
    runs = []
    for name in names:
        with shown_errors(f"eval run {name}"):
            runs.append(load_eval_run(ws, name))
    return runs


def score_chart(runs: list[EvalRun], metric: str) -> None:
    """One bar per task and run with a ±stderr error bar."""
    frame = pl.concat(
        [
            r.scores.filter(pl.col("metric") == metric).with_columns(pl.lit(r.name).alias("run"))
            for r in runs
        ],
        how="diagonal_relaxed",
    ).with_columns(
        (pl.col("value") - pl.col("stderr").fill_null(0)).alias("low"),
        (pl.col("value") + pl.col("stderr").fill_null(0)).alias("high"),
    )
    if not frame.height:
        st.info(f"No task reports {metric}.")
        return
    base = alt.Chart(frame).encode(x=alt.X("alias:N", title="task"), xOffset="run:N")
    bars = base.mark_bar().encode(
        y=alt.Y("value:Q", title=metric), color="run:N", tooltip=["run", "alias", "value", "stderr"]
    )
    errors = base.mark_rule().encode(y="low:Q", y2="high:Q")
    st.altair_chart(bars + errors, width="stretch")


def comparison(runs: list[EvalRun]) -> None:
    """Warnings, the delta table, the chart, hallucination scores and contamination flags."""
    for line in differences(runs):
        st.warning(f"differs: {line}")
    left, right = st.columns(2)
    alpha = left.number_input(
        "Significance level (alpha)", 0.001, 0.5, ALPHA, step=0.01, format="%.3f", key="alpha"
    )
    correction = right.selectbox(
        "Correction across tasks and metrics", CORRECTIONS, index=0, key="correction"
    )
    table = delta_table(runs, alpha, correction)
    adjusted = "after Holm's correction across the table" if correction == "holm" else "alone"
    st.markdown(
        f"**Scores**: each delta is tested on the documents both runs scored, McNemar's exact "
        f"test for 0/1 metrics and a paired bootstrap ({RESAMPLES:,} resamples) otherwise; "
        f"`low`/`high` bound its {100 * (1 - alpha):g}% paired-bootstrap interval, "
        f"`significant`: `p_adjusted` ({adjusted}) below {alpha:g}"
    )
    st.dataframe(table, hide_index=True)
    metrics = sorted(set(table["metric"].to_list()))
    metric = st.selectbox(
        "Metric to chart", metrics, index=metrics.index("acc") if "acc" in metrics else 0
    )
    score_chart(runs, metric)
    halluc = table.filter(pl.col("task").str.contains("|".join(HALLUCINATION)))
    if halluc.height:
        st.markdown("**Hallucination** (HaluEval: judgment accuracy, unparseable rate; TruthfulQA)")
        st.dataframe(halluc, hide_index=True)
    flagged = table.filter(pl.col("contaminated"))
    if flagged.height:
        tasks = ", ".join(sorted(set(flagged["task"].to_list())))
        st.error(f"contaminated: {tasks} share 13-grams with the models' training data")


def contamination(run: EvalRun) -> None:
    """The run's contamination report: datasets checked and documents per eval set."""
    report = run.record.get("contamination") or {}
    checked = report.get("checked") or []
    if not checked:
        st.caption(f"{run.name}: no training lineage in this workspace; contamination not checked")
        return
    rows = [
        {
            "eval set": name,
            "training documents": entry["documents"],
            "by dataset": str(entry["datasets"]),
        }
        for name, entry in report.get("eval_sets", {}).items()
    ]
    st.caption(f"{run.name}: checked {', '.join(checked)} with {report.get('n')}-grams")
    st.dataframe(pl.DataFrame(rows), hide_index=True)


def model_lineage(run: EvalRun) -> None:
    """The model, the runs it came from, and their datasets as links into the Datasets page."""
    model = run.record.get("model") or {}
    st.markdown(
        f"**{run.name}** scored `{model.get('ref') or model.get('path')}` ({model.get('kind')})"
    )
    for step in lineage.model_chain(run.record):
        st.write(f"← run {step['run']} ({step['method']}) trained on:")
        for ref in step["datasets"]:
            link("datasets", ref, dataset=ref)


def flipped_view(runs: list[EvalRun]) -> None:
    """Counts of flips per task and 0/1 metric, and the flipped documents of one of them."""
    counts = flips(runs)
    if not counts.height:
        st.info("No documents scored right/wrong in two of these runs.")
        return
    st.dataframe(counts, hide_index=True)
    other = st.selectbox("Against", [r.name for r in runs[1:]], key="flip-run")
    mine = counts.filter(pl.col("run") == other)
    tasks = list(dict.fromkeys(mine["task"].to_list()))
    task = st.selectbox("Task", tasks, key="flip-task")
    metrics = mine.filter(pl.col("task") == task).select("metric", "filter").rows()
    choice = st.selectbox(
        "Metric",
        metrics,
        format_func=lambda m: m[0] if m[1] in (None, "none") else f"{m[0]} ({m[1]})",
        key="flip-metric",
    )
    chosen = next(r for r in runs if r.name == other)
    if task and choice:
        st.dataframe(flipped(runs[0], chosen, task, *choice), hide_index=True)


def loss_curves(ws: Workspace, training: list[str]) -> None:
    """Training loss (and eval loss when logged) against step, one line per run."""
    chosen = st.multiselect("Training runs", training, default=training[:3], key="loss-runs")
    rows = [
        {"run": name, "step": row["step"], "series": key, "loss": row[key]}
        for name in chosen
        for row in read_metrics(ws.root / "runs" / name / "metrics.jsonl")
        for key in ("loss", "eval_loss")
        if key in row
    ]
    if not rows:
        st.info("No logged loss in the chosen runs.")
        return
    chart = (
        alt.Chart(pl.DataFrame(rows))
        .mark_line(point=True)
        .encode(
            x="step:Q",
            y="loss:Q",
            color="run:N",
            strokeDash="series:N",
            tooltip=["run", "step", "loss"],
        )
    )
    st.altair_chart(chart, width="stretch")


def render() -> None:
    """The page."""
    st.title("Evals")
    ws = workspace()
    evals, training = eval_run_names(ws)
    scores, flipped_tab, provenance, curves = st.tabs(
        ["Scores", "Flips", "Lineage and contamination", "Loss curves"]
    )
    with scores:
        if not evals:
            st.info("No eval runs yet: `winnow evaluate --model RUN --suite core`.")
        wanted = [r for r in st.query_params.get_all("run") if r in evals]
        names = st.multiselect(
            "Eval runs (the first is the baseline)", evals, default=wanted or evals[:2], key="runs"
        )
        runs = loaded(ws, names)
        if runs:
            with shown_errors("the comparison"):
                comparison(runs)
    with flipped_tab:
        if len(runs) > 1:
            with shown_errors("the flips"):
                flipped_view(runs)
        else:
            st.info("Choose two eval runs or more to see flipped documents.")
    with provenance:
        for run in runs:
            with shown_errors(f"{run.name}'s lineage"):
                model_lineage(run)
                contamination(run)
    with curves, shown_errors("the loss curves"):
        loss_curves(ws, training)


if __name__ == "__main__":
    render()
