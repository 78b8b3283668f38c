"""Parquet files, read in record batches so a large file never sits whole in memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from winnow.curate.readers.base import RawBatch, Reader, empty_quarantine
from winnow.errors import WinnowError


class ParquetReader(Reader):
    """Parquet via pyarrow's batch iterator; `__line` is the 1-based row number."""

    formats = ("parquet",)

    def __init__(self, **_options: Any) -> None:
        pass

    def read(self, path: Path, batch_rows: int) -> Iterator[RawBatch]:
        """Yield the file's rows in batches of at most `batch_rows`."""
        try:
            handle = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise WinnowError(
                f"{path}: is not a readable Parquet file ({exc}); check the file or pass --format."
            ) from exc
        first = 1
        with handle:
            for batch in handle.iter_batches(batch_size=batch_rows):
                df = pl.from_arrow(batch)
                assert isinstance(df, pl.DataFrame)
                lines = pl.int_range(first, first + df.height, dtype=pl.Int64, eager=True)
                first += df.height
                yield RawBatch(
                    str(path), df.with_columns(lines.alias("__line")), empty_quarantine()
                )
