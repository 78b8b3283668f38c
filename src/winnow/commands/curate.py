"""`winnow curate`: run recipes over sources and list what recipes can use."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

# light modules only, so --help is quick: commands import heavy ones (data frames, models) when run
from winnow.commands import instruct, mix, preference, quality
from winnow.commands.annotate import annotate
from winnow.commands.options import WorkspaceOption, new_table
from winnow.commands.synthesize import synthesize
from winnow.console import console

if TYPE_CHECKING:
    from winnow.curate.runner import RunOptions
    from winnow.workspace import DatasetVersion, Workspace

app = typer.Typer(help="Curate raw text into datasets with recipes.", no_args_is_help=True)
app.command("mix")(mix.mix)
app.add_typer(quality.app, name="quality")
app.command("instruct")(instruct.instruct)
app.command("preference")(preference.preference)
app.command("synthesize")(synthesize)
app.command("annotate")(annotate)


def curate_with_progress(
    ws: Workspace,
    recipe_name: str,
    source_arg: str,
    output: str,
    options: RunOptions,
    reading: dict[str, str] | None = None,
    **fields: str | None,
) -> DatasetVersion:
    """Run a recipe with a live row counter, then print its report."""
    from winnow.curate.recipes import load_recipe
    from winnow.curate.report import print_report
    from winnow.curate.runner import run_recipe
    from winnow.curate.sources import resolve_source

    recipe = load_recipe(recipe_name)
    source = resolve_source(source_arg, workspace=ws, **fields)
    source.options.update(reading or {})
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        tasks: dict[str, int] = {}

        def advance(label: str, rows: int) -> None:
            if label not in tasks:
                tasks[label] = progress.add_task(label, total=None)
            progress.advance(tasks[label], rows)

        options.on_progress = advance
        dataset = run_recipe(ws, recipe, source, output, options)
    print_report(console, dataset)
    return dataset


@app.command()
def run(
    recipe: Annotated[str, typer.Argument(help="Recipe name in catalogs/recipes/ or a YAML path.")],
    source: Annotated[
        str,
        typer.Option(
            help="File, folder or glob (local, or an s3://, gs://, http(s):// URL), workspace "
            "dataset NAME or NAME@VERSION, catalogs/sources name, or hub id (online)."
        ),
    ],
    output: Annotated[str, typer.Option(help="Dataset name; each run writes a new version.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Override the format inferred from the extension: jsonl, parquet, csv, text, "
            "warc or hf.",
        ),
    ] = None,
    text_mode: Annotated[
        str | None,
        typer.Option(help="For plain text: 'line' (a document per line) or 'file' (per file)."),
    ] = None,
    text_field: Annotated[str | None, typer.Option(help="Field holding the text.")] = None,
    id_field: Annotated[str | None, typer.Option(help="Field holding a stable id.")] = None,
    strict: Annotated[
        bool,
        typer.Option(
            help="Stop at the first unreadable row, duplicate id or damaged file, naming it, "
            "instead of quarantining it."
        ),
    ] = False,
    batch_rows: Annotated[int, typer.Option(help="Rows per shard (bounds memory).")] = 5_000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Shards processed at once: local processes (default 1; they start and import "
            "the recipe's steps while the source is read), or Ray tasks (default: the cluster's "
            "CPUs). The result is the same.",
            show_default=False,
        ),
    ] = None,
    executor: Annotated[
        str,
        typer.Option(
            help="local: this machine's processes; ray: each shard a Ray task (a local Ray "
            "instance, or the cluster at --address), minhash_dedup decided shard by shard.",
        ),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            help="Ray cluster to join: auto (the one started on this machine with ray start), "
            "HOST:PORT, or ray://HOST:10001. Without it Ray starts a local instance.",
            show_default=False,
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Curate SOURCE with RECIPE into a new version of dataset OUTPUT and print the report.

    Rejected rows keep the step and reason that removed them; unreadable rows are
    quarantined with the error (file and line), and a text that is not a string (a number,
    list, object) is quarantined, never turned into one. Ids must be unique within the
    dataset: a row whose id an earlier row (in file order, across all files) already has is
    quarantined as duplicate_id, naming the first. A truncated or corrupt .gz/.zst/.warc.gz
    file keeps the rows before the damage and quarantines the damage (file, line or record,
    byte), as it does a .gz that is not gzip, and the run goes on; --strict stops there
    instead. A killed run resumes where it
    stopped when run again.

    The same dataset, fingerprint included, comes out of every executor; with --executor ray
    on several machines the workspace must be on a filesystem every node mounts.

    Example: winnow curate run web-en --source shared-web-cc --output web-cc

    On a Ray cluster, add: --executor ray --address auto
    """
    from winnow.curate.runner import RunOptions
    from winnow.workspace import Workspace

    ws = Workspace.resolve(workspace)
    options = RunOptions(
        strict=strict, batch_rows=batch_rows, workers=workers, executor=executor, address=address
    )
    reading = {"text_mode": text_mode} if text_mode else {}
    curate_with_progress(
        ws,
        recipe,
        source,
        output,
        options,
        reading,
        fmt=fmt,
        text_field=text_field,
        id_field=id_field,
    )


@app.command()
def steps() -> None:
    """List every step a recipe can use, with its version, parameters, defaults and ranges.

    A recipe's parameters are checked against these types and ranges when it loads (numbers
    without a range shown must be 0 or more). The version (v1, v2, ...) changes whenever a
    step's rules change; it is part of the recipe hash, so a run never resumes from shards an
    older version made.

    Example: winnow curate steps
    """
    from winnow.curate.steps import STEPS

    table = new_table("recipe steps", "step", "parameters (default)", "what it does")
    for name in sorted(STEPS):
        cls = STEPS[name]
        params = []
        for f in dataclasses.fields(cls):
            low, high = f.metadata.get("range", (None, None))
            bounds = f" [{'' if low is None else low}..{'' if high is None else high}]"
            bounds = "" if low is None and high is None else bounds
            if f.default is not dataclasses.MISSING:
                params.append(f"{f.name}={f.default!r}{bounds}")
            elif f.default_factory is not dataclasses.MISSING:
                params.append(f"{f.name}={f.default_factory()!r}{bounds}")
            else:
                params.append(f"{f.name} (required)")
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        table.add_row(f"{name} v{cls.version}", "\n".join(params), doc)
    console.print(table)


@app.command()
def recipes() -> None:
    """List the recipes found in catalogs/recipes/.

    Example: winnow curate recipes
    """
    from winnow.catalogs import list_entries
    from winnow.curate.recipes import load_recipe

    table = new_table("recipes", "recipe", "for (its description's first sentence); file", "steps")
    for name, path in list_entries("recipes").items():
        recipe = load_recipe(str(path))
        purpose = recipe.description.split(": ")[0].split(". ")[0].rstrip(".")
        shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
        table.add_row(name, f"{purpose}\n{shown}", ", ".join(s.name for s in recipe.steps))
    console.print(table)


@app.command()
def evals() -> None:
    """List the eval sets in catalogs/evals/ that the decontaminate step can name.

    Example: winnow curate evals
    """
    from winnow.curate.evalsets import list_evalsets

    table = new_table("eval sets", "eval set", "files", "item text from", "description")
    for name, found in list_evalsets().items():
        table.add_row(name, str(len(found.paths)), ", ".join(found.fields), found.description)
    console.print(table)
