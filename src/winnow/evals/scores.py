"""Scores as rows (run x task x metric x value x stderr), the store DuckDB queries: each eval
run's scores.parquet, and a view over all of them."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import polars as pl

SCHEMA = {
    "run": pl.Utf8,
    "model": pl.Utf8,
    "model_fingerprint": pl.Utf8,
    "task": pl.Utf8,
    "alias": pl.Utf8,
    "is_group": pl.Boolean,
    "metric": pl.Utf8,
    "filter": pl.Utf8,
    "value": pl.Float64,
    "stderr": pl.Float64,
    "samples": pl.Int64,
    "num_fewshot": pl.Int64,
    "version": pl.Utf8,
    "higher_is_better": pl.Boolean,
    "contaminated": pl.Boolean,
    "limit": pl.Float64,
}
"""Columns of scores.parquet."""

ADDRESS = re.compile(r" at 0x[0-9a-f]+")
"""A function's memory address in its repr, which changes from process to process."""


def number(value: Any) -> float | None:
    """A metric value or stderr as a float; lm-eval writes "N/A" where it has none."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def score_rows(
    results: dict[str, Any],
    run: str,
    model: dict[str, Any],
    flagged: set[str],
    limit: float | None,
) -> pl.DataFrame:
    """lm-eval's results as one row per task, metric and filter; `limit` marks a run scored on
    a subset of each task (--limit), null when it scored every document."""
    rows = []
    groups = set(results.get("group_subtasks", {}))
    for task, block in results["results"].items():
        samples = results.get("n-samples", {}).get(task, {}).get("effective")
        better = results.get("higher_is_better", {}).get(task, {})
        for key, value in block.items():
            if "," not in key or "_stderr," in key:
                continue
            metric, filt = key.split(",", 1)
            rows.append(
                {
                    "run": run,
                    "model": model["ref"],
                    "model_fingerprint": model["fingerprint"],
                    "task": task,
                    "alias": str(block.get("alias", task)).strip(" -"),
                    "is_group": task in groups,
                    "metric": metric,
                    "filter": filt,
                    "value": number(value),
                    "stderr": number(block.get(f"{metric}_stderr,{filt}")),
                    "samples": samples,
                    "num_fewshot": results.get("n-shot", {}).get(task),
                    "version": str(results.get("versions", {}).get(task)),
                    "higher_is_better": better.get(metric),
                    "contaminated": task in flagged,
                    "limit": None if limit is None else float(limit),
                }
            )
    return pl.DataFrame(rows, schema=SCHEMA)


def config_hash(config: dict[str, Any]) -> str:
    """sha256 of a task's resolved config without where its files sit on this machine (the
    rendered YAML's path, the data files' absolute paths; their bytes are hashed apart)."""
    metadata = {k: v for k, v in config.get("metadata", {}).items() if k != "config_source"}
    kwargs = {k: v for k, v in (config.get("dataset_kwargs") or {}).items() if k != "data_files"}
    stable = {**config, "metadata": metadata, "dataset_kwargs": kwargs}
    text = ADDRESS.sub("", json.dumps(stable, sort_keys=True, default=str))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def data_files(config: dict[str, Any]) -> list[Path]:
    """The local data files a task's config reads."""
    found = (config.get("dataset_kwargs") or {}).get("data_files") or {}
    values = found.values() if isinstance(found, dict) else [found]
    paths = [p for v in values for p in ([v] if isinstance(v, str) else v)]
    return [Path(p) for p in paths if Path(p).is_file()]


def score_files(root: Path) -> list[Path]:
    """Every eval run's scores.parquet in a workspace."""
    return sorted((root / "runs").glob("*/scores.parquet"))
