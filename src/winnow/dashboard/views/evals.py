"""Evals page: eval runs side by side (one row per compared run, task and metric, narrow enough
that delta and significance stay in view; bars with error bars), hallucination scores, the
documents that flipped with their question and answers in words, contamination flags, each
model's lineage back to its training datasets, and the loss curves of training runs. The runs
come from `?runs=A,B` and go back into the URL, so other pages can link to a comparison."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from winnow.dashboard import lineage
from winnow.dashboard.answers import worded
from winnow.dashboard.common import link, shown_errors, workspace
from winnow.evals.compare import (
    ALPHA,
    CORRECTIONS,
    RESAMPLES,
    EvalRun,
    best_run,
    delta_table,
    differences,
    flipped,
    flips,
    higher_is_better,
    load_eval_run,
    subset_note,
)
from winnow.train.runs import read_metrics
from winnow.workspace import Workspace

HALLUCINATION = ("halueval", "truthfulqa")  # task names of the hallucination suites

COUNT_AXIS = {"tickMinStep": 1, "format": "d"}  # an axis of counts: whole-number ticks only

LOSSES = {"loss": "training loss", "eval_loss": "eval loss"}  # logged key -> its own chart


def eval_run_names(ws: Workspace) -> tuple[list[str], list[str]]:
    """Completed eval runs (oldest first, so the first is the natural baseline) and training
    runs, by name."""
    records = lineage.run_records(ws)
    evals = [n for n, r in records.items() if r.get("method") == "evaluate"]
    done = [n for n in evals if records[n].get("status") == "completed"]
    done.sort(key=lambda n: (str(records[n].get("created_at") or ""), n))
    training = [n for n, r in records.items() if r.get("method") != "evaluate"]
    return done, training


def linked_runs(evals: list[str]) -> list[str]:
    """Eval runs named by the URL (`runs=A,B`, or repeated `run=`), in its order; unknown
    names are dropped."""
    named = [n for value in st.query_params.get_all("runs") for n in value.split(",")]
    named += st.query_params.get_all("run")
    return [n for n in dict.fromkeys(n.strip() for n in named) if n in evals]


def chosen_runs(evals: list[str]) -> list[str]:
    """The runs to compare: the URL's, else every completed eval run (a team compares what
    it ran; leaving runs out by default hid them), written back to the URL."""
    names = st.multiselect(
        "Eval runs (the first is the baseline)",
        evals,
        default=linked_runs(evals) or evals,
        key="runs",
    )
    if names:
        st.query_params["runs"] = ",".join(names)
    elif "runs" in st.query_params:
        del st.query_params["runs"]
    if "run" in st.query_params:
        del st.query_params["run"]
    return names


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
        y=alt.Y("value:Q", title=f"{metric} (mean over documents, ± stderr)"),
        color=alt.Color("run:N", title="eval run"),
        tooltip=["run", "alias", "value", "stderr"],
    )
    errors = base.mark_rule().encode(y="low:Q", y2="high:Q")
    st.altair_chart(bars + errors, width="stretch")


def metric_label() -> pl.Expr:
    """The metric, with its filter when there is one."""
    filt = pl.col("filter").fill_null("none")
    return (
        pl.when(filt == "none")
        .then(pl.col("metric"))
        .otherwise(pl.format("{} ({})", pl.col("metric"), filt))
        .alias("metric")
    )


def compact(table: pl.DataFrame, runs: list[EvalRun]) -> pl.DataFrame:
    """One row per later run, task and metric: baseline and run scores, the delta, its
    corrected p-value and verdict; a lone run gets its scores and stderr."""
    first = runs[0].name
    if len(runs) == 1:
        return table.select(
            pl.col("alias").alias("task"),
            metric_label(),
            pl.col(f"value:{first}").alias("score"),
            pl.col(f"stderr:{first}").alias("stderr"),
        )
    parts = [
        table.select(
            pl.col("alias").alias("task"),
            metric_label(),
            pl.lit(run.name).alias("run"),
            pl.col(f"value:{first}").alias("baseline"),
            pl.col(f"value:{run.name}").alias("score"),
            pl.col(f"delta:{run.name}").alias("delta"),
            pl.col(f"p_adjusted:{run.name}").alias("p"),
            pl.col(f"significant:{run.name}").alias("significant"),
        )
        for run in runs[1:]
    ]
    return pl.concat(parts)


def columns(first: str) -> dict[str, st.column_config.Column]:
    """Widths and formats that keep the compact table within a 1400 px window."""
    number = st.column_config.NumberColumn
    return {
        "task": st.column_config.TextColumn("task", width=190),
        "metric": st.column_config.TextColumn("metric", width=110),
        "run": st.column_config.TextColumn("run", width=150),
        "baseline": number(f"baseline ({first})", format="%.4f", width=90),
        "score": number("score", format="%.4f", width=80),
        "stderr": number("stderr", format="%.4f", width=80),
        "delta": number("delta", format="%+.4f", width=80),
        "p": number("p (adjusted)", format="%.4f", width=90),
        "significant": st.column_config.CheckboxColumn("significant", width=90),
    }


def comparison(runs: list[EvalRun]) -> None:
    """Warnings, the compact delta table (full table on demand), the chart, hallucination
    scores and contamination flags."""
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
    if note := subset_note(runs):
        st.warning(note)
    adjusted = "after Holm's correction across the table" if correction == "holm" else "alone"
    st.markdown(
        f"**Scores** against the baseline **{runs[0].name}**: each delta is tested on the "
        f"documents both runs scored, McNemar's exact test for 0/1 metrics and a paired "
        f"bootstrap ({RESAMPLES:,} resamples) otherwise; `p (adjusted)` is the p-value "
        f"{adjusted}, `significant` when it is below {alpha:g}"
    )
    st.dataframe(compact(table, runs), hide_index=True, column_config=columns(runs[0].name))
    if len(runs) > 1:
        better = higher_is_better(runs[0])
        best = table.select(pl.col("alias").alias("task"), metric_label()).with_columns(
            pl.Series("best run", [best_run(r, runs, better) for r in table.iter_rows(named=True)])
        )
        st.markdown("**Best run** per task and metric (`tie` when several share the best value)")
        st.dataframe(best.filter(pl.col("best run") != ""), hide_index=True)
    with st.expander("Every column: stderr, the tests, documents, intervals, contamination"):
        st.caption(f"`low`/`high`: the {100 * (1 - alpha):g}% paired-bootstrap interval")
        st.dataframe(table, hide_index=True)
    metrics = sorted(set(table["metric"].to_list()))
    metric = st.selectbox(
        "Metric to chart", metrics, index=metrics.index("acc") if "acc" in metrics else 0
    )
    score_chart(runs, metric)
    halluc = table.filter(pl.col("task").str.contains("|".join(HALLUCINATION)))
    if halluc.height:
        st.markdown(
            "**Hallucination** (HaluEval: judgment accuracy, unparseable rate, and the Yes/No "
            "balance: `answered_yes` against `truth_yes`; a model answering one way only scores "
            "max(truth_yes, 1 - truth_yes); TruthfulQA)"
        )
        st.dataframe(compact(halluc, runs), hide_index=True, column_config=columns(runs[0].name))
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


def flip_chart(counts: pl.DataFrame) -> None:
    """Documents gained and lost per task against the baseline, in whole numbers."""
    frame = counts.unpivot(
        ["gained", "lost"], index=["run", "task", "metric"], variable_name="change"
    ).rename({"value": "documents"})
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("task:N", title="task"),
            xOffset="change:N",
            y=alt.Y("sum(documents):Q", title="documents flipped", axis=alt.Axis(**COUNT_AXIS)),
            color=alt.Color("change:N", title="against the baseline"),
            tooltip=["run", "task", "metric", "change", "documents"],
        )
    )
    st.altair_chart(chart, width="stretch")


def flipped_view(runs: list[EvalRun]) -> None:
    """Counts of flips per task and 0/1 metric, and the flipped documents of one of them with
    the question, the right answer and each run's answer in words."""
    counts = flips(runs)
    if not counts.height:
        st.info("No documents scored right/wrong in two of these runs.")
        return
    st.dataframe(counts, hide_index=True)
    other = st.selectbox("Against", [r.name for r in runs[1:]], key="flip-run")
    mine = counts.filter(pl.col("run") == other)
    flip_chart(mine)
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
        docs = worded(flipped(runs[0], chosen, task, *choice), runs[0], chosen, task, choice[0])
        st.dataframe(docs.drop("doc_hash"), hide_index=True)
        document(docs, runs[0].name, other)


def document(docs: pl.DataFrame, first: str, other: str) -> None:
    """One flipped document in full: the question, each choice marked with who chose it."""
    if not docs.height:
        return
    ids = docs["doc_id"].to_list()
    picked = st.selectbox("Document", ids, key="flip-doc")
    row = docs.row(ids.index(picked), named=True)
    st.markdown(f"**Document {picked}** ({row['change']})")
    st.text(row["question"])
    said = {
        "right answer": row["answer"],
        f"{first} chose": row[f"{first} chose"],
        f"{other} chose": row[f"{other} chose"],
    }
    for option in row["choices"] or list(dict.fromkeys(said.values())):
        who = [mark for mark, text in said.items() if text == option]
        st.markdown(f"- {option}" + (f" — *{', '.join(who)}*" if who else ""))


def loss_frame(ws: Workspace, chosen: list[str]) -> pl.DataFrame:
    """Every logged loss of the chosen runs: run, step, kind of loss, value."""
    rows = [
        {"run": name, "step": row["step"], "kind": label, "loss": float(row[key])}
        for name in chosen
        for row in read_metrics(ws.root / "runs" / name / "metrics.jsonl")
        for key, label in LOSSES.items()
        if row.get(key) is not None and "step" in row
    ]
    schema = {"run": pl.Utf8, "step": pl.Int64, "kind": pl.Utf8, "loss": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def loss_curves(ws: Workspace, training: list[str]) -> None:
    """Loss against step, one line per run (in the legend), one chart with its own scale per
    kind of loss (training loss and eval loss differ in size and frequency)."""
    chosen = st.multiselect("Training runs", training, default=training[:3], key="loss-runs")
    frame = loss_frame(ws, chosen)
    if not frame.height:
        st.info("No logged loss in the chosen runs.")
        return
    for kind in [k for k in LOSSES.values() if k in set(frame["kind"].to_list())]:
        chart = (
            alt.Chart(frame.filter(pl.col("kind") == kind), title=kind)
            .mark_line(point=True)
            .encode(
                x=alt.X("step:Q", title="training step", axis=alt.Axis(**COUNT_AXIS)),
                y=alt.Y("loss:Q", title=f"{kind} (as the trainer logged it)"),
                color=alt.Color("run:N", title="training run", legend=alt.Legend(orient="top")),
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
        runs = loaded(ws, chosen_runs(evals))
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
