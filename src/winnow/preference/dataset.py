"""Import a preference file into a dataset version: kept/, rejected/, quarantine/, manifest."""

from __future__ import annotations

import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

import polars as pl
import xxhash

from winnow.curate.readers.base import QUARANTINE_SCHEMA, RAW_LIMIT
from winnow.errors import WinnowError
from winnow.files import write_json, write_parquet
from winnow.manifest import package_versions, split_summary
from winnow.preference.importers import (
    FORMATS,
    PAIRINGS,
    Candidate,
    Row,
    detect_format,
    import_records,
    read_records,
)
from winnow.preference.report import label_counts, language_mix, length_bias
from winnow.preference.validate import DUPLICATE, Checked, check, pair_key
from winnow.records import SourceFile, files_fingerprint, source_label
from winnow.workspace import DatasetVersion, Workspace, check_name

MESSAGES = pl.List(pl.Struct({"role": pl.Utf8, "content": pl.Utf8}))
"""A list of chat messages, stored as nested Parquet (list of struct)."""

ROW_SCHEMA = {
    "id": pl.Utf8,
    "prompt": MESSAGES,
    "chosen": MESSAGES,
    "rejected": MESSAGES,
    "completion": MESSAGES,
    "label": pl.Boolean,
    "source": pl.Utf8,
    "margin": pl.Float64,
}
"""Columns of kept rows; rejected rows add step, reason and duplicate_of."""

REJECTED_SCHEMA = ROW_SCHEMA | {"step": pl.Utf8, "reason": pl.Utf8, "duplicate_of": pl.Utf8}
QUARANTINE_COLUMNS = QUARANTINE_SCHEMA | {"reason": pl.Utf8}
"""Quarantined rows: the usual source_file/line/error/raw plus the reason code alone."""


def rows_frame(rows: list[Row], schema: dict[str, Any]) -> pl.DataFrame:
    """Rows as a frame with the fixed schema (nested message columns included)."""
    return pl.DataFrame([{k: row.get(k) for k in schema} for row in rows], schema=schema)


def quarantine_frame(candidates: list[Candidate]) -> pl.DataFrame:
    """Quarantined records with their reason and raw JSON (cut to RAW_LIMIT characters)."""
    rows = []
    for c in candidates:
        raw = c.raw if isinstance(c.raw, str) else json.dumps(c.raw, ensure_ascii=False)
        reason = c.reject.reason if c.reject else "bad_row"
        rows.append(
            {
                "source_file": c.file,
                "line": c.line,
                "error": str(c.reject),
                "raw": raw[:RAW_LIMIT],
                "reason": reason,
            }
        )
    return pl.DataFrame(rows, schema=QUARANTINE_COLUMNS)


def fingerprint(rows: list[Row]) -> str:
    """A stable hash of (id, content) of every kept row in order."""
    digest = xxhash.xxh3_128()
    for row in rows:
        digest.update(f"{row['id']}\x1f{pair_key(row)}\x1e".encode())
    return digest.hexdigest()


def build_preference_manifest(
    folder: Path,
    *,
    name: str,
    version: str,
    files: list[SourceFile],
    fmt: str,
    pairing: str,
    checked: Checked,
    seconds: float,
) -> dict[str, Any]:
    """Assemble manifest.json for a preference version, checking that no row went missing.

    Counts: input = candidate rows (one per record, or one per adjacent ranked pair) plus
    unreadable records; kept + rejected (duplicates) + quarantined must add up to it.
    """
    splits = {split: split_summary(folder / split) for split in ("kept", "rejected", "quarantine")}
    kept, rejected = len(checked.kept), len(checked.duplicates)
    quarantined = len(checked.quarantined)
    written = (splits["kept"]["rows"], splits["rejected"]["rows"], splits["quarantine"]["rows"])
    if written != (kept, rejected, quarantined):
        raise RuntimeError(f"row accounting broke: {(kept, rejected, quarantined)} != {written}")
    report = {
        "format": fmt,
        "pairing": pairing if "ranked" in fmt.split("+") else None,
        "reasons": checked.reasons(),
        "length_bias": length_bias(checked.kept),
        "labels": label_counts(checked.kept),
        "languages": language_mix(checked.kept),
        "language_of": "py3langid on the prompt's last user turn",
    }
    options = json.dumps({"format": fmt, "pairing": pairing}, sort_keys=True)
    return {
        "name": name,
        "version": version,
        "kind": "preference",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": {
            "input": kept + rejected + quarantined,
            "kept": kept,
            "rejected": rejected,
            "quarantined": quarantined,
        },
        "splits": splits,
        "fingerprint": fingerprint(checked.kept),
        "parents": [],
        "source": {
            "name": source_label(files, "preference"),
            "files": [str(path) for path, _ in files],
            "hub_id": None,
            "format": fmt,
            "text_field": None,
            "id_field": None,
            "licence": None,
            "fingerprint": files_fingerprint(files),
        },
        "recipe": {
            "name": "preference",
            "path": None,
            "hash": xxhash.xxh64(options.encode()).hexdigest(),
            "steps": [],
        },
        "steps": [],
        "preference": report,
        "warnings": [],
        "versions": package_versions(),
        "platform": {"python": sys.version.split()[0], "machine": platform.machine()},
        "timings": {"total_seconds": round(seconds, 3)},
    }


def write_splits(folder: Path, checked: Checked) -> None:
    """Write kept, rejected (duplicates) and quarantined rows as one shard per split."""
    for split in ("kept", "rejected", "quarantine"):
        (folder / split).mkdir(parents=True)
    if checked.kept:
        write_parquet(rows_frame(checked.kept, ROW_SCHEMA), folder / "kept" / "part-00000.parquet")
    if checked.duplicates:
        extra = {"step": "preference_dedup", "reason": DUPLICATE}
        duplicates = [{**row, **extra} for row in checked.duplicates]
        frame = rows_frame(duplicates, REJECTED_SCHEMA)
        write_parquet(frame, folder / "rejected" / "part-00000.parquet")
    if checked.quarantined:
        frame = quarantine_frame(checked.quarantined)
        write_parquet(frame, folder / "quarantine" / "part-00000.parquet")


def import_preference(
    ws: Workspace,
    files: list[SourceFile],
    output: str,
    fmt: str = "auto",
    pairing: str = "best-worst",
) -> DatasetVersion:
    """Read, check and write `files` as a new version of preference dataset `output`.

    With `fmt` auto each file is detected on its own; pairs are deduplicated across files.
    """
    started = perf_counter()
    check_name(output)
    if fmt != "auto" and fmt not in FORMATS:
        raise WinnowError(f"--format '{fmt}' is unknown; use auto or one of: {', '.join(FORMATS)}.")
    if pairing not in PAIRINGS:
        raise WinnowError(f"--pairs '{pairing}' is unknown; use one of: {', '.join(PAIRINGS)}.")
    candidates: list[Candidate] = []
    formats: dict[str, None] = {}
    for path, name in files:
        records, unreadable = read_records(path)
        used = detect_format(records, str(path)) if fmt == "auto" else fmt
        formats[used] = None
        for found in unreadable + import_records(records, used, name, pairing):
            found.file = str(path)
            candidates.append(found)
    chosen_format = "+".join(formats)
    checked = check(candidates)

    def write(staging: Path, version: str) -> None:
        write_splits(staging, checked)
        manifest = build_preference_manifest(
            staging,
            name=output,
            version=version,
            files=files,
            fmt=chosen_format,
            pairing=pairing,
            checked=checked,
            seconds=perf_counter() - started,
        )
        write_json(manifest, staging / "manifest.json")

    return ws.publish(output, write)
