"""The manifest of a dataset version: what it holds, where it came from, how it was made."""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

if TYPE_CHECKING:
    from winnow.curate.recipes import Recipe
    from winnow.curate.sources import SourceSpec

PACKAGES = ("winnow-llm", "polars", "duckdb", "pyarrow", "py3langid", "datasets")
"""Packages whose versions are recorded, since they can change a dataset's content."""


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Versions of Python and of the packages that shape a result (by default, the data)."""
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def kept_content(files: list[Path]) -> tuple[str, int]:
    """The content fingerprint, a stable hash of `id \\x1f text \\x1e` of every row in order
    (the same on any machine), and the UTF-8 bytes of the text, in one read of the shards."""
    digest = xxhash.xxh3_128()
    text_bytes = 0
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(columns=["id", "text"], batch_size=65536):
            text_bytes += pc.sum(pc.binary_length(batch.column(1))).as_py() or 0
            # a null prints as None, as it did when rows were hashed one by one in Python
            ids, texts = (pc.fill_null(c.cast(pa.large_string()), "None") for c in batch.columns)
            marks = (pa.scalar(m, pa.large_string()) for m in ("\x1f", "\x1e", ""))
            rows = pc.binary_join_element_wise(ids, next(marks), texts, *marks)
            _, offsets, data = rows.buffers()
            bounds = np.frombuffer(offsets, np.int64)[rows.offset : rows.offset + len(rows) + 1]
            if data is not None:
                digest.update(memoryview(data)[bounds[0] : bounds[-1]])
    return digest.hexdigest(), int(text_bytes)


def split_summary(folder: Path) -> dict[str, Any]:
    """Rows, file bytes and the column schema of one split's shards."""
    files = sorted(folder.glob("*.parquet"))
    if not files:
        return {"rows": 0, "bytes": 0, "files": 0, "schema": {}}
    con = duckdb.connect(":memory:")
    relation = f"read_parquet('{folder}/*.parquet', union_by_name = true)"
    rows = con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
    schema = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    con.close()
    size = sum(p.stat().st_size for p in files)
    return {"rows": rows, "bytes": size, "files": len(files), "schema": schema}


def describe_source(source: SourceSpec) -> dict[str, Any]:
    """Where the rows came from, enough to find and re-read them (URLs for object storage)."""
    return {
        "name": source.name,
        "url": source.url,
        "files": source.files(),
        "hub_id": source.hub_id,
        "format": source.format,
        "text_field": source.text_field,
        "id_field": source.id_field,
        "licence": source.licence,
        "fingerprint": source.fingerprint(),
    }


def build_manifest(
    folder: Path,
    *,
    name: str,
    version: str,
    recipe: Recipe,
    source: SourceSpec,
    rows_in: int,
    steps: list[dict[str, Any]],
    seconds: float,
    warnings: list[str],
) -> dict[str, Any]:
    """Assemble manifest.json for a finished dataset folder, checking that no row went missing."""
    splits = {split: split_summary(folder / split) for split in ("kept", "rejected", "quarantine")}
    quarantined = splits["quarantine"]["rows"]
    total = rows_in + quarantined
    accounted = splits["kept"]["rows"] + splits["rejected"]["rows"] + quarantined
    if accounted != total:
        raise RuntimeError(f"row accounting broke: {total} read but {accounted} written")
    kept_files = sorted((folder / "kept").glob("*.parquet"))
    fingerprint, text_bytes = kept_content(kept_files)
    return {
        "name": name,
        "version": version,
        "kind": "pretraining",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": {
            "input": total,
            "kept": splits["kept"]["rows"],
            "rejected": splits["rejected"]["rows"],
            "quarantined": quarantined,
            "kept_text_bytes": int(text_bytes),
        },
        "splits": splits,
        "fingerprint": fingerprint,
        "parents": source.parents,
        "source": describe_source(source),
        "recipe": {
            "name": recipe.name,
            "path": str(recipe.path) if recipe.path else None,
            "hash": recipe.hash,
            "steps": recipe.entries,
        },
        "steps": steps,
        "warnings": warnings,
        "versions": package_versions(),
        "platform": {"python": sys.version.split()[0], "machine": platform.machine()},
        "timings": {"total_seconds": round(seconds, 3)},
    }


def build_mix_manifest(
    folder: Path,
    *,
    name: str,
    version: str,
    mix: dict[str, Any],
    parents: list[dict[str, Any]],
    source: dict[str, Any],
    seconds: float,
    warnings: list[str],
) -> dict[str, Any]:
    """Assemble manifest.json for a mixed dataset folder, checking its rows against the draw.

    Counts: input = rows drawn (repeats included) + rows of file inputs that could not be read;
    kept = rows drawn; nothing is rejected; `mix.sources` holds each input's realised part.
    """
    splits = {split: split_summary(folder / split) for split in ("kept", "rejected", "quarantine")}
    drawn = sum(part["docs"] for part in mix["sources"])
    quarantined = sum(part["quarantined"] for part in mix["sources"])
    written = (splits["kept"]["rows"], splits["rejected"]["rows"], splits["quarantine"]["rows"])
    if written != (drawn, 0, quarantined):
        raise RuntimeError(f"mix accounting broke: planned {drawn} + {quarantined}, got {written}")
    kept_files = sorted((folder / "kept").glob("*.parquet"))
    fingerprint, text_bytes = kept_content(kept_files)
    return {
        "name": name,
        "version": version,
        "kind": "mix",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": {
            "input": drawn + quarantined,
            "kept": drawn,
            "rejected": 0,
            "quarantined": quarantined,
            "kept_text_bytes": int(text_bytes),
        },
        "splits": splits,
        "fingerprint": fingerprint,
        "parents": parents,
        "source": source,
        "recipe": {"name": "mix", "path": None, "hash": mix["hash"], "steps": []},
        "steps": [],
        "mix": mix,
        "warnings": warnings,
        "versions": package_versions(),
        "platform": {"python": sys.version.split()[0], "machine": platform.machine()},
        "timings": {"total_seconds": round(seconds, 3)},
    }
