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


WARN_REMOVED_SHARE = 0.9
"""By default a run warns when one step removes more than this share of the rows it got."""


def removal_warnings(steps: list[dict[str, Any]], threshold: float) -> list[dict[str, Any]]:
    """The steps that removed more than `threshold` of the rows that reached them, each with
    its share and its top reason, from the merged per-step statistics of a manifest."""
    found = []
    for step in steps:
        removed = step["in"] - step["out"]
        if not step["in"] or not removed or removed / step["in"] <= threshold:
            continue
        reasons = step.get("removed") or {"(no reason recorded)": removed}
        reason, rows = max(reasons.items(), key=lambda kv: kv[1])
        found.append(
            {
                "index": step.get("index", 0),
                "step": step["step"],
                "in": step["in"],
                "removed": removed,
                "share": round(removed / step["in"], 4),
                "reason": reason,
                "reason_rows": rows,
                "threshold": threshold,
            }
        )
    return found


def warning_text(warning: dict[str, Any], dataset: str = "NAME") -> str:
    """One removal warning as a sentence for the report, the manifest and the dashboard."""
    return (
        f"step {warning['index'] + 1} ({warning['step']}) removed {warning['share']:.1%} of the "
        f"{warning['in']:,} rows that reached it, more than warn_removed_share "
        f"({warning['threshold']:g}; top reason {warning['reason']}: "
        f"{warning['reason_rows']:,} rows); check its parameters against the rejected rows "
        f"(winnow data head {dataset} --split rejected), or raise warn_removed_share in the "
        "recipe if this is intended."
    )


def manifest_removal_warnings(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """A manifest's removal warnings; for one written before they were recorded, computed
    from its per-step statistics with the default threshold."""
    if "removal_warnings" in manifest:
        return list(manifest["removal_warnings"])
    steps = [s for s in manifest.get("steps") or [] if "in" in s and "out" in s]
    return removal_warnings(steps, WARN_REMOVED_SHARE)
