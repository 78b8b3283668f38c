"""A finished training run as the terminal shows it."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from winnow.commands.options import new_table
from winnow.console import console


def print_run(record: dict[str, Any]) -> None:
    """The finished run as one table: data, model, results, where things are."""
    table = new_table(
        escape(f"run {record['name']} ({record['method']}): {record['status']}"), "", ""
    )
    table.show_header = False
    for item in record["inputs"]:
        table.add_row(
            "data",
            escape(f"{item['ref']} ({item['rows']:,} rows, fingerprint {item['fingerprint']})"),
        )
    model = record.get("model", {})
    table.add_row(
        "model", escape(f"{model.get('architecture')}: {model.get('parameters', 0):,} parameters")
    )
    device = record["device"]
    processes = device.get("processes", 1)
    launched = f", {processes} processes" if processes > 1 else ""
    table.add_row("device", escape(f"{device['type']} ({device['name']}){launched}"))
    launch = record.get("launch")
    if launch:
        kind = (launch.get("config") or {}).get("distributed_type")
        shown = f"{launch['launcher']} ({kind}), config {record['name']}/{launch['config_file']}"
        table.add_row("launch", escape(shown))
    for key, value in (record.get("data") or {}).items():
        table.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
    for key, value in (record.get("results") or {}).items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        table.add_row(key.replace("_", " "), shown)
    console.print(table, highlight=False)
