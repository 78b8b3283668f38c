"""`winnow data stats`: token counts, lengths and fertility of a dataset per tokenizer."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape

# light modules only, so --help is quick: commands import heavy ones (data frames, models) when run
from winnow.commands.options import WorkspaceOption, new_table
from winnow.console import console


def fmt(value: float | None, digits: int) -> str:
    """A number with `digits` decimals and thousands separators, or '-' when undefined."""
    return "-" if value is None else f"{value:,.{digits}f}"


def print_stats(result: dict[str, Any]) -> None:
    """One table, tokenizers side by side within each group, then what the units mean.

    Fertility comes first, so a narrow terminal crops the per-document lengths instead.
    """
    title = f"tokens in {result['dataset']} (mean, p50, p90, max: tokens per document)"
    if result["documents"] < result["documents_in_dataset"]:
        title += f" (sample of {result['documents']:,} of {result['documents_in_dataset']:,} docs)"
    by = result["by"]
    headers = ["tokenizer", *([by] if by else []), "tok/word", "tok/char", "tokens", "docs"]
    table = new_table(escape(title), *headers, "mean", "p50", "p90", "max")
    for column in table.columns[1 + bool(by) :]:
        column.justify = "right"
    previous = None
    for row in result["rows"]:
        if previous is not None and row["group"] != previous:
            table.add_section()
        previous = row["group"]
        per_doc = row["tokens_per_doc"]
        table.add_row(
            escape(row["tokenizer"]),
            *([escape(row["group"])] if by else []),
            fmt(row["tokens_per_word"], 3),
            fmt(row["tokens_per_char"], 3),
            f"{row['tokens']:,}",
            f"{row['documents']:,}",
            fmt(per_doc["mean"], 1),
            fmt(per_doc["p50"], 1),
            fmt(per_doc["p90"], 1),
            f"{per_doc['max']:,}",
        )
    for column in table.columns:
        cells = [column.header, *column.cells]
        column.min_width = max(len(str(cell)) for cell in cells)
        column.no_wrap = True
    console.print(table)
    for unit, meaning in result["definitions"].items():
        console.print(f"{unit}: {escape(meaning)}", highlight=False)
    for named in result["tokenizers"]:
        tokens, characters = named["tokens_per_second"], named["characters_per_second"]
        console.print(
            escape(f"encoding speed of {named['name']}: {fmt(tokens, 0)} tokens/s, ")
            + f"{fmt(characters, 0)} characters/s",
            highlight=False,
        )


def stats(
    dataset: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    tokenizer: Annotated[
        list[str],
        typer.Option(
            "--tokenizer",
            "-t",
            help="tokenizer.json, tokenizer folder (transformers, 'winnow train tokenizer', or "
            "GPT-2's encoder.json + vocab.bpe) or hub id (online); repeat to compare.",
        ),
    ],
    by: Annotated[
        str | None,
        typer.Option(help="Column to break down by; default 'language' when the dataset has it."),
    ] = None,
    sample: Annotated[
        int | None,
        typer.Option(help="Count only N documents, the same N on every run (lowest id hash)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the numbers as JSON.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Count tokens of a dataset's kept text with one or more tokenizers: total tokens,
    tokens per document (mean, p50, p90, max) and fertility (tokens per word and per
    character), per language when the dataset has a language column.

    Example: winnow data stats demo-web -t ../shared/data/tokenizers/llama-tokenizer.json
    """
    from winnow.token_stats import default_by, load_tokenizers, token_stats
    from winnow.workspace import Workspace

    version = Workspace.resolve(workspace).dataset(dataset)
    tokenizers = load_tokenizers(tokenizer)
    result = token_stats(version, tokenizers, by or default_by(version), sample)
    if as_json:
        console.print_json(json.dumps(result))
        return
    print_stats(result)
