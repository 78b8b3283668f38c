"""CSV and TSV files, streamed with Python's csv module; every field is read as text.

Fields are kept as Utf8 rather than guessed types: a guess made on the first block can be
contradicted by a later one, and shards of one source must share a schema. Cast in a
recipe step where a number is needed. `__line` is the record number counting the header
as 1 (a quoted field may hold newlines, so a record can span several file lines; errors
name the file line a record starts on).

The parser is strict where a lenient one would invent or alter a row: records are split only
by the csv module over the file opened with newline="" (a newline, form feed, U+2028 or
U+0085 inside a quoted field stays in the field), a file that ends inside a quoted field
quarantines that last record instead of keeping the rest of the file as one field, a record
with too few or too many fields or with bytes that are not UTF-8 is quarantined, and a
header that names a column twice is refused.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import polars as pl

from winnow.curate.readers.base import RawBatch, Reader, quarantine_rows
from winnow.curate.readers.compressed import DecodedStream, open_stream
from winnow.errors import WinnowError

_NOT_UTF8 = re.compile("[\udc80-\udcff]")
"""Bytes that were not UTF-8, as the surrogateescape decoder leaves them."""


@dataclass
class CsvRecord:
    """One record of a CSV file: the file line it starts on, its fields (None when it could
    not be parsed), the error (None when it is usable) and its raw text."""

    line: int
    fields: list[str] | None
    error: str | None
    raw: str


class _Lines:
    """A text stream's lines for csv.reader, keeping those of the record being read."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.taken: list[str] = []
        self.count = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.handle.readline()
        if not line:
            raise StopIteration
        self.taken.append(line)
        self.count += 1
        return line


def text_handle(stream: DecodedStream) -> TextIO:
    """Decoded text of a byte stream for the csv module: BOM dropped, newlines untouched,
    bytes that are not UTF-8 kept as surrogates so their record can be quarantined."""
    return io.TextIOWrapper(
        stream,  # type: ignore[arg-type]
        encoding="utf-8-sig",
        errors="surrogateescape",
        newline="",
    )


def shown(raw: str) -> str:
    """Raw text fit for the quarantine (bytes that were not UTF-8 replaced)."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def iter_csv(
    handle: TextIO, delimiter: str, stream: DecodedStream | None = None
) -> Iterator[CsvRecord]:
    """Every record of a CSV text stream, the header first, blank lines skipped.

    When `stream` (the bytes under `handle`) ends at damage, a last record that the damage
    cut (no newline after it) becomes the damage's error, else one more record says where
    the file broke.
    """
    csv.field_size_limit(max(csv.field_size_limit(), min(sys.maxsize, 2**31 - 1)))
    lines = _Lines(handle)
    last: CsvRecord | None = None
    for record in _parse_csv(lines, delimiter):
        if last is not None:
            yield last
        last = record
    damage = stream.damage if stream is not None else None
    if damage is None:
        if last is not None:
            yield last
        return
    if last is not None and last.raw.endswith(("\n", "\r")):
        yield last
        last = None
    line = last.line if last is not None else lines.count + 1
    damage.line = line
    raw = last.raw if last is not None else ""
    yield CsvRecord(line, None, damage.describe("record"), raw)


def _parse_csv(lines: _Lines, delimiter: str) -> Iterator[CsvRecord]:
    """The records of `iter_csv`, before damage is looked at."""
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    while True:
        start = lines.count + 1
        lines.taken = []
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raw = "".join(lines.taken)
            if "unexpected end of data" in str(exc):
                error = (
                    f"the file ends inside a quoted field of the record that starts on file "
                    f"line {start}: a closing quote is missing (a truncated file?)"
                )
            else:
                error = (
                    f"malformed CSV quoting in the record that starts on file line {start}: {exc}"
                )
            yield CsvRecord(start, None, error, raw)
            continue
        raw = "".join(lines.taken)
        if not fields:
            continue
        if _NOT_UTF8.search(raw):
            error = f"bytes that are not UTF-8 in the record that starts on file line {start}"
            yield CsvRecord(start, None, error, raw)
            continue
        yield CsvRecord(start, fields, None, raw)


def read_header(records: Iterator[CsvRecord], path: Path | str) -> list[str] | None:
    """The column names of a CSV file (None when it is empty), refusing a header that cannot
    be parsed or names a column twice."""
    header = next(records, None)
    if header is None:
        return None
    if header.fields is None:
        raise WinnowError(
            f"{path}: the header cannot be read ({header.error}); fix the first line."
        )
    seen: set[str] = set()
    twice = sorted({n for n in header.fields if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if twice:
        names = ", ".join(repr(n) for n in twice)
        raise WinnowError(
            f"{path}: the header names column {names} more than once; give each column its "
            "own name."
        )
    return header.fields


def field_count_error(record: CsvRecord, expected: int) -> str | None:
    """Why a record's fields do not fit the header, or None."""
    assert record.fields is not None
    if len(record.fields) == expected:
        return None
    return (
        f"expected {expected} fields, found {len(record.fields)} in the record that starts "
        f"on file line {record.line}"
    )


class CsvReader(Reader):
    """.csv and .tsv (delimiter from the extension unless `delimiter` is given)."""

    formats = ("csv", "tsv")

    def __init__(self, delimiter: str | None = None, **_options: Any) -> None:
        self.delimiter = delimiter

    def read(self, path: Path, batch_rows: int) -> Iterator[RawBatch]:
        """Yield rows in batches of at most `batch_rows`; unusable records go aside."""
        source = str(path)
        delimiter = self.delimiter or ("\t" if ".tsv" in path.suffixes else ",")
        if len(delimiter) != 1:
            raise WinnowError(
                f"delimiter {delimiter!r} for {path}: must be one character; fix the option."
            )
        with open_stream(path) as stream, text_handle(stream) as handle:
            records = iter_csv(handle, delimiter, stream)
            names = read_header(records, path)
            if names is None:
                return
            number = 1
            rows: list[list[str]] = []
            lines: list[int] = []
            bad: list[tuple[int, str, str]] = []
            for record in records:
                number += 1
                error = record.error or field_count_error(record, len(names))
                if error is not None:
                    bad.append((number, error, shown(record.raw)))
                else:
                    assert record.fields is not None
                    rows.append(record.fields)
                    lines.append(number)
                if len(rows) + len(bad) >= batch_rows:
                    yield self._batch(source, names, rows, lines, bad)
                    rows, lines, bad = [], [], []
            if rows or bad:
                yield self._batch(source, names, rows, lines, bad)

    @staticmethod
    def _batch(
        source: str,
        names: list[str],
        rows: list[list[str]],
        lines: list[int],
        bad: list[tuple[int, str, str]],
    ) -> RawBatch:
        """Rows as Utf8 columns plus `__line`, with the quarantined records."""
        columns = {
            n: pl.Series(n, [r[i] for r in rows], dtype=pl.Utf8) for i, n in enumerate(names)
        }
        frame = pl.DataFrame([*columns.values(), pl.Series("__line", lines, dtype=pl.Int64)])
        return RawBatch(source, frame, quarantine_rows(source, bad))
