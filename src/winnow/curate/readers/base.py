"""The reader contract: raw records in bounded batches, unreadable rows set aside with why."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

QUARANTINE_SCHEMA = {"source_file": pl.Utf8, "line": pl.Int64, "error": pl.Utf8, "raw": pl.Utf8}
"""Columns of quarantined rows: where they came from, why they failed, and the raw text (cut)."""

RAW_LIMIT = 2000
"""How many characters of an unreadable row are kept in the quarantine for a person to read."""


@dataclass
class RawBatch:
    """Up to `batch_rows` records read from one file, plus the rows of it that failed to read.

    `records` holds the file's own fields as columns and `__line`, the 1-based line (or row,
    or record) number of each record in its file, which gives stable ids and error messages.
    """

    source_file: str
    records: pl.DataFrame
    quarantine: pl.DataFrame


def empty_quarantine() -> pl.DataFrame:
    """A quarantine frame with no rows, to keep schemas stable across batches."""
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)


def quarantine_rows(source_file: str, rows: list[tuple[int, str, str]]) -> pl.DataFrame:
    """Build quarantine rows from (line, error, raw) triples of one file."""
    if not rows:
        return empty_quarantine()
    return pl.DataFrame(
        {
            "source_file": [source_file] * len(rows),
            "line": [r[0] for r in rows],
            "error": [r[1] for r in rows],
            "raw": [r[2][:RAW_LIMIT] for r in rows],
        },
        schema=QUARANTINE_SCHEMA,
    )


class Reader(ABC):
    """Reads one file format; subclasses set `formats` and implement `read`."""

    formats: tuple[str, ...] = ()

    @abstractmethod
    def read(self, path: Path, batch_rows: int) -> Iterator[RawBatch]:
        """Yield the file's records in batches of at most `batch_rows` rows, in file order."""
