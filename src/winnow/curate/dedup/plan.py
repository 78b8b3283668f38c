"""A global step decided shard by shard: documents numbered across shards, shards cut into
blocks, and jobs that exchange partitioned Parquet under the step's scratch folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from winnow.curate.steps.base import GlobalContext
from winnow.files import write_parquet
from winnow.workspace import Workspace

BLOCK_SHARDS = 8
"""At most this many consecutive shards make a block, the unit most jobs work on: their
memory is a block's shingle sets or ids, and the files between two stages number blocks^2."""
PARTITION_ENTRIES = 4_000_000
"""Hash entries (a few dozen bytes each) a partition is sized for."""


@dataclass(frozen=True)
class Plan:
    """What every job of one decision needs; small, so it travels with each job."""

    step: Any
    scored: tuple[Path, ...]
    offsets: tuple[int, ...]
    blocks: tuple[tuple[int, int], ...]
    partitions: int
    workdir: Path
    workspace: Workspace

    def start(self, block: int) -> int:
        """The first document number of a block."""
        return self.offsets[self.blocks[block][0]]

    def block_of(self, docs: pl.Series) -> pl.Series:
        """The block holding each document number."""
        ends = pl.Series([self.offsets[end] for _, end in self.blocks], dtype=pl.Int64)
        return ends.search_sorted(docs, side="right").cast(pl.Int64)

    def folder(self, *parts: str) -> Path:
        """A stage's folder inside the scratch area."""
        return self.workdir.joinpath("sharded", *parts)

    def read(self, *parts: str, schema: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
        """Every file in a stage's folder, in name order (empty when there are none)."""
        files = sorted(self.folder(*parts).glob("*.parquet"))
        if not files:
            return pl.DataFrame(schema=schema or {})
        return pl.concat([pl.read_parquet(f) for f in files], how="vertical_relaxed")

    def scatter(self, frame: pl.DataFrame, column: str, stage: str, name: str) -> None:
        """Write a frame's rows to `stage/b{block}/{name}`, by the block of `column`."""
        if not frame.height:
            return
        blocks = frame.with_columns(self.block_of(frame[column]).alias("__to"))
        for (to,), part in blocks.partition_by("__to", as_dict=True, include_key=False).items():
            write_parquet(part, self.folder(stage, f"b{to:06d}") / f"{name}.parquet", scratch=True)

    def rows(self, shard: int, columns: list[str]) -> pl.DataFrame:
        """Columns of one scored shard."""
        return pl.read_parquet(self.scored[shard], columns=columns)

    def block_rows(self, block: int, columns: list[str]) -> pl.DataFrame:
        """Columns of a block's shards, one after the other."""
        first, end = self.blocks[block]
        parts = [self.rows(shard, columns) for shard in range(first, end)]
        return pl.concat(parts, how="vertical_relaxed")


def make_plan(
    step: Any, scored: list[Path], context: GlobalContext, workers: int, entries_per_row: int
) -> Plan:
    """Number the documents, cut the shards into blocks and size the hash partitions so
    that every worker has jobs (2 each) and no job outgrows its bounds."""
    heights = [pl.scan_parquet(path).select(pl.len()).collect().item() for path in scored]
    offsets = (0, *np.cumsum(heights).tolist())
    size = max(1, min(BLOCK_SHARDS, len(scored) // (2 * workers)))
    blocks = tuple((k, min(k + size, len(scored))) for k in range(0, len(scored), size))
    entries = offsets[-1] * entries_per_row
    partitions = max(2 * workers, -(-entries // PARTITION_ENTRIES))
    return Plan(
        step, tuple(scored), offsets, blocks, partitions, context.workdir, context.workspace
    )
