"""`minhash_dedup` decided shard by shard, for a cluster: no job holds more than a few shards.

Documents are numbered across shards in stable order (shard by shard, row by row), as in the
one-process `decide`. Consecutive shards make blocks (at most `BLOCK_SHARDS`, and at least
two blocks per worker where there are shards enough), and every stage is a job per shard,
per bucket partition or per block that reads and writes partitioned Parquet under the
step's scratch folder:

1. `bucket_shard`: a shard's band hashes (signatures were computed when the shard was scored)
   go to partitions by hash; rows that near-copy the `against` dataset are set aside first.
2. `bucket_edges_job`: a partition's buckets become candidate pairs, exactly as in
   `decide`, sent to the block of their left document.
3. `attach_left` and `check_right` (with `verify`): each pair meets the shingle set of its
   left and then of its right document, and is kept when their Jaccard similarity reaches
   the threshold. Kept pairs go, in both directions, to the block of their first document.
4. `propagate` and `settle`, in rounds: every document takes the least label among its
   neighbours' until no label changes, so each component is named by its smallest member,
   as union-find names it.
5. `cluster_members` and `choose_kept`: each component's members meet in the block of its
   label, which picks the kept row by the `keep` rule.
6. `write_verdicts`: each shard's verdict, the same rows and columns `decide` gives it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from winnow.curate.dedup.minhash import lsh
from winnow.curate.dedup.minhash.core import (
    MinhashSettings,
    bucket_edges,
    cluster_histogram,
    flat_sets,
    shared_buckets,
)
from winnow.curate.dedup.minhash.index import load_index, matches
from winnow.curate.dedup.plan import Plan, make_plan
from winnow.curate.steps.base import GlobalContext, verdict_path
from winnow.files import write_parquet

if TYPE_CHECKING:
    from winnow.curate.executors import Executor

EDGE = {"u": pl.Int64, "v": pl.Int64}
LABEL = {"u": pl.Int64, "label": pl.Int64}
CHOSEN = {"u": pl.Int64, "label": pl.Int64, "kept": pl.Int64, "kept_id": pl.String}


def decide(
    step: MinhashSettings, scored: list[Path], context: GlobalContext, executor: Executor
) -> dict[str, int]:
    """Write every shard's verdict through the stages above and return the step's tally."""
    plan = make_plan(step, scored, context, executor.workers, step.bands or 1)
    # an interrupted attempt may have cut the shards otherwise; its files must not be read
    shutil.rmtree(plan.folder(), ignore_errors=True)
    if step.against:
        # built once here, so that the jobs only read it
        load_index(step, context.workspace, step.against)
    executor.map(bucket_shard, [(plan, i) for i in range(len(scored))])
    executor.map(bucket_edges_job, [(plan, p) for p in range(plan.partitions)])
    blocks = [(plan, b) for b in range(len(plan.blocks))]
    if step.verify:
        executor.map(attach_left, blocks)
        executor.map(check_right, blocks)
    rounds = 0
    while True:
        executor.map(propagate, [(*job, rounds) for job in blocks])
        changed = sum(executor.map(settle, [(*job, rounds) for job in blocks]))
        rounds += 1
        if not changed:
            break
    executor.map(cluster_members, [(*job, rounds) for job in blocks])
    histograms = executor.map(choose_kept, blocks)
    counted = executor.map(write_verdicts, blocks)
    histogram = {k: sum(h[k] for h in histograms) for k in histograms[0]}
    no_shingles = sum(c[0] for c in counted)
    earlier = sum(c[1] for c in counted)
    return step.counts(histogram, no_shingles, earlier)


def bucket_shard(plan: Plan, shard: int) -> int:
    """Send one shard's band hashes to partitions by hash; set aside near-copies of `against`."""
    step = plan.step
    columns = ["id", step.col("bands"), step.col("shingles")]
    if step.against and step.verify:
        columns.append(step.set_column)
    keys = plan.rows(shard, columns)
    valid = (keys[step.col("shingles")] > 0).to_numpy()
    if step.against:
        ref, index = load_index(step, plan.workspace, step.against)
        hit = matches(step, keys, valid, index)
        ids = index["id"]
        earlier = pl.DataFrame(
            {"row": np.flatnonzero(hit >= 0), "duplicate_of": ids.gather(hit[hit >= 0])}
        ).with_columns((pl.lit(f"{ref}:") + pl.col("duplicate_of")).alias("duplicate_of"))
        write_parquet(earlier, plan.folder("earlier") / f"{shard:06d}.parquet", scratch=True)
        valid &= hit < 0
    rows = np.flatnonzero(valid)
    if not len(rows):
        return 0
    bands = keys[step.col("bands")].to_numpy()[rows]
    frame = pl.DataFrame(
        {
            "band": np.repeat(
                np.arange(bands.shape[1], dtype=np.int16)[None, :], len(rows), 0
            ).ravel(),
            "h": bands.ravel(),
            "doc": np.repeat(rows + plan.offsets[shard], bands.shape[1]),
        }
    )
    frame = frame.with_columns((pl.col("h") % plan.partitions).cast(pl.Int64).alias("__p"))
    for (p,), part in frame.partition_by("__p", as_dict=True, include_key=False).items():
        write_parquet(
            part, plan.folder("buckets", f"p{p:06d}") / f"{shard:06d}.parquet", scratch=True
        )
    return len(rows)


def bucket_edges_job(plan: Plan, partition: int) -> int:
    """Turn one partition's buckets into candidate pairs, sent to their left document's block."""
    buckets = plan.read("buckets", f"p{partition:06d}")
    if not buckets.height:
        return 0
    left, right = bucket_edges(shared_buckets(buckets, "band", "h"), plan.step.verify)
    edges = pl.DataFrame({"u": left, "v": right}).unique()
    if plan.step.verify:
        plan.scatter(edges, "u", "candidates", f"p{partition:06d}")
    else:
        both(plan, edges, f"p{partition:06d}")
    return edges.height


def both(plan: Plan, edges: pl.DataFrame, name: str) -> None:
    """Store kept pairs in both directions, each with the block of its first document."""
    reverse = edges.select(pl.col("v").alias("u"), pl.col("u").alias("v"))
    plan.scatter(pl.concat([edges, reverse]), "u", "graph", name)


def block_sets(plan: Plan, block: int, docs: pl.Series) -> pl.Series:
    """The shingle sets of some of a block's documents, by document number."""
    sets = plan.block_rows(block, [plan.step.set_column])[plan.step.set_column]
    return sets.gather(docs - plan.start(block))


def attach_left(plan: Plan, block: int) -> int:
    """Give the candidate pairs whose left document is here that document's shingle set."""
    pairs = plan.read("candidates", f"b{block:06d}", schema=EDGE).unique().sort("u", "v")
    if not pairs.height:
        return 0
    pairs = pairs.with_columns(block_sets(plan, block, pairs["u"]).alias("left_set"))
    plan.scatter(pairs, "v", "pairs", f"b{block:06d}")
    return pairs.height


def check_right(plan: Plan, block: int) -> int:
    """Keep the pairs whose right document is here when their sets are similar enough."""
    pairs = plan.read("pairs", f"b{block:06d}")
    if not pairs.height:
        return 0
    right = block_sets(plan, block, pairs["v"])
    values, starts = flat_sets(pl.concat([pairs["left_set"], right]))
    count = np.arange(pairs.height, dtype=np.int64)
    similar = lsh.jaccard(values, starts, count, count + pairs.height) >= plan.step.threshold
    both(plan, pairs.select("u", "v").filter(pl.Series(similar)), f"b{block:06d}")
    return int(similar.sum())


def labels(plan: Plan, block: int, round_: int) -> pl.DataFrame:
    """This block's documents that have pairs, with their current labels."""
    if round_:
        return pl.read_parquet(plan.folder("labels", f"r{round_:04d}") / f"{block:06d}.parquet")
    nodes = plan.read("graph", f"b{block:06d}", schema=EDGE)["u"].unique()
    return pl.DataFrame({"u": nodes, "label": nodes})


def propagate(plan: Plan, block: int, round_: int) -> None:
    """Offer each neighbour of this block's documents the document's label."""
    edges = plan.read("graph", f"b{block:06d}", schema=EDGE)
    offers = (
        edges.join(labels(plan, block, round_), on="u")
        .group_by("v")
        .agg(pl.col("label").min())
        .rename({"v": "u"})
    )
    plan.scatter(offers, "u", f"offers-r{round_:04d}", f"{block:06d}")


def settle(plan: Plan, block: int, round_: int) -> int:
    """Take the least label offered; return how many documents changed theirs."""
    current = labels(plan, block, round_)
    offers = plan.read(f"offers-r{round_:04d}", f"b{block:06d}", schema=LABEL)
    best = offers.group_by("u").agg(pl.col("label").min().alias("offer"))
    new = current.join(best, on="u", how="left").with_columns(
        pl.min_horizontal("label", "offer").alias("new")
    )
    changed = int((new["new"] < new["label"]).sum())
    out = new.select("u", pl.col("new").alias("label"))
    write_parquet(
        out, plan.folder("labels", f"r{round_ + 1:04d}") / f"{block:06d}.parquet", scratch=True
    )
    return changed


def cluster_members(plan: Plan, block: int, round_: int) -> None:
    """Send each paired document, with its id and rank, to the block of its component."""
    members = labels(plan, block, round_)
    if not members.height:
        return
    columns = ["id", plan.step.col("chars")]
    if plan.step.keep == "score" and plan.step.score_column:
        columns.append(plan.step.score_column)
    keys = plan.block_rows(block, columns)
    keys = keys.with_columns(rank=plan.step.rank(keys))
    rows = keys.select("id", "rank").gather(members["u"] - plan.start(block))
    plan.scatter(pl.concat([members, rows], how="horizontal"), "label", "members", f"{block:06d}")


def choose_kept(plan: Plan, block: int) -> dict[str, int]:
    """Pick each component's kept row by the `keep` rule; return components by size."""
    members = plan.read("members", f"b{block:06d}")
    if not members.height:
        return cluster_histogram(np.empty(0, np.int64))
    best = (
        members.sort("rank", "u", nulls_last=True)
        .group_by("label")
        .agg(pl.col("u").first().alias("kept"), pl.col("id").first().alias("kept_id"), pl.len())
    )
    chosen = members.join(best, on="label").select("u", "label", "kept", "kept_id")
    plan.scatter(chosen, "u", "chosen", f"{block:06d}")
    return cluster_histogram(best["len"].to_numpy())


def write_verdicts(plan: Plan, block: int) -> tuple[int, int]:
    """Write the verdict of each shard of the block; return its rows without shingles and
    near-copies of `against`."""
    chosen = plan.read("chosen", f"b{block:06d}", schema=CHOSEN)
    removed = chosen.filter(pl.col("kept") != pl.col("u"))
    no_shingles = earlier = 0
    for shard in range(*plan.blocks[block]):
        low, high = plan.offsets[shard], plan.offsets[shard + 1]
        inside = removed.filter(pl.col("u").is_between(low, high, closed="left"))
        counts = write_verdict(plan, shard, inside)
        no_shingles, earlier = no_shingles + counts[0], earlier + counts[1]
    return no_shingles, earlier


def write_verdict(plan: Plan, shard: int, inside: pl.DataFrame) -> tuple[int, int]:
    """Write one shard's verdict from its rows removed inside clusters and its near-copies
    of `against`; return its rows without shingles and those near-copies."""
    n = plan.offsets[shard + 1] - plan.offsets[shard]
    counted = plan.step.col("shingles")
    shingles = plan.rows(shard, [counted])[counted]
    frame = pl.DataFrame({"__row": pl.Series(np.arange(n), dtype=pl.UInt32)})
    inside = inside.select(
        (pl.col("u") - plan.offsets[shard]).cast(pl.UInt32).alias("__row"),
        pl.col("kept_id").alias("duplicate_of"),
        pl.col("label").alias("cluster_id"),
    )
    frame = frame.join(inside, on="__row", how="left", maintain_order="left")
    earlier_path = plan.folder("earlier") / f"{shard:06d}.parquet"
    earlier = pl.read_parquet(earlier_path) if earlier_path.exists() else None
    matched = np.zeros(n, dtype=bool)
    if earlier is not None and earlier.height:
        rows = earlier["row"].to_numpy()
        matched[rows] = True
        duplicate_of = frame["duplicate_of"].cast(pl.String).scatter(rows, earlier["duplicate_of"])
        frame = frame.with_columns(duplicate_of)
    removed = frame["cluster_id"].is_not_null().to_numpy() | matched
    verdict = frame.select(
        "__row",
        pl.Series("reason", removed).replace_strict(
            {True: "near_duplicate", False: None}, return_dtype=pl.String
        ),
        pl.col("duplicate_of").cast(pl.String),
        pl.col("cluster_id").cast(pl.Int64),
        pl.Series("__no_shingles", (shingles == 0).to_numpy()),
        pl.Series("__earlier", matched),
    )
    write_parquet(verdict, verdict_path(plan.workdir, shard), scratch=True)
    return int((shingles == 0).sum()), int(matched.sum())
