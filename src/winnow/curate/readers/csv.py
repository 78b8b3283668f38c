"""CSV and TSV files, streamed with pyarrow; every field is read as text.

Fields are kept as Utf8 rather than guessed types: a guess made on the first block can be
contradicted by a later one, and shards of one source must share a schema. Cast in a
recipe step where a number is needed. `__line` is the record number counting the header
as 1, which is the file line unless a quoted field holds a newline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from winnow.curate.readers.base import RawBatch, Reader, quarantine_rows
from winnow.errors import WinnowError

BLOCK_BYTES = 4 << 20
"""Bytes pyarrow parses at a time; batches are cut to batch_rows after that."""


class CsvReader(Reader):
    """.csv and .tsv (delimiter from the extension unless `delimiter` is given)."""

    formats = ("csv", "tsv")

    def __init__(self, delimiter: str | None = None, **_options: Any) -> None:
        self.delimiter = delimiter

    def _open(self, path: Path, names: list[str] | None, bad: list[tuple[int, str, str]]):
        """A streaming reader with fields as raw bytes, invalid rows recorded into `bad`."""

        def on_invalid(row: Any) -> str:
            error = f"expected {row.expected_columns} fields, found {row.actual_columns}"
            bad.append((row.number or 0, error, row.text))
            return "skip"

        delimiter = self.delimiter or ("\t" if ".tsv" in path.suffixes else ",")
        types = {n: pa.binary() for n in names} if names else None
        try:
            return pacsv.open_csv(
                path,
                read_options=pacsv.ReadOptions(use_threads=False, block_size=BLOCK_BYTES),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
                ),
                convert_options=pacsv.ConvertOptions(column_types=types),
            )
        except (pa.ArrowException, OSError) as exc:
            raise WinnowError(
                f"{path}: could not be read as CSV ({exc}); check the delimiter option or --format."
            ) from exc

    def read(self, path: Path, batch_rows: int) -> Iterator[RawBatch]:
        """Yield rows in batches of at most `batch_rows`; short/long or non-UTF-8 rows go aside."""
        if path.stat().st_size == 0:
            return
        source = str(path)
        bad: list[tuple[int, str, str]] = []
        names = self._open(path, None, []).schema.names
        stream = self._open(path, names, bad)
        next_line = 2
        for batch in stream:
            raw = pl.from_arrow(batch)
            assert isinstance(raw, pl.DataFrame)
            skipped = {b[0] for b in bad}
            lines = []
            while len(lines) < raw.height:
                if next_line not in skipped:
                    lines.append(next_line)
                next_line += 1
            raw = raw.with_columns(pl.Series("__line", lines, dtype=pl.Int64))
            for start in range(0, raw.height, batch_rows):
                yield self._decode(source, raw.slice(start, batch_rows), bad if not start else [])
            bad.clear()
        if bad:
            empty = pl.DataFrame(schema={**dict.fromkeys(names, pl.Utf8), "__line": pl.Int64})
            yield RawBatch(source, empty, quarantine_rows(source, bad))

    @staticmethod
    def _decode(source: str, raw: pl.DataFrame, bad: list[tuple[int, str, str]]) -> RawBatch:
        """Turn byte fields into text, setting aside rows with bytes that are not UTF-8."""
        fields = [n for n in raw.columns if n != "__line"]
        rows = list(bad)
        try:
            text = raw.with_columns(pl.col(fields).cast(pl.Utf8))
        except pl.exceptions.ComputeError:
            keep = []
            for row in raw.iter_rows(named=True):
                values = [row[n] for n in fields]
                try:
                    [v.decode("utf-8") for v in values if v is not None]
                    keep.append(True)
                except UnicodeDecodeError:
                    shown = ",".join((v or b"").decode("utf-8", "replace") for v in values)
                    rows.append((row["__line"], "invalid UTF-8 in the row", shown))
                    keep.append(False)
            text = raw.filter(pl.Series(keep)).with_columns(pl.col(fields).cast(pl.Utf8))
        return RawBatch(source, text, quarantine_rows(source, sorted(rows)))
