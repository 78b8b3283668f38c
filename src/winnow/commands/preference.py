"""`winnow curate preference`: import chosen/rejected (or KTO) preference data as a dataset."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

# light modules only, so --help is quick: commands import heavy ones (data frames, models) when run
from winnow.commands.options import WorkspaceOption, new_table
from winnow.console import console
from winnow.instruct.importers import parse_map
from winnow.preference.importers import FORMATS, PAIRINGS
from winnow.records import source_files

TOP_LANGUAGES = 10
"""Languages listed by name in the report; the rest are summed as 'other'."""


def report_table(name: str, manifest: dict[str, Any]) -> Table:
    """The report as one Rich table: counts (kept, then quarantined and rejected by reason,
    adding up to the input), length bias, labels, languages."""
    report, counts = manifest["preference"], manifest["counts"]
    table = new_table(f"{name}: preference report", "measure", "value")
    table.add_row("format", report["format"])
    table.add_row("records read", f"{report['records']:,}")
    table.add_row("input rows", f"{counts['input']:,}")
    table.add_row(
        "kept",
        f"{counts['kept']:,} ({report['kept_pairs']:,} pairs, "
        f"{report['kept_unpaired']:,} unpaired)",
    )
    if report["kept_unpaired"]:
        labels = report["labels"]
        table.add_row(
            "unpaired labels",
            f"{labels['desirable']:,} desirable, {labels['undesirable']:,} undesirable",
        )
    for reason, count in report["quarantined"].items():
        table.add_row(f"quarantined: {escape(reason)}", f"{count:,}")
    for reason, count in report["rejected"].items():
        table.add_row(f"rejected: {escape(reason)}", f"{count:,}")
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
            help=f"auto (detect from the first records' keys) or one of: {', '.join(FORMATS)}. "
            "hh: chosen/rejected Human/Assistant transcripts; sharegpt-dpo and alpaca-dpo: "
            "LLaMA-Factory's conversations or instruction with chosen/rejected; trl: "
            "prompt/chosen/rejected or prompt/completion/label; ranked: output list, best "
            "first; rated: answers with ratings; kto: messages/label or LLaMA-Factory's "
            "instruction/output/kto_tag. Alpaca-style system and history become prompt turns.",
        ),
    ] = "auto",
    pairs: Annotated[
        str,
        typer.Option(
            help=f"For ranked outputs: {' or '.join(PAIRINGS)} (each output against the next)."
        ),
    ] = "best-worst",
    field_map: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="Rename columns to the names a format reads, TARGET=COLUMN,... (e.g. "
            "prompt=question,chosen=good,rejected=bad for trl); as in curate instruct.",
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Import SOURCE as preference pairs (TRL explicit-prompt form) into dataset OUTPUT.

    Earlier turns (history, system, a conversation's first turns) stay in the prompt. Rows
    that cannot be clean pairs go to quarantine with a reason (bad keys or types, empty sides,
    turns out of order, HH sides that diverge early or hold a speaker tag in the answer, rating
    ties); rows a rule removes (exact duplicate pairs) go to rejected. The report counts both,
    and input = kept + rejected + quarantined. An import that keeps nothing is refused, naming
    the keys the format reads and those found. Prints the length bias and the prompt
    languages, which the manifest also records.

    Example: winnow curate preference --source ../shared/data/preference/dpo_en_demo.json \\
        --output dpo-en
    """
    from winnow.curate.report import print_report
    from winnow.preference.dataset import import_preference
    from winnow.workspace import Workspace

    ws = Workspace.resolve(workspace)
    files = source_files(source, (".json", ".jsonl", ".parquet"))
    mapping = parse_map(field_map)
    with console.status(escape(f"importing {len(files):,} file(s) from {source} into {output}")):
        dataset = import_preference(ws, files, output, fmt, pairs, mapping)
    console.print(report_table(dataset.ref, dataset.manifest))
    print_report(console, dataset)
