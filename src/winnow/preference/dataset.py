"""Import a preference file into a dataset version: kept/, rejected/, quarantine/, manifest."""

from __future__ import annotations

import json
import platform
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

import polars as pl
import xxhash

from winnow.curate.readers.base import QUARANTINE_SCHEMA, RAW_LIMIT
from winnow.errors import WinnowError
from winnow.files import write_json, write_parquet
from winnow.instruct.importers import apply_map
from winnow.manifest import package_versions, split_summary
from winnow.preference.importers import (
    FORMATS,
    LAYOUTS,
    PAIRINGS,
    Candidate,
    Row,
    detect_format,
    import_records,
    keys_of,
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


@dataclass
class FileRead:
    """What one input file gave: its format, the keys of its first records, and counts."""

    path: str
    name: str
    format: str
    keys: list[str]
    records: int
    candidates: int

    def layout(self) -> str:
        """One clause naming the keys the format expects and the keys the file has."""
        return (
            f"format {self.format} reads {LAYOUTS[self.format]}, and its first records have "
            f"{', '.join(self.keys) or 'no keys'}"
        )


def usable_by_file(checked: Checked) -> Counter[str]:
    """Kept and duplicate rows per source name: the files that gave at least one usable row."""
    return Counter(row["source"] for row in [*checked.kept, *checked.duplicates])


def check_usable(files: list[FileRead], checked: Checked, label: str) -> list[str]:
    """Refuse an import that kept nothing (one sentence naming the file, the keys its format
    reads and the keys it has); warnings for files of a larger import that gave no usable row."""
    if not checked.kept:
        reasons = checked.quarantine_reasons()
        if len(files) == 1:
            where, what = files[0].path, files[0].layout()
        else:
            where = f"{len(files)} files from {label}"
            what = f"{files[0].path}: {files[0].layout()}"
        if not checked.quarantined:
            raise WinnowError(f"{where}: holds no records; give a file of preference records.")
        counted = ", ".join(f"{reason} {count:,}" for reason, count in reasons.items())
        raise WinnowError(
            f"{where}: no usable rows, all {len(checked.quarantined):,} were quarantined "
            f"({counted}); {what}; check --format and --map, or fix the records."
        )
    usable = usable_by_file(checked)
    warnings = []
    for f in files:
        if not f.candidates:
            warnings.append(f"{f.path}: holds no records")
        elif not usable[f.name]:
            warnings.append(f"{f.path}: all {f.candidates:,} rows were quarantined; {f.layout()}")
    return warnings


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
    reads: list[FileRead] | None = None,
    mapping: dict[str, str] | None = None,
    warnings: list[str] | None = None,
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
    paired = sum(row["label"] is None for row in checked.kept)
    report = {
        "format": fmt,
        "pairing": pairing if "ranked" in fmt.split("+") else None,
        "map": mapping or None,
        "records": sum(r.records for r in reads or []),
        "kept_pairs": paired,
        "kept_unpaired": kept - paired,
        "quarantined": checked.quarantine_reasons(),
        "rejected": checked.rejected_reasons(),
        "reasons": checked.reasons(),
        "length_bias": length_bias(checked.kept),
        "labels": label_counts(checked.kept),
        "languages": language_mix(checked.kept),
        "language_of": "py3langid on the prompt's last user turn",
    }
    given = {"format": fmt, "pairing": pairing} | ({"map": mapping} if mapping else {})
    options = json.dumps(given, sort_keys=True)
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
        "warnings": list(warnings or []),
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
    mapping: dict[str, str] | None = None,
) -> DatasetVersion:
    """Read, check and write `files` as a new version of preference dataset `output`.

    With `fmt` auto each file is detected on its own; pairs are deduplicated across files.
    `mapping` ({target: column}, from --map) renames columns before detection. An import that
    keeps no row at all is refused, naming the keys the format reads and the keys found.
    """
    started = perf_counter()
    check_name(output)
    if fmt != "auto" and fmt not in FORMATS:
        raise WinnowError(f"--format '{fmt}' is unknown; use auto or one of: {', '.join(FORMATS)}.")
    if pairing not in PAIRINGS:
        raise WinnowError(f"--pairs '{pairing}' is unknown; use one of: {', '.join(PAIRINGS)}.")
    candidates: list[Candidate] = []
    formats: dict[str, None] = {}
    reads: list[FileRead] = []
    for path, name in files:
        records, unreadable = read_records(path)
        records = apply_map(records, mapping or {}, path)
        used = detect_format(records, str(path)) if fmt == "auto" else fmt
        formats[used] = None
        found = unreadable + import_records(records, used, name, pairing)
        for candidate in found:
            candidate.file = str(path)
        candidates.extend(found)
        count = len(records) + len(unreadable)
        reads.append(FileRead(str(path), name, used, keys_of(records), count, len(found)))
    chosen_format = "+".join(formats)
    checked = check(candidates)
    warnings = check_usable(reads, checked, source_label(files, "preference"))

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
            reads=reads,
            mapping=mapping,
            warnings=warnings,
        )
        write_json(manifest, staging / "manifest.json")

    return ws.publish(output, write)
