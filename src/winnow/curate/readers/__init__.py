"""Readers: one module per file format, each yielding bounded batches of raw records."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from winnow.curate.readers.base import Reader
from winnow.curate.readers.csv import CsvReader
from winnow.curate.readers.hf import HfReader, is_saved_dataset
from winnow.curate.readers.jsonl import JsonlReader
from winnow.curate.readers.parquet import ParquetReader
from winnow.curate.readers.text import TextReader
from winnow.curate.readers.warc import WarcReader
from winnow.errors import WinnowError

READERS: dict[str, type[Reader]] = {
    "jsonl": JsonlReader,
    "json": JsonlReader,
    "ndjson": JsonlReader,
    "parquet": ParquetReader,
    "csv": CsvReader,
    "tsv": CsvReader,
    "text": TextReader,
    "txt": TextReader,
    "warc": WarcReader,
    "hf": HfReader,
}
"""Format names accepted by --format and a source's `format` key."""

EXTENSIONS = {
    ".jsonl": "jsonl",
    ".json": "json",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "text",
    ".warc": "warc",
}
"""File extensions (before .gz or .zst) and their formats."""

COMPRESSED = {
    "jsonl": (".gz", ".zst"),
    "json": (".gz", ".zst"),
    "text": (".gz", ".zst"),
    "warc": (".gz",),
    "csv": (),
    "tsv": (),
    "parquet": (),
}
"""Which compressions each format can be read through."""


def format_of(path: Path) -> str | None:
    """The format a path's name or folder layout says it holds, if any."""
    return "hf" if is_saved_dataset(path) else format_of_name(path.name)


def format_of_name(name: str) -> str | None:
    """The format a file name's extensions say it holds, if any (also for object names)."""
    match = re.search(r"(\.[a-z]+)(\.gz|\.zst)?$", name.lower())
    if not match or match.group(1) not in EXTENSIONS:
        return None
    fmt = EXTENSIONS[match.group(1)]
    compression = match.group(2)
    return fmt if not compression or compression in COMPRESSED[fmt] else None


def reader_for(path: Path, fmt: str | None = None, **options: Any) -> Reader:
    """The reader for a file, by `fmt` when given, else by its extension or folder layout."""
    chosen = fmt or format_of(path)
    if chosen is None:
        known = ", ".join(
            f"{ext}{c}" for ext, name in EXTENSIONS.items() for c in ("", *COMPRESSED[name])
        )
        raise WinnowError(
            f"{path}: unknown file type; expected one of {known} or a folder saved with "
            f"save_to_disk; pass --format ({', '.join(sorted(READERS))}) to choose the reader."
        )
    if chosen not in READERS:
        raise WinnowError(
            f"{path}: format '{chosen}' is not known; use one of {', '.join(sorted(READERS))}."
        )
    return READERS[chosen](**options)
