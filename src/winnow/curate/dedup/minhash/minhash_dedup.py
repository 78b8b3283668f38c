"""Near-duplicate removal by MinHash LSH (GPT-3's fuzzy document dedup), out of core.

Per shard, `score` normalizes the text (NFKC, lower case; letters, digits and marks make
words, anything else separates them), hashes its shingles (word `n`-grams; character
`char_n`-grams for text written without spaces, and with `korean: syllables` for mostly-
Hangul rows, whose spacing varies from writer to writer), and keeps only each row's band
hashes. `decide` writes the band buckets to Parquet partitioned by band, groups one band at
a time with Polars, joins the documents that share a bucket, and keeps one document per
connected component: the first in stable order, the longest, or the highest `score_column`.

With `verify` (the default) a candidate pair is joined only when the exact Jaccard
similarity of its shingle sets reaches the threshold, so bands x rows are chosen to miss few
pairs (false negatives weigh 0.9, false positives 0.1: 14 x 9 at 0.8); without it both weigh
0.5 (9 x 13 at 0.8), as datasketch and text-dedup choose. `bands` and `rows`, or the two
weights, override the choice.

With `against: NAME[@VERSION]` documents that near-duplicate a kept row of that earlier
dataset are removed first, with `duplicate_of` naming it as `NAME@VERSION:ID`; its index is
built on first use and kept in the workspace (`index`).

Columns: `minhash_dedup_shingles` (shingles hashed), `minhash_dedup_chars` (letters, digits
and marks) and `minhash_dedup_bands`; with `verify`, each row's shingles (32-bit hashes)
travel to `decide` in `__minhash_dedup_set`, which is not kept. Removed rows carry reason
`near_duplicate`, `duplicate_of` (the kept id) and `cluster_id` (the stable index of the
cluster's first row). Rows without shingles (empty after normalization) are kept and
counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import polars as pl

from winnow.curate.dedup.minhash import lsh
from winnow.curate.dedup.minhash import sharded as by_shard
from winnow.curate.dedup.minhash.core import (
    MinhashSettings,
    bucket_edges,
    cluster_histogram,
    flat_sets,
    shared_buckets,
)
from winnow.curate.dedup.minhash.index import load_index, matches
from winnow.curate.steps.base import GlobalContext, register
from winnow.errors import WinnowError
from winnow.files import write_parquet

if TYPE_CHECKING:
    from winnow.curate.executors import Executor


@register
@dataclass
class MinhashDedup(MinhashSettings):
    """Drop documents whose shingle sets are near copies of a kept document's."""

    name: ClassVar[str] = "minhash_dedup"
    scope: ClassVar[str] = "global"
    sharded: ClassVar[bool] = True

    def decide(self, keys: pl.DataFrame, context: GlobalContext | None = None) -> pl.DataFrame:
        """Group band buckets band by band from Parquet, join candidates, keep one per cluster."""
        n = keys.height
        valid = (keys[self.col("shingles")] > 0).to_numpy()
        matched, earlier = np.zeros(n, dtype=bool), []
        if self.against:
            if context is None:
                raise WinnowError("step minhash_dedup: against needs a workspace to read from.")
            ref, index = load_index(self, context.workspace, self.against)
            hit = matches(self, keys, valid, index)
            matched = hit >= 0
            ids = index["id"].to_list()
            earlier = [f"{ref}:{ids[h]}" for h in hit[matched]]
        left, right = self._candidates(keys, valid & ~matched, context)
        if self.verify and len(left):
            values, starts = flat_sets(keys[self.set_column])
            similar = lsh.jaccard(values, starts, left, right) >= self.threshold
            left, right = left[similar], right[similar]
        cluster = lsh.components(n, left, right)
        kept = self._kept(keys, cluster)
        inside = kept != np.arange(n)
        removed = inside | matched
        duplicate_of = keys["id"].gather(kept).set(pl.Series(~inside), None)
        if matched.any():
            duplicate_of = duplicate_of.scatter(np.flatnonzero(matched), earlier)
        return pl.DataFrame(
            {
                "__shard": keys["__shard"],
                "__row": keys["__row"],
                "reason": pl.Series(removed).replace_strict(
                    {True: "near_duplicate", False: None}, return_dtype=pl.String
                ),
                "duplicate_of": duplicate_of,
                "cluster_id": pl.Series(cluster).set(pl.Series(~inside), None),
                "__no_shingles": ~valid,
                "__earlier": matched,
            }
        )

    def _candidates(
        self, keys: pl.DataFrame, valid: np.ndarray, context: GlobalContext | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Edges between rows that share a band bucket, band by band (see `bucket_edges`)."""
        bands = keys[self.col("bands")].to_numpy()
        rows = np.flatnonzero(valid).astype(np.int64)
        lefts, rights = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        for k in range(bands.shape[1]):
            bucket = pl.DataFrame({"h": bands[rows, k], "doc": rows})
            if context is not None:
                path = context.workdir / "buckets" / f"band={k}" / "part.parquet"
                write_parquet(bucket, path, scratch=True)
                bucket = pl.scan_parquet(path).collect()
            left, right = bucket_edges(shared_buckets(bucket, "h"), self.verify)
            lefts.append(left)
            rights.append(right)
        n = np.int64(len(valid))
        edges = np.unique(np.concatenate(lefts) * n + np.concatenate(rights))
        return edges // n, edges % n

    def _kept(self, keys: pl.DataFrame, cluster: np.ndarray) -> np.ndarray:
        """Per row, the index of its cluster's kept row by the `keep` rule."""
        order = pl.DataFrame({"cluster": cluster, "row": np.arange(len(cluster))})
        order = order.with_columns(rank=self.rank(keys))
        best = (
            order.sort("rank", "row", nulls_last=True)
            .group_by("cluster")
            .agg(pl.col("row").first().alias("kept"))
        )
        return order.join(best, on="cluster", how="left", maintain_order="left")["kept"].to_numpy()

    def tally(self, frame: pl.DataFrame) -> dict[str, int]:
        """Clusters by size (the kept row counted in) and rows that had no shingles."""
        sizes = frame.filter(pl.col("cluster_id").is_not_null())["cluster_id"].value_counts()
        histogram = cluster_histogram(sizes["count"].to_numpy() + 1)
        return self.counts(
            histogram, int(frame["__no_shingles"].sum()), int(frame["__earlier"].sum())
        )

    def decide_sharded(
        self, scored: list[Path], context: GlobalContext, executor: Executor
    ) -> dict[str, int]:
        """The same verdicts as `decide`, through partitioned Parquet and jobs (see `sharded`)."""
        return by_shard.decide(self, scored, context, executor)

    def describe(self) -> dict[str, Any]:
        """Bands x rows and the S-curve: the chance to become candidates by Jaccard similarity."""
        points = np.round(np.arange(0.5, 1.0001, 0.05), 2)
        curve = lsh.candidate_probability(points, self.bands or 1, self.rows or 1)
        return {
            "bands x rows": f"{self.bands} x {self.rows} of {self.num_perm} permutations",
            "S-curve": ", ".join(f"{s:.2f}:{p:.3f}" for s, p in zip(points, curve, strict=True)),
        }
