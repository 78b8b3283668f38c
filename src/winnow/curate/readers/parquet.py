"""Parquet files, read in record batches so a large file never sits whole in memory.

A damaged Parquet file (one that starts like Parquet but whose footer or data cannot be read,
such as a truncated download) keeps the rows read before the damage, and the damage is one
quarantined row naming the row where it starts; the run goes on. A file that is not Parquet
at all is one error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from winnow.curate.readers.base import RawBatch, Reader, empty_quarantine, quarantine_rows
from winnow.errors import WinnowError


class ParquetReader(Reader):
    """Parquet via pyarrow's batch iterator; `__line` is the 1-based row number."""

    formats = ("parquet",)

    def __init__(self, **_options: Any) -> None:
        pass

    def read(self, path: Path, batch_rows: int) -> Iterator[RawBatch]:
        """Yield the file's rows in batches of at most `batch_rows`."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            handle = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            with path.open("rb") as raw:
                parquet = raw.read(4) == b"PAR1"
            if not parquet:
                raise WinnowError(
                    f"{path}: is not a readable Parquet file ({exc}); check the file or pass "
                    "--format."
                ) from exc
            yield self._damaged(path, 1, f"its footer cannot be read ({exc}), so no row can")
            return
        first = 1
        with handle:
            try:
                for batch in handle.iter_batches(batch_size=batch_rows):
                    df = pl.from_arrow(batch)
                    assert isinstance(df, pl.DataFrame)
                    lines = pl.int_range(first, first + df.height, dtype=pl.Int64, eager=True)
                    first += df.height
                    yield RawBatch(
                        str(path), df.with_columns(lines.alias("__line")), empty_quarantine()
                    )
            except (pa.ArrowException, OSError) as exc:
                why = f"row {first} and after cannot be read ({exc}); the rows before it were"
                yield self._damaged(path, first, why)

    @staticmethod
    def _damaged(path: Path, row: int, why: str) -> RawBatch:
        """The one quarantined row of a damaged Parquet file."""
        error = f"the Parquet file is damaged: {why}; fetch or write the file again"
        empty = pl.DataFrame({"__line": pl.Series([], dtype=pl.Int64)})
        return RawBatch(str(path), empty, quarantine_rows(str(path), [(row, error, "")]))
