"""`winnow curate instruct`: import an instruction set, render it, validate it, curate it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

# light modules only, so --help is quick: commands import heavy ones (data frames, models) when run
from winnow.commands.options import WorkspaceOption, new_table
from winnow.console import console
from winnow.errors import WinnowError
from winnow.instruct.importers import FORMATS, parse_map
from winnow.records import source_files

SUFFIXES = (".json", ".jsonl", ".csv", ".parquet")
"""File kinds an instruction source may hold."""


def instruct(
    source: Annotated[
        str,
        typer.Option(
            help="Instruction data: a .json (list), .jsonl, .csv or .parquet file (.gz too), a "
            "folder of them (recursive), a quoted glob, or a hub dataset id (org/name, fetched "
            "once when online); each file's format is detected on its own."
        ),
    ],
    output: Annotated[str, typer.Option(help="Dataset name; each run writes a new version.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help=f"auto (from the first records' keys) or one of: {', '.join(FORMATS)}.",
        ),
    ] = "auto",
    field_map: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="Rename columns to the names a format reads, TARGET=COLUMN,... "
            "(e.g. question=Q,answer=A for qa-csv).",
        ),
    ] = None,
    recipe: Annotated[
        str, typer.Option(help="Recipe name in catalogs/recipes/ or a YAML path.")
    ] = "instruct",
    max_tokens: Annotated[
        int | None,
        typer.Option(help="Quarantine rows over this many tokens (characters/4 by default)."),
    ] = None,
    tokenizer: Annotated[
        str | None,
        typer.Option(help="Count --max-tokens with this tokenizer.json, folder or hub id."),
    ] = None,
    batch_rows: Annotated[int, typer.Option(help="Rows per shard (bounds memory).")] = 5_000,
    workspace: WorkspaceOption = None,
) -> None:
    """Import SOURCE as instruction rows, render and validate them, and curate them with RECIPE.

    Rows get `id, instruction, input, output, system, history, source, lang`, `meta` (a JSON
    object of the columns the format does not read, e.g. KoAlpaca's url or a CSV's label) and
    the renders `text` (Alpaca prompt + output), `messages`, `prompt` and `completion`. KoAlpaca
    v1.0 and v1.1 files are detected as alpaca. Invalid rows are quarantined with their reason
    and counted. Ids must be unique across all files of the source: a later row that reuses an
    id is quarantined as duplicate_id, naming the first. A truncated or corrupt .gz/.zst file
    keeps the records before the damage and quarantines the damage as damaged_file (file,
    line, byte); an empty file in a folder is left out with a warning.

    Example: winnow curate instruct --source ../shared/data/instruct/lima.json --output lima

    Example: winnow curate instruct --source ../shared/data/korean/ChatbotData.csv \\
        --map question=Q,answer=A --recipe instruct-ko --output chatbot
    """
    from winnow.curate.recipes import load_recipe
    from winnow.curate.report import print_report
    from winnow.curate.runner import RunOptions
    from winnow.instruct.build import import_files
    from winnow.instruct.run import curate_instruct
    from winnow.instruct.validate import char_tokens, tokenizer_counter
    from winnow.workspace import Workspace

    if tokenizer and max_tokens is None:
        raise WinnowError("--tokenizer only counts tokens for --max-tokens; give --max-tokens N.")
    ws = Workspace.resolve(workspace)
    loaded = load_recipe(recipe)
    files = source_files(source, SUFFIXES)
    mapping = parse_map(field_map)
    count = tokenizer_counter(tokenizer) if tokenizer else char_tokens
    imported = import_files(files, fmt, mapping, max_tokens, count)
    if imported.reasons:
        table = new_table("validation: quarantined rows", "reason", "rows")
        for reason, rows in imported.reasons.items():
            table.add_row(reason, f"{rows:,}")
        console.print(table)
    settings = {"map": mapping, "max_tokens": max_tokens, "tokenizer": tokenizer}
    options = RunOptions(batch_rows=batch_rows, warnings=list(imported.warnings))
    dataset = curate_instruct(ws, loaded, files, imported, output, options, settings)
    console.print(
        escape(
            f"format {imported.format}: {imported.rows.height:,} rows imported from "
            f"{len(files):,} file{'s' if len(files) > 1 else ''}"
        )
    )
    print_report(console, dataset)
