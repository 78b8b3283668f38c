"""`winnow labels`: label tasks, progress of a label project, agreement, and exports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from winnow.commands.options import WorkspaceOption, new_table
from winnow.console import console
from winnow.errors import WinnowError

if TYPE_CHECKING:
    from winnow.labels.store import LabelStore

app = typer.Typer(
    help="Label tasks, label progress, annotator agreement and label exports.",
    no_args_is_help=True,
)

DatasetArgument = Annotated[str, typer.Argument(help="Labelled dataset: NAME or NAME@VERSION.")]
TaskOption = Annotated[
    str, typer.Option("--task", "-t", help="Label task name (see 'winnow labels tasks').")
]


def _store(dataset: str, task: str, workspace: str | None) -> LabelStore:
    """The label project of DATASET and TASK, its problems printed first."""
    from winnow.labels.store import open_store
    from winnow.labels.tasks import load_task
    from winnow.workspace import Workspace

    store = open_store(Workspace.resolve(workspace), dataset, load_task(task))
    for problem in store.read()[1]:
        console.print(f"[yellow]problem:[/] {escape(problem)}", highlight=False)
    return store


def _number(value: float | None) -> str:
    """A statistic, or n/a when it is undefined."""
    return "n/a" if value is None else f"{value:.3f}"


@app.command()
def tasks() -> None:
    """List the label tasks of the catalog (catalogs/labels/*.yaml).

    Example: winnow labels tasks
    """
    from winnow.labels.tasks import load_tasks

    table = new_table("label tasks", "task", "title", "kind", "datasets", "scale", "choices")
    for name, task in load_tasks().items():
        choices = ", ".join(f"{c.key}={c.value}" for c in task.choices)
        table.add_row(name, task.title, task.kind, ", ".join(task.applies_to), task.scale, choices)
    console.print(table)


@app.command()
def show(dataset: DatasetArgument, task: TaskOption, workspace: WorkspaceOption = None) -> None:
    """Show each annotator's labels, skips, undos and progress on a dataset's task.

    Example: winnow labels show web --task quality-keep-drop
    """
    from winnow.labels.items import count_items

    store = _store(dataset, task, workspace)
    total = count_items(store.version, store.task)
    annotators = store.annotators()
    if not annotators:
        console.print(f"no labels yet for {store.version.ref} {store.task.name} ({total:,} items)")
        return
    table = new_table(
        f"{store.version.ref} {store.task.name}: {total:,} items",
        "annotator",
        "labels",
        "skips",
        "undos",
        "records",
        "done",
    )
    for name, counts in annotators.items():
        done = counts["labels"] + counts["skips"]
        share = f"{done:,} ({done / total:.0%})" if total else f"{done:,}"
        row = (counts[k] for k in ("labels", "skips", "undos", "records"))
        table.add_row(escape(name), *(f"{n:,}" for n in row), share)
    console.print(table)
    console.print(f"records in {store.folder}")


@app.command()
def agreement(
    dataset: DatasetArgument, task: TaskOption, workspace: WorkspaceOption = None
) -> None:
    """Cohen's kappa per annotator pair and Krippendorff's alpha over all annotators.

    On an annotation dataset (winnow curate annotate), the LLM's scores count as one more
    annotator, named llm:MODEL, so each person's kappa against the LLM is listed.

    Example: winnow labels agreement pairs --task pairwise

    Example: winnow labels agreement edu-sample --task edu-0to5
    """
    from winnow.annotate.agreement import machine_labels
    from winnow.labels.agreement import agreement as measure_agreement

    store = _store(dataset, task, workspace)
    result = measure_agreement(store, machine_labels(store.version, store.task))
    weighted = result["level"] != "nominal"
    columns = ["annotators", "shared items", "agreement", "kappa"]
    table = new_table(
        f"{result['dataset']} {result['task']}: pairwise agreement",
        *columns,
        *(["weighted kappa"] if weighted else []),
    )
    for pair in result["pairs"]:
        cells = [
            escape(f"{pair['a']} / {pair['b']}"),
            f"{pair['items']:,}",
            _number(pair["agreement"]),
            _number(pair["kappa"]),
        ]
        table.add_row(*cells, *([_number(pair["weighted_kappa"])] if weighted else []))
    console.print(table)
    console.print(
        f"Krippendorff's alpha ({result['level']}) {_number(result['alpha'])} over "
        f"{result['items_shared']:,} items with two or more labels, of "
        f"{result['items_labelled']:,} labelled; {len(result['annotators'])} annotators, "
        f"{result['labels']:,} labels"
    )


@app.command()
def export(
    dataset: DatasetArgument,
    task: TaskOption,
    output: Annotated[
        str,
        typer.Option(help="Name to write: quality gives OUTPUT-keep and OUTPUT-drop."),
    ],
    keep_at: Annotated[
        float, typer.Option(help="Scored quality tasks: a score at or above this votes keep.")
    ] = 4,
    drop_at: Annotated[
        float, typer.Option(help="Scored quality tasks: a score at or below this votes drop.")
    ] = 2,
    workspace: WorkspaceOption = None,
) -> None:
    """Export majority labels: quality tasks as keep and drop datasets for 'winnow curate
    quality train', pairwise tasks as a preference dataset; ties are counted and left out.

    Example: winnow labels export web --task quality-1to5 --output web-labels --keep-at 4
    """
    from winnow.labels.export import export_preference, export_quality
    from winnow.workspace import Workspace

    ws = Workspace.resolve(workspace)
    store = _store(dataset, task, workspace)
    if store.task.kind == "quality":
        versions = export_quality(ws, store, output, keep_at, drop_at)
    elif store.task.kind == "pairwise":
        versions = (export_preference(ws, store, output),)
    else:
        raise WinnowError(
            f"task '{store.task.name}' ({store.task.kind}) has no export; quality and pairwise "
            "tasks do, and 'winnow labels agreement' reads any task."
        )
    counts = versions[0].manifest["labels"]["counts"]
    summary = ", ".join(f"{key} {value:,}" for key, value in sorted(counts.items()))
    console.print(f"decisions: {summary}")
    for version in versions:
        kept = version.manifest["counts"]["kept"]
        console.print(f"wrote {version.ref} ({kept:,} rows) at {version.path}")
    if store.task.kind == "quality":
        keep, drop = (v.ref for v in versions)
        console.print(
            f"next: winnow curate quality train --positive {keep} --negative {drop} "
            "--output models/quality.bin"
        )
