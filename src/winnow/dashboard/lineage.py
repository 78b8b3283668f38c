"""Who made what from what: dataset parents and children, the runs that read a dataset, and a
model's chain back to its training datasets, read from manifests and run.json files."""

from __future__ import annotations

from typing import Any

import polars as pl

from winnow.evals.contamination import training_inputs
from winnow.files import read_json
from winnow.workspace import DatasetVersion, Workspace


def parents(version: DatasetVersion) -> list[str]:
    """NAME@VERSION of every dataset this version was made from."""
    return [f"{p['name']}@{p['version']}" for p in version.manifest.get("parents") or []]


def all_versions(ws: Workspace) -> list[DatasetVersion]:
    """Every finished version in the workspace."""
    return [v for name in ws.names() for v in ws.versions(name)]


def children(ws: Workspace, version: DatasetVersion) -> list[str]:
    """NAME@VERSION of every dataset made from this version."""
    return [v.ref for v in all_versions(ws) if version.ref in parents(v)]


def run_records(ws: Workspace) -> dict[str, dict[str, Any]]:
    """run.json of every run, by name; a folder without a readable record is skipped."""
    found = {}
    for path in sorted((ws.root / "runs").glob("*/run.json")):
        try:
            found[path.parent.name] = read_json(path)
        except (OSError, ValueError):
            continue
    return found


def runs_reading(ws: Workspace, version: DatasetVersion) -> list[str]:
    """Training runs whose inputs include this version."""
    return [
        name
        for name, record in run_records(ws).items()
        if any(i.get("ref") == version.ref for i in record.get("inputs") or [])
    ]


def model_run(record: dict[str, Any]) -> str | None:
    """The training run an eval run scored, or None for a model from elsewhere."""
    return ((record.get("model") or {}).get("run") or {}).get("name")


def base_run(record: dict[str, Any]) -> str | None:
    """The run a training run started from, or None for a tiny, hub or local base."""
    return ((record.get("base") or {}).get("run") or {}).get("name")


def runs_from(records: dict[str, dict[str, Any]], name: str) -> list[str]:
    """Training runs that started from run NAME's model."""
    return [n for n, r in records.items() if r.get("method") != "evaluate" and base_run(r) == name]


def evals_of(records: dict[str, dict[str, Any]], name: str) -> list[str]:
    """Eval runs that scored run NAME's model."""
    return [n for n, r in records.items() if r.get("method") == "evaluate" and model_run(r) == name]


def model_chain(record: dict[str, Any]) -> list[dict[str, Any]]:
    """An eval run's model back to its first base: one entry per run with its input datasets."""
    run = (record.get("model") or {}).get("run")
    chain = []
    while run:
        chain.append(
            {
                "run": run["name"],
                "method": run.get("method"),
                "datasets": [i["ref"] for i in run.get("inputs", [])],
            }
        )
        run = (run.get("base") or {}).get("run")
    return chain


def training_datasets(record: dict[str, Any]) -> list[str]:
    """Every dataset an eval run's model was trained on, through its bases."""
    run = (record.get("model") or {}).get("run")
    return list(dict.fromkeys(i["ref"] for i in training_inputs(run)))


def funnel(manifest: dict[str, Any]) -> pl.DataFrame:
    """Rows going into each step and kept by it, in recipe order."""
    steps = manifest.get("steps") or []
    return pl.DataFrame(
        {
            "step": [f"{s['index'] + 1}. {s['step']}" for s in steps],
            "in": [s["in"] for s in steps],
            "kept": [s["out"] for s in steps],
        },
        schema={"step": pl.Utf8, "in": pl.Int64, "kept": pl.Int64},
    )


def removals(manifest: dict[str, Any]) -> pl.DataFrame:
    """Rows removed per step and reason, largest first."""
    rows = [
        {"step": s["step"], "reason": reason, "rows": count}
        for s in manifest.get("steps") or []
        for reason, count in s.get("removed", {}).items()
    ]
    for reason, count in ((manifest.get("preference") or {}).get("reasons") or {}).items():
        rows.append({"step": "preference", "reason": reason, "rows": count})
    schema = {"step": pl.Utf8, "reason": pl.Utf8, "rows": pl.Int64}
    return pl.DataFrame(rows, schema=schema).sort("rows", descending=True)


def duplicate_target(
    ws: Workspace, version: DatasetVersion, value: str
) -> tuple[DatasetVersion, str]:
    """The version and id a `duplicate_of` value names: ID in this version, or NAME@VERSION:ID
    in another."""
    if "@" in value and ":" in value:
        ref, _, row_id = value.partition(":")
        return ws.dataset(ref), row_id
    return version, value
