"""`winnow evaluate`: score models with lm-eval on local task files, list the catalog, and
compare eval runs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from winnow.commands.options import WorkspaceOption, new_table
from winnow.console import console
from winnow.errors import WinnowError

app = typer.Typer(
    help="Evaluate models with lm-eval (local task files, offline) and compare eval runs. The "
    "options, model path, run name, tasks, eval data and --perplexity set are checked first: a "
    "mistake is one line and leaves no run folder.\n\n"
    "Example: winnow evaluate --model demo-sft --suite hallucination --limit 50",
    invoke_without_command=True,
)


@app.callback()
def evaluate(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Option(
            help="A run name, a model folder, a .gguf file (converted once into a folder in "
            "$WINNOW_CACHE/gguf, loaded from there after) or a hub id (cached or online).",
            show_default=False,
        ),
    ] = None,
    suite: Annotated[
        str | None,
        typer.Option(
            help="A suite of catalogs/evals/lm_eval: core, hallucination or hallucination_gen.",
            show_default=False,
        ),
    ] = None,
    tasks: Annotated[
        str | None,
        typer.Option(
            help="lm-eval task or group names, comma-separated (winnow_arc_easy, mmlu...).",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        float | None,
        typer.Option(
            help="Documents per task (a number) or a fraction under 1.", show_default=False
        ),
    ] = None,
    num_fewshot: Annotated[
        int | None,
        typer.Option(
            help="Few-shot examples per prompt (tasks that pin 0 keep 0).", show_default=False
        ),
    ] = None,
    apply_chat_template: Annotated[
        bool, typer.Option(help="Wrap prompts in the model's chat template.")
    ] = False,
    batch_size: Annotated[str, typer.Option(help="A number, auto or auto:N.")] = "8",
    backend: Annotated[
        str,
        typer.Option(
            help="winnow: lm-eval's HF model computing each shared context once (same "
            "scores, faster); hf: lm-eval's own HF model; vllm: lm-eval's vLLM model (GPU, "
            "pip install vllm)."
        ),
    ] = "winnow",
    include_path: Annotated[
        list[str] | None,
        typer.Option(
            help="A folder of your own lm-eval task YAMLs (repeatable).", show_default=False
        ),
    ] = None,
    perplexity: Annotated[
        str | None,
        typer.Option(
            help="Dataset NAME or NAME@vN: add perplexity on its held-out split (the one the "
            "model's own pretraining held out, else a fixed 5%).",
            show_default=False,
        ),
    ] = None,
    perplexity_all: Annotated[
        bool,
        typer.Option(
            help="With --perplexity on text the model never trained on: score every document "
            "instead of 5% (reference text for ablations)."
        ),
    ] = False,
    output: Annotated[
        str | None,
        typer.Option(help="Eval run name (default eval-MODEL-SUITE).", show_default=False),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Run lm-eval on MODEL and write an eval run: lm-eval's results and samples, scores.parquet
    (queryable as eval_scores in 'winnow data sql') and what makes the scores comparable. The
    options, model path, run name, task names, eval data files and --perplexity set are checked
    first: a mistake is one line and leaves no run folder.

    Example: winnow evaluate --model demo-sft --suite hallucination --limit 50
    """
    if ctx.invoked_subcommand is not None:
        return
    if model is None:
        raise WinnowError(
            "winnow evaluate needs --model (a run, folder, .gguf file or hub id); see --help."
        )
    from winnow.evals.run import EvalOptions
    from winnow.evals.run import evaluate as run_eval
    from winnow.workspace import Workspace

    opts = EvalOptions(
        model=model,
        suite=suite,
        tasks=tasks,
        limit=limit,
        num_fewshot=num_fewshot,
        apply_chat_template=apply_chat_template,
        batch_size=batch_size,
        backend=backend,
        include_paths=list(include_path or []),
        perplexity=perplexity,
        perplexity_all=perplexity_all,
        output=output,
    )
    ws = Workspace.resolve(workspace)
    if batch_size.startswith("auto") and not torch_cuda():
        console.print(
            "note: on the CPU, lm-eval finds the auto batch size by running a full-length batch "
            "of up to 64, which can take minutes and many GB; a number is usually faster."
        )
    run = run_eval(ws, opts)
    print_scores(run.record)


def torch_cuda() -> bool:
    """Whether lm-eval will run on a GPU."""
    import torch

    return torch.cuda.is_available()


def print_scores(record: dict) -> None:
    """The eval run's scores, contamination flags and where its files are."""
    limit = record["settings"].get("limit")
    subset = "" if limit is None else f" (a subset: --limit {limit:g} per task)"
    table = new_table(
        f"eval run {record['name']}: {record['model']['ref']}{escape(subset)}",
        "task",
        "metric",
        "value",
        "± stderr",
        "n",
        "flag",
    )
    truth = {r["task"]: r["value"] for r in record["results"] if r["metric"] == "truth_yes"}
    for row in record["results"]:
        value = "" if row["value"] is None else f"{row['value']:.4f}"
        err = "" if row["stderr"] is None else f"{row['stderr']:.4f}"
        flags = ["contaminated"] if row["contaminated"] else []
        if row["metric"] == "acc" and truth.get(row["task"]) is not None:
            share = truth[row["task"]]
            flags.append(f"answering one way only scores {max(share, 1 - share):.4f}")
        flag = "; ".join(flags)
        table.add_row(
            escape(row["alias"]), row["metric"], value, err, str(row["samples"] or ""), flag
        )
    console.print(table)
    checked = record["contamination"]["checked"]
    if checked:
        console.print(
            escape(
                f"contamination checked against {', '.join(checked)}: "
                + (", ".join(record["contamination"]["flagged_tasks"]) or "no task flagged")
            )
        )
    else:
        console.print(
            "contamination: the model has no training lineage in this workspace; not checked"
        )


COMPARE_HELP = (
    "Scores of eval runs side by side: deltas from the first run, each tested on the documents "
    "both runs scored (joined on lm-eval's doc hash), per-document flips of every 0/1 metric, "
    "and a warning (or, with --strict, a refusal) when settings, chat template, task versions "
    "or lm-eval versions differ.\n\n"
    "The test is paired: McNemar's exact test (two-sided binomial on the documents right in one "
    "run and wrong in the other) for 0/1 metrics such as acc, acc_norm or exact_match, a paired "
    "bootstrap (10,000 resamples of whole documents, seed 0) for other metrics. The interval is "
    "the paired bootstrap's percentile interval of the delta, 95% by default (1 - alpha), for "
    "0/1 metrics too. A delta is marked * when its p-value, after Holm's correction across "
    "every task, metric and run in the table, is below --alpha (0.05 by default). Holm is the "
    "default because a suite tests dozens of deltas at once and at 5% each some would pass by "
    "chance; --correction none tests each delta alone.\n\n"
    "Example: winnow evaluate compare eval-demo-base eval-demo-sft eval-demo-dpo --alpha 0.01"
)
"""Help of `winnow evaluate compare`: one line per paragraph, as Typer keeps line breaks."""


@app.command(help=COMPARE_HELP)
def compare(
    runs: Annotated[list[str], typer.Argument(help="Eval run names; the first is the reference.")],
    strict: Annotated[bool, typer.Option(help="Refuse when settings differ.")] = False,
    alpha: Annotated[
        float,
        typer.Option(
            help="Significance level of each verdict; the intervals are (1 - alpha) intervals."
        ),
    ] = 0.05,
    correction: Annotated[
        str,
        typer.Option(
            help="Correction for testing every task and metric at once: holm (Holm's step-down, "
            "family-wise error at most alpha across the table) or none (each delta alone)."
        ),
    ] = "holm",
    workspace: WorkspaceOption = None,
) -> None:
    """Eval runs side by side with paired tests of their deltas; the help is COMPARE_HELP."""
    import polars as pl

    from winnow.evals.compare import (
        DESCRIPTIVE,
        RESAMPLES,
        SEED,
        best_run,
        check_options,
        delta_table,
        differences,
        flips,
        higher_is_better,
        load_eval_run,
        subset_label,
        subset_note,
        version_note,
    )
    from winnow.workspace import Workspace

    if len(runs) < 2:
        raise WinnowError("winnow evaluate compare needs two eval runs or more.")
    check_options(alpha, correction)
    ws = Workspace.resolve(workspace)
    loaded = [load_eval_run(ws, name) for name in runs]
    diffs = differences(loaded) + [n for r in loaded if (n := version_note(r))]
    if diffs and strict:
        raise WinnowError(
            f"--strict: the runs are not comparable ({diffs[0]}; {len(diffs)} differences in all)."
        )
    table = delta_table(loaded, alpha, correction)
    flipped = flips(loaded)
    for line in diffs:
        console.print(f"[yellow]differs:[/] {escape(line)}")
    first = loaded[0].name
    better = higher_is_better(loaded[0])
    level = f"{100 * (1 - alpha):g}%"
    view = new_table(
        "scores",
        "task",
        "metric",
        escape(subset_label(loaded[0])),
        *[escape(f"{subset_label(r)} (delta)") for r in loaded[1:]],
        "best",
        "flag",
    )
    for row in table.iter_rows(named=True):
        cells = [fmt(row[f"value:{first}"], row[f"stderr:{first}"])]
        for run in loaded[1:]:
            delta = row[f"delta:{run.name}"]
            mark = "*" if row[f"significant:{run.name}"] else ""
            shown = "" if delta is None else f" ({delta:+.4f}{mark})"
            cells.append(fmt(row[f"value:{run.name}"], row[f"stderr:{run.name}"]) + shown)
        view.add_row(
            escape(row["alias"]),
            row["metric"],
            *cells,
            escape(best_run(row, loaded, better)),
            "contaminated" if row["contaminated"] else "",
        )
    console.print(view)
    if note := subset_note(loaded):
        console.print(escape(note))
    tested = sum(table[f"p:{r.name}"].drop_nulls().len() for r in loaded[1:])
    adjust = "p after Holm's correction" if correction == "holm" else "p, uncorrected,"
    console.print(
        f"* {adjust} below {alpha:g} across {tested} paired tests: McNemar's exact test for 0/1 "
        f"metrics, a paired bootstrap ({RESAMPLES:,} resamples, seed {SEED}) otherwise; "
        f"intervals: {level} paired-bootstrap percentile intervals of the delta"
    )
    for run in loaded[1:]:
        paired = new_table(
            f"{run.name} vs {first}: paired tests on the documents both scored",
            "task",
            "metric",
            "test",
            "docs",
            f"delta [{level} interval]",
            "p",
            *(["p (holm)"] if correction == "holm" else []),
            "*",
        )
        for row in table.iter_rows(named=True):
            if row[f"test:{run.name}"] is None:
                continue
            delta = row[f"delta:{run.name}"]
            interval = f"[{row[f'low:{run.name}']:+.3f}, {row[f'high:{run.name}']:+.3f}]"
            paired.add_row(
                escape(row["alias"]),
                row["metric"],
                row[f"test:{run.name}"],
                str(row[f"documents:{run.name}"]),
                ("" if delta is None else f"{delta:+.3f} ") + interval,
                f"{row[f'p:{run.name}']:.3g}",
                *([f"{row[f'p_adjusted:{run.name}']:.3g}"] if correction == "holm" else []),
                "*" if row[f"significant:{run.name}"] else "",
            )
        console.print(paired)
        untested = table.filter(
            pl.col(f"test:{run.name}").is_null()
            & pl.col(f"delta:{run.name}").is_not_null()
            & ~pl.col("metric").is_in(sorted(DESCRIPTIVE))
        )
        if untested.height:
            names = ", ".join(f"{t} {m}" for t, m in untested.select("alias", "metric").iter_rows())
            console.print(
                f"{run.name}: not tested (no per-document values in both runs): {escape(names)}"
            )
    if flipped.height:
        ftable = new_table(
            "per-document flips of each 0/1 metric (joined on doc hash)",
            "run",
            "task",
            "metric",
            "documents",
            "gained",
            "lost",
        )
        for row in flipped.iter_rows(named=True):
            metric = row["metric"] + (
                "" if row["filter"] in (None, "none") else f" ({row['filter']})"
            )
            ftable.add_row(
                row["run"],
                escape(row["task"]),
                escape(metric),
                str(row["documents"]),
                str(row["gained"]),
                str(row["lost"]),
            )
        console.print(ftable)


def fmt(value: float | None, stderr: float | None) -> str:
    """value ± stderr, blank when missing."""
    if value is None:
        return ""
    return f"{value:.4f}" + ("" if stderr is None else f" ± {stderr:.4f}")


@app.command("tasks")
def list_tasks() -> None:
    """The local tasks and suites of the catalog, their eval sets, the data root, and lm-eval's
    own tasks listed for users who are online.

    Example: winnow evaluate tasks
    """
    from winnow.evals.catalog import absent_data, absent_for, load_catalog, task_summary

    catalog = load_catalog()
    absent = absent_data(catalog, {"data_root": str(catalog.data_root)})
    table = new_table(
        f"local tasks (data root {catalog.data_root})", "name", "kind", "eval set", "data"
    )
    for row in task_summary(catalog):
        data = "missing" if absent_for(row["name"], absent) else ""
        table.add_row(row["name"], row["kind"], row["eval_set"] or "", data)
    console.print(table)
    for task, where in absent.items():
        console.print(escape(f"{task}*: optional, its data is not here; put {where} there"))
    for suite, group in catalog.suites.items():
        console.print(f"suite {suite}: {group}")
    console.print("lm-eval's own (online): " + ", ".join(catalog.hub_tasks))
