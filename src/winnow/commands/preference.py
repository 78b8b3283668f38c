"""`winnow curate preference`: import chosen/rejected (or KTO) preference data as a dataset."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from winnow.commands.options import WorkspaceOption, console, new_table
from winnow.curate.report import print_report
from winnow.preference.dataset import import_preference
from winnow.preference.importers import FORMATS, PAIRINGS
from winnow.records import source_files
from winnow.workspace import Workspace

TOP_LANGUAGES = 10
"""Languages listed by name in the report; the rest are summed as 'other'."""


def report_table(name: str, report: dict[str, Any]) -> Table:
    """The report as one Rich table: counts, reasons, length bias, languages."""
    table = new_table(f"{name}: preference report", "measure", "value")
    table.add_row("format", report["format"])
    table.add_row("kept pairs", f"{report['length_bias']['pairs']:,}")
    if report["labels"]["desirable"] or report["labels"]["undesirable"]:
        labels = report["labels"]
        table.add_row(
            "unpaired rows",
            f"{labels['desirable']:,} desirable, {labels['undesirable']:,} undesirable",
        )
    for reason, count in report["reasons"].items():
        table.add_row(f"removed: {escape(reason)}", f"{count:,}")
    bias = report["length_bias"]
    if bias["pairs"]:
        table.add_row(
            "chosen longer than rejected",
            f"{bias['share_chosen_longer']:.1%} ({bias['chosen_longer']:,} of {bias['pairs']:,})",
        )
        table.add_row(
            "mean answer chars (chosen / rejected)",
            f"{bias['mean_chosen_chars']:,.1f} / {bias['mean_rejected_chars']:,.1f}",
        )
    languages = list(report["languages"].items())
    shown = [f"{lang} {count:,}" for lang, count in languages[:TOP_LANGUAGES]]
    rest = sum(count for _, count in languages[TOP_LANGUAGES:])
    table.add_row("prompt languages", ", ".join(shown + ([f"other {rest:,}"] if rest else [])))
    return table


def preference(
    source: Annotated[
        str,
        typer.Option(
            help="Preference data: a .json (list), .jsonl or .parquet file (.gz too), a folder "
            "of them (recursive), a quoted glob, or a hub dataset id (org/name, fetched once "
            "when online); each file's format is detected on its own."
        ),
    ],
    output: Annotated[str, typer.Option(help="Dataset name; each import writes a new version.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help=f"auto (detect from the first records' keys) or one of: {', '.join(FORMATS)}.",
        ),
    ] = "auto",
    pairs: Annotated[
        str,
        typer.Option(
            help=f"For ranked outputs: {' or '.join(PAIRINGS)} (each output against the next)."
        ),
    ] = "best-worst",
    workspace: WorkspaceOption = None,
) -> None:
    """Import SOURCE as preference pairs (TRL explicit-prompt form) into dataset OUTPUT.

    Empty sides, identical chosen and rejected, mismatched prompts and rating ties are
    quarantined with the reason; exact duplicate pairs go to rejected. Prints the length bias
    and the prompt languages, which the manifest also records.

    Example: winnow curate preference --source ../shared/data/preference/dpo_en_demo.json \\
        --output dpo-en
    """
    ws = Workspace.resolve(workspace)
    files = source_files(source, (".json", ".jsonl", ".parquet"))
    with console.status(escape(f"importing {len(files):,} file(s) from {source} into {output}")):
        dataset = import_preference(ws, files, output, fmt, pairs)
    console.print(report_table(dataset.ref, dataset.manifest["preference"]))
    print_report(console, dataset)
