"""The curation report: what each step did, why rows left, and where the result is."""

from __future__ import annotations

from typing import Any

import polars as pl
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from winnow.curate.stats import manifest_removal_warnings, warning_text
from winnow.workspace import DatasetVersion


def steps_table(manifest: dict[str, Any]) -> Table:
    """Rows in and out per step, with time spent; a step over the removal warning in red."""
    table = Table(title=f"{manifest['name']}@{manifest['version']}: steps", title_justify="left")
    for column in ("#", "step", "in", "out", "removed", "seconds"):
        table.add_column(column, justify="left" if column == "step" else "right")
    flagged = {w["index"] for w in manifest_removal_warnings(manifest)}
    for number, step in enumerate(manifest["steps"], start=1):
        removed = step["in"] - step["out"]
        share = f" ({removed / step['in']:.0%})" if step["in"] and removed else ""
        table.add_row(
            str(number),
            step["step"],
            f"{step['in']:,}",
            f"{step['out']:,}",
            f"{removed:,}{share}",
            f"{step['seconds']:.2f}",
            style="red" if step.get("index", number - 1) in flagged else None,
        )
    return table


def reasons_table(manifest: dict[str, Any]) -> Table:
    """Each removal reason with its count and one example document."""
    table = Table(title="removal reasons (one example each)", title_justify="left")
    for column in ("step", "reason", "rows", "example"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for step in manifest["steps"]:
        for reason, count in step["removed"].items():
            example = step["examples"].get(reason, {})
            snippet = " ".join(example.get("text", "").split())[:70]
            example_text = escape(f"[{example.get('id', '')}] {snippet}")
            table.add_row(step["step"], reason, f"{count:,}", example_text)
    return table


def tally_table(manifest: dict[str, Any]) -> Table:
    """What steps counted besides removals, such as rows flagged per benchmark."""
    table = Table(title="step tallies", title_justify="left")
    for column in ("step", "count of", "rows"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for step in manifest["steps"]:
        for key, count in step.get("tally", {}).items():
            table.add_row(step["step"], key, f"{count:,}")
    return table


def print_report(console: Console, dataset: DatasetVersion) -> None:
    """Print the whole report of a dataset version from its manifest and quarantine."""
    manifest = dataset.manifest
    counts = manifest["counts"]
    if manifest["steps"]:
        console.print(steps_table(manifest))
    if any(step["removed"] for step in manifest["steps"]):
        console.print(reasons_table(manifest))
    if any(step.get("tally") for step in manifest["steps"]):
        console.print(tally_table(manifest))
    for step in manifest["steps"]:
        for key, value in step.get("details", {}).items():
            console.print(escape(f"{step['step']}: {key}: {value}"), highlight=False)
    console.print(
        f"input {counts['input']:,} = kept {counts['kept']:,} + rejected {counts['rejected']:,}"
        f" + quarantined {counts['quarantined']:,}"
    )
    if counts["quarantined"]:
        quarantine = pl.read_parquet(dataset.path / "quarantine" / "*.parquet").head(5)
        for row in quarantine.iter_rows(named=True):
            error = row["error"]
            if row.get("line") and not error.startswith("line "):
                error = f"line {row['line']}: {error}"
            console.print("[yellow]quarantined[/] " + escape(f"{row['source_file']}: {error}"))
    for warning in manifest.get("warnings", []):
        console.print(f"[yellow]warning[/] {escape(warning)}")
    if "removal_warnings" not in manifest:  # written before runs recorded them
        for removal in manifest_removal_warnings(manifest):
            console.print(f"[yellow]warning[/] {escape(warning_text(removal, manifest['name']))}")
    execution = manifest.get("execution") or {}
    if execution.get("resumed_shards"):
        console.print(
            f"resumed: {execution['resumed_shards']} of {execution['shards']} shards were done "
            "before this run"
        )
    console.print(f"fingerprint {manifest['fingerprint']}  written to {dataset.path}")
