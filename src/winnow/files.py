"""Atomic file writes: write to a temporary name, then rename, so a crash leaves no half file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import polars as pl


def _tmp_for(path: Path) -> Path:
    """A temporary sibling name unique to this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_parquet(df: pl.DataFrame, path: Path) -> None:
    """Write a Parquet file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_for(path)
    df.write_parquet(tmp, compression="zstd")
    os.replace(tmp, path)


def write_json(data: Any, path: Path) -> None:
    """Write a JSON file atomically, flushed to disk before the rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_for(path)
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))
