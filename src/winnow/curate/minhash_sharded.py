"""`minhash_dedup` decided shard by shard, for a cluster: no job holds more than a shard's worth.

Documents are numbered across shards in stable order (shard by shard, row by row), as in the
one-process `decide`, and every stage is a job per shard or per bucket partition that reads
and writes partitioned Parquet under the step's scratch folder:

1. `bucket_shard`: a shard's band hashes (signatures were computed when the shard was scored)
   go to partitions by hash; rows that near-copy the `against` dataset are set aside first.
2. `bucket_edges`: a partition's buckets become candidate pairs, exactly as in `decide`, sent
   to the shard of their left document.
3. `attach_left` and `check_right` (with `verify`): each pair meets the shingle set of its
   left and then of its right document, and is kept when their Jaccard similarity reaches
   the threshold. Kept pairs go, in both directions, to the shard of their first document.
4. `propagate` and `settle`, in rounds: every document takes the least label among its
   neighbours' until no label changes, so each component is named by its smallest member,
   as union-find names it.
5. `cluster_members` and `choose_kept`: each component's members meet in the shard of its
   label, which picks the kept row by the `keep` rule.
6. `write_verdict`: each shard's verdict, the same rows and columns `decide` gives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from winnow.curate import minhash, minhash_index
from winnow.curate.steps.base import GlobalContext, verdict_path
from winnow.curate.steps.minhash_dedup import _P, bucket_edges, cluster_histogram
from winnow.files import write_parquet

if TYPE_CHECKING:
    from winnow.curate.executors import Executor
    from winnow.curate.steps.minhash_dedup import MinhashDedup
    from winnow.workspace import Workspace

EDGE = {"u": pl.Int64, "v": pl.Int64}
LABEL = {"u": pl.Int64, "label": pl.Int64}
CHOSEN = {"u": pl.Int64, "label": pl.Int64, "kept": pl.Int64, "kept_id": pl.String}


@dataclass(frozen=True)
class Plan:
    """What every job of one decision needs; small, so it travels with each job."""

    step: MinhashDedup
    scored: tuple[Path, ...]
    offsets: tuple[int, ...]
    workdir: Path
    workspace: Workspace

    def shard_of_docs(self, docs: pl.Series) -> pl.Series:
        """The shard holding each document number (for a Series)."""
        bounds = pl.Series(self.offsets[1:], dtype=pl.Int64)
        return bounds.search_sorted(docs, side="right").cast(pl.Int64)

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
        """Write a frame's rows to `stage/s{shard}/{name}`, by the shard of `column`."""
        if not frame.height:
            return
        shards = frame.with_columns(self.shard_of_docs(frame[column]).alias("__to"))
        for (to,), part in shards.partition_by("__to", as_dict=True, include_key=False).items():
            write_parquet(part, self.folder(stage, f"s{to:06d}") / f"{name}.parquet")

    def rows(self, shard: int, columns: list[str]) -> pl.DataFrame:
        """Columns of one scored shard."""
        return pl.read_parquet(self.scored[shard], columns=columns)


def decide(
    step: MinhashDedup, scored: list[Path], context: GlobalContext, executor: Executor
) -> dict[str, int]:
    """Write every shard's verdict through the stages above and return the step's tally."""
    heights = [pl.scan_parquet(path).select(pl.len()).collect().item() for path in scored]
    offsets = (0, *np.cumsum(heights).tolist())
    plan = Plan(step, tuple(scored), offsets, context.workdir, context.workspace)
    if step.against:
        # built once here, so that the jobs only read it
        minhash_index.load_index(step, context.workspace, step.against)
    shards = [(plan, i) for i in range(len(scored))]
    executor.map(bucket_shard, shards)
    executor.map(bucket_edges_job, shards)
    if step.verify:
        executor.map(attach_left, shards)
        executor.map(check_right, shards)
    rounds = 0
    while True:
        executor.map(propagate, [(plan, i, rounds) for i in range(len(scored))])
        changed = sum(executor.map(settle, [(plan, i, rounds) for i in range(len(scored))]))
        rounds += 1
        if not changed:
            break
    executor.map(cluster_members, [(plan, i, rounds) for i in range(len(scored))])
    histograms = executor.map(choose_kept, shards)
    counted = executor.map(write_verdict, shards)
    histogram = {k: sum(h[k] for h in histograms) for k in histograms[0]}
    no_shingles = sum(c[0] for c in counted)
    earlier = sum(c[1] for c in counted)
    return step.counts(histogram, no_shingles, earlier)


def bucket_shard(plan: Plan, shard: int) -> int:
    """Send one shard's band hashes to partitions by hash; set aside near-copies of `against`."""
    step = plan.step
    columns = ["id", f"{_P}bands", f"{_P}shingles"]
    if step.against and step.verify:
        columns.append(f"__{_P}set")
    keys = plan.rows(shard, columns)
    valid = (keys[f"{_P}shingles"] > 0).to_numpy()
    if step.against:
        ref, index = minhash_index.load_index(step, plan.workspace, step.against)
        hit = minhash_index.matches(step, keys, valid, index)
        ids = index["id"]
        earlier = pl.DataFrame(
            {"row": np.flatnonzero(hit >= 0), "duplicate_of": ids.gather(hit[hit >= 0])}
        ).with_columns((pl.lit(f"{ref}:") + pl.col("duplicate_of")).alias("duplicate_of"))
        write_parquet(earlier, plan.folder("earlier") / f"{shard:06d}.parquet")
        valid &= hit < 0
    rows = np.flatnonzero(valid)
    if not len(rows):
        return 0
    bands = keys[f"{_P}bands"].to_numpy()[rows]
    frame = pl.DataFrame(
        {
            "band": np.repeat(
                np.arange(bands.shape[1], dtype=np.int16)[None, :], len(rows), 0
            ).ravel(),
            "h": bands.ravel(),
            "doc": np.repeat(rows + plan.offsets[shard], bands.shape[1]),
        }
    )
    parts = len(plan.scored)
    frame = frame.with_columns((pl.col("h") % parts).cast(pl.Int64).alias("__p"))
    for (p,), part in frame.partition_by("__p", as_dict=True, include_key=False).items():
        write_parquet(part, plan.folder("buckets", f"p{p:06d}") / f"{shard:06d}.parquet")
    return len(rows)


def bucket_edges_job(plan: Plan, partition: int) -> int:
    """Turn one partition's buckets into candidate pairs, sent to their left document's shard."""
    buckets = plan.read("buckets", f"p{partition:06d}")
    if not buckets.height:
        return 0
    groups = buckets.group_by("band", "h").agg(pl.col("doc").sort())
    left, right = bucket_edges(groups, plan.step.verify)
    edges = pl.DataFrame({"u": left, "v": right}).unique()
    if plan.step.verify:
        plan.scatter(edges, "u", "candidates", f"p{partition:06d}")
    else:
        both(plan, edges, f"p{partition:06d}")
    return edges.height


def both(plan: Plan, edges: pl.DataFrame, name: str) -> None:
    """Store kept pairs in both directions, each with the shard of its first document."""
    reverse = edges.select(pl.col("v").alias("u"), pl.col("u").alias("v"))
    plan.scatter(pl.concat([edges, reverse]), "u", "graph", name)


def shard_sets(plan: Plan, shard: int, docs: pl.Series) -> pl.Series:
    """The shingle sets of some of a shard's documents, by document number."""
    sets = plan.rows(shard, [f"__{_P}set"])[f"__{_P}set"]
    return sets.gather(docs - plan.offsets[shard])


def attach_left(plan: Plan, shard: int) -> int:
    """Give the candidate pairs whose left document is here that document's shingle set."""
    pairs = plan.read("candidates", f"s{shard:06d}", schema=EDGE).unique().sort("u", "v")
    if not pairs.height:
        return 0
    pairs = pairs.with_columns(shard_sets(plan, shard, pairs["u"]).alias("left_set"))
    plan.scatter(pairs, "v", "pairs", f"s{shard:06d}")
    return pairs.height


def check_right(plan: Plan, shard: int) -> int:
    """Keep the pairs whose right document is here when their sets are similar enough."""
    pairs = plan.read("pairs", f"s{shard:06d}")
    if not pairs.height:
        return 0
    right = shard_sets(plan, shard, pairs["v"])
    values, starts = minhash_index.flat_sets(pl.concat([pairs["left_set"], right]))
    count = np.arange(pairs.height, dtype=np.int64)
    similar = minhash.jaccard(values, starts, count, count + pairs.height) >= plan.step.threshold
    both(plan, pairs.select("u", "v").filter(pl.Series(similar)), f"s{shard:06d}")
    return int(similar.sum())


def labels(plan: Plan, shard: int, round_: int) -> pl.DataFrame:
    """This shard's documents that have pairs, with their current labels."""
    if round_:
        return pl.read_parquet(plan.folder("labels", f"r{round_:04d}") / f"{shard:06d}.parquet")
    nodes = plan.read("graph", f"s{shard:06d}", schema=EDGE)["u"].unique()
    return pl.DataFrame({"u": nodes, "label": nodes})


def propagate(plan: Plan, shard: int, round_: int) -> None:
    """Offer each neighbour of this shard's documents the document's label."""
    edges = plan.read("graph", f"s{shard:06d}", schema=EDGE)
    offers = (
        edges.join(labels(plan, shard, round_), on="u")
        .group_by("v")
        .agg(pl.col("label").min())
        .rename({"v": "u"})
    )
    plan.scatter(offers, "u", f"offers-r{round_:04d}", f"{shard:06d}")


def settle(plan: Plan, shard: int, round_: int) -> int:
    """Take the least label offered; return how many documents changed theirs."""
    current = labels(plan, shard, round_)
    offers = plan.read(f"offers-r{round_:04d}", f"s{shard:06d}", schema=LABEL)
    best = offers.group_by("u").agg(pl.col("label").min().alias("offer"))
    new = current.join(best, on="u", how="left").with_columns(
        pl.min_horizontal("label", "offer").alias("new")
    )
    changed = int((new["new"] < new["label"]).sum())
    out = new.select("u", pl.col("new").alias("label"))
    write_parquet(out, plan.folder("labels", f"r{round_ + 1:04d}") / f"{shard:06d}.parquet")
    return changed


def cluster_members(plan: Plan, shard: int, round_: int) -> None:
    """Send each paired document, with its id and rank, to the shard of its component."""
    members = labels(plan, shard, round_)
    if not members.height:
        return
    columns = ["id", f"{_P}chars"]
    if plan.step.keep == "score" and plan.step.score_column:
        columns.append(plan.step.score_column)
    keys = plan.rows(shard, columns)
    keys = keys.with_columns(rank=plan.step.rank(keys))
    rows = keys.select("id", "rank").gather(members["u"] - plan.offsets[shard])
    plan.scatter(pl.concat([members, rows], how="horizontal"), "label", "members", f"{shard:06d}")


def choose_kept(plan: Plan, shard: int) -> dict[str, int]:
    """Pick each component's kept row by the `keep` rule; return components by size."""
    members = plan.read("members", f"s{shard:06d}")
    if not members.height:
        return cluster_histogram(np.empty(0, np.int64))
    best = (
        members.sort("rank", "u", nulls_last=True)
        .group_by("label")
        .agg(pl.col("u").first().alias("kept"), pl.col("id").first().alias("kept_id"), pl.len())
    )
    chosen = members.join(best, on="label").select("u", "label", "kept", "kept_id")
    plan.scatter(chosen, "u", "chosen", f"{shard:06d}")
    return cluster_histogram(best["len"].to_numpy())


def write_verdict(plan: Plan, shard: int) -> tuple[int, int]:
    """Write this shard's verdict; return its rows without shingles and near-copies of
    `against`."""
    n = plan.offsets[shard + 1] - plan.offsets[shard]
    shingles = plan.rows(shard, [f"{_P}shingles"])[f"{_P}shingles"]
    chosen = plan.read("chosen", f"s{shard:06d}", schema=CHOSEN).filter(
        pl.col("kept") != pl.col("u")
    )
    frame = pl.DataFrame({"__row": pl.Series(np.arange(n), dtype=pl.UInt32)})
    inside = chosen.select(
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
    write_parquet(verdict, verdict_path(plan.workdir, shard))
    return int((shingles == 0).sum()), int(matched.sum())
