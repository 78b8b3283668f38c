"""`exact_dedup` decided shard by shard, for a cluster: no job holds more than a partition.

1. `partition_hashes`: each shard sends its rows' text hashes, document numbers and ids to
   partitions by hash.
2. `first_copies`: in each partition every hash keeps its first document in stable order
   (the least number, as the one-process `decide` keeps the first row); the later ones are
   sent, with the first one's id, to the block holding them.
3. `write_verdicts`: each shard's verdict, the same rows and columns `decide` gives it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from winnow.curate.dedup.plan import Plan, make_plan
from winnow.curate.steps.base import GlobalContext, Step, verdict_path
from winnow.files import write_parquet

if TYPE_CHECKING:
    from winnow.curate.executors import Executor

COPIES = {"doc": pl.Int64, "duplicate_of": pl.String}


def decide(
    step: Step, scored: list[Path], context: GlobalContext, executor: Executor
) -> dict[str, int]:
    """Write every shard's verdict through the stages above; the step counts nothing more."""
    plan = make_plan(step, scored, context, executor.workers, 1)
    # an interrupted attempt may have cut the shards otherwise; its files must not be read
    shutil.rmtree(plan.folder(), ignore_errors=True)
    executor.map(partition_hashes, [(plan, i) for i in range(len(scored))])
    executor.map(first_copies, [(plan, p) for p in range(plan.partitions)])
    executor.map(write_verdicts, [(plan, b) for b in range(len(plan.blocks))])
    return {}


def partition_hashes(plan: Plan, shard: int) -> int:
    """Send one shard's hashes, with document numbers and ids, to partitions by hash."""
    hashed = plan.step.col("hash")
    keys = plan.rows(shard, ["id", hashed])
    frame = keys.select(
        pl.col(hashed),
        (pl.int_range(pl.len(), dtype=pl.Int64) + plan.offsets[shard]).alias("doc"),
        pl.col("id").cast(pl.String),
        # the hash is hex, so its first 8 digits spread rows evenly
        (pl.col(hashed).str.slice(0, 8).str.to_integer(base=16) % plan.partitions).alias("__p"),
    )
    for (p,), part in frame.partition_by("__p", as_dict=True, include_key=False).items():
        write_parquet(
            part, plan.folder("hashes", f"p{p:06d}") / f"{shard:06d}.parquet", scratch=True
        )
    return keys.height


def first_copies(plan: Plan, partition: int) -> int:
    """Point every later copy of a hash at the first one's id; return the copies."""
    rows = plan.read("hashes", f"p{partition:06d}")
    if not rows.height:
        return 0
    hashed = plan.step.col("hash")
    first = (
        rows.sort("doc")
        .group_by(hashed)
        .agg(pl.col("doc").first().alias("first"), pl.col("id").first().alias("duplicate_of"))
    )
    copies = (
        rows.join(first, on=hashed)
        .filter(pl.col("doc") != pl.col("first"))
        .select("doc", "duplicate_of")
    )
    plan.scatter(copies, "doc", "copies", f"p{partition:06d}")
    return copies.height


def write_verdicts(plan: Plan, block: int) -> int:
    """Write the verdict of each shard of the block; return its copies."""
    copies = plan.read("copies", f"b{block:06d}", schema=COPIES)
    for shard in range(*plan.blocks[block]):
        low, high = plan.offsets[shard], plan.offsets[shard + 1]
        mine = copies.filter(pl.col("doc").is_between(low, high, closed="left"))
        verdict = (
            pl.DataFrame({"__row": pl.Series(np.arange(high - low), dtype=pl.UInt32)})
            .join(
                mine.select((pl.col("doc") - low).cast(pl.UInt32).alias("__row"), "duplicate_of"),
                on="__row",
                how="left",
                maintain_order="left",
            )
            .select(
                "__row",
                pl.when(pl.col("duplicate_of").is_not_null())
                .then(pl.lit("duplicate"))
                .alias("reason"),
                "duplicate_of",
            )
        )
        write_parquet(verdict, verdict_path(plan.workdir, shard), scratch=True)
    return copies.height
