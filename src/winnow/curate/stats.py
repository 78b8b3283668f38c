"""Per-step statistics: rows in and out, removals by reason, and one example per reason."""

from __future__ import annotations

from typing import Any

import polars as pl

EXAMPLE_CHARS = 240
"""How much of an example document the report and manifest keep."""


def step_stats(
    index: int,
    name: str,
    n_in: int,
    rejected: pl.DataFrame | None,
    tally: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Statistics of one step on one shard, from the rows it rejected there and its tally."""
    removed: dict[str, int] = {}
    examples: dict[str, dict[str, str]] = {}
    if rejected is not None and rejected.height:
        counts = rejected.group_by("reason", maintain_order=True).agg(
            pl.len().alias("n"), pl.col("id").first(), pl.col("text").first()
        )
        for row in counts.iter_rows(named=True):
            removed[row["reason"]] = row["n"]
            examples[row["reason"]] = {"id": row["id"], "text": row["text"][:EXAMPLE_CHARS]}
    out = n_in - sum(removed.values())
    return {
        "index": index,
        "step": name,
        "in": n_in,
        "out": out,
        "removed": removed,
        "examples": examples,
        "tally": dict(tally or {}),
        "seconds": 0.0,
    }


def merge_stats(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Add up one step's statistics over shards given in stable order (first example wins)."""
    merged = {**parts[0], "removed": {}, "examples": {}, "tally": {}, "in": 0, "out": 0}
    merged["seconds"] = 0.0
    for part in parts:
        merged["in"] += part["in"]
        merged["out"] += part["out"]
        merged["seconds"] += part["seconds"]
        for reason, n in part["removed"].items():
            merged["removed"][reason] = merged["removed"].get(reason, 0) + n
        for reason, example in part["examples"].items():
            merged["examples"].setdefault(reason, example)
        for key, n in part.get("tally", {}).items():
            merged["tally"][key] = merged["tally"].get(key, 0) + n
    merged["removed"] = dict(sorted(merged["removed"].items(), key=lambda kv: -kv[1]))
    merged["seconds"] = round(merged["seconds"], 4)
    return merged
