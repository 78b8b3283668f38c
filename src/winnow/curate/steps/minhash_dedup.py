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
built on first use and kept in the workspace (`minhash_index`).

Columns: `minhash_dedup_shingles` (shingles hashed), `minhash_dedup_chars` (letters, digits
and marks) and `minhash_dedup_bands`; with `verify`, each row's shingles (32-bit hashes)
travel to `decide` in `__minhash_dedup_set`, which is not kept. Removed rows carry reason
`near_duplicate`, `duplicate_of` (the kept id) and `cluster_id` (the stable index of the
cluster's first row). Rows without shingles (empty after normalization) are kept and
counted.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import polars as pl
import pyarrow as pa

from winnow.curate import minhash, minhash_index
from winnow.curate.steps.base import GlobalContext, Step, register
from winnow.curate.steps.kernels import text_buffers
from winnow.curate.steps.text_stats import PUNCTUATION_SET
from winnow.curate.steps.tokens import char_classes
from winnow.errors import WinnowError

if TYPE_CHECKING:
    from winnow.curate.executors import Executor

_P = "minhash_dedup_"
_HISTOGRAM = ((2, 2), (3, 4), (5, 9), (10, 99), (100, None))


def _wordy(text: str) -> bool:
    """Whether text has a letter, digit or mark: what shingles are made of."""
    return any(unicodedata.category(c)[0] in "LNM" for c in text)


@cache
def nfkc_changes() -> str:
    """A regex class of the characters whose NFKC form changes the words shingled: those
    with a compatibility or canonical mapping to or from a letter, digit or mark (a no-break
    space or an ellipsis only maps separators to separators), marks, and conjoining jamo.

    Taken from Python's unicodedata below U+40000 (CJK ideographs and Hangul syllables, the
    large stable blocks, skipped); a row without any of them shingles the same unnormalized.
    """
    searched = ((0x80, 0x33FF), (0x4DC0, 0x4DFF), (0xA000, 0xABFF), (0xD7A4, 0xD7FF))
    searched += ((0xE000, 0x1FFFF), (0x30000, 0x3FFFF))
    points = []
    for low, high in searched:
        for c in range(low, high + 1):
            char = chr(c)
            form = unicodedata.normalize("NFKC", char)
            composes = unicodedata.category(char)[0] == "M" or 0x1100 <= c <= 0x11FF
            if composes or (form != char and (_wordy(char) or _wordy(form))):
                points.append(c)
    ranges: list[list[int]] = []
    for c in points:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return "[" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges) + "]"


def normalized(texts: pl.Series) -> pl.Series:
    """Text as shingled: NFKC (only for rows whose words it would change) and lower case."""
    texts = texts.fill_null("")
    changing = texts.str.contains(nfkc_changes()).arg_true()
    if len(changing):
        texts = texts.scatter(changing, texts.gather(changing).str.normalize("NFKC"))
    return texts.str.to_lowercase()


def bucket_edges(groups: pl.DataFrame, verify: bool) -> tuple[np.ndarray, np.ndarray]:
    """Edges inside buckets (a `doc` list column, ascending): each member to the first and to
    the next (enough to connect them all), and with `verify` every pair of a bucket of at most
    8, so that verification can still join them; left < right."""
    groups = groups.filter(pl.col("doc").list.len() > 1)["doc"]
    if groups.len() == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    members = groups.explode().to_numpy()
    sizes = groups.list.len().to_numpy()
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    position = np.arange(len(members)) - starts
    later = position > 0
    lefts = [members[starts[later]], members[np.flatnonzero(later) - 1]]
    rights = [members[later], members[later]]
    if verify:
        small = np.repeat(sizes <= 8, sizes)
        for gap in range(2, 8):
            pair = small & (position >= gap)
            lefts.append(members[np.flatnonzero(pair) - gap])
            rights.append(members[pair])
    return np.concatenate(lefts), np.concatenate(rights)


def cluster_histogram(sizes: np.ndarray) -> dict[str, int]:
    """Clusters counted by size, in fixed brackets (so job-wise counts add up)."""
    out: dict[str, int] = {}
    for low, high in _HISTOGRAM:
        inside = (sizes >= low) & (sizes <= (high if high else sizes.max(initial=0)))
        label = f"clusters of {low}" if low == high else f"clusters of {low}-{high or 'more'}"
        out[label] = int(inside.sum())
    return out


@register
@dataclass
class MinhashDedup(Step):
    """Drop documents whose shingle sets are near copies of a kept document's.

    `column` names the compared column (e.g. `instruction` for near-duplicate instructions).
    """

    name: ClassVar[str] = "minhash_dedup"
    scope: ClassVar[str] = "global"
    sharded: ClassVar[bool] = True
    threshold: float = 0.8
    num_perm: int = 128
    n: int = 5
    char_n: int = 5
    shingle: str = "auto"
    korean: str = "words"
    bands: int | None = None
    rows: int | None = None
    seed: int = 1
    verify: bool = True
    false_positive_weight: float | None = None
    false_negative_weight: float | None = None
    keep: str = "first"
    score_column: str | None = None
    against: str | None = None
    column: str = "text"

    def __post_init__(self) -> None:
        """Check the parameters and settle bands x rows."""
        where = "step minhash_dedup"
        if not 0 < self.threshold <= 1:
            raise WinnowError(f"{where}: threshold {self.threshold} must be in (0, 1].")
        if self.num_perm < 2 or self.n < 1 or self.char_n < 1:
            raise WinnowError(f"{where}: num_perm must be at least 2 and n, char_n at least 1.")
        choices = {"shingle": ("auto", "word", "char"), "korean": ("words", "syllables")}
        choices["keep"] = ("first", "longest", "score")
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise WinnowError(f"{where}: {key} must be one of {', '.join(allowed)}.")
        if self.keep == "score" and not self.score_column:
            raise WinnowError(f"{where}: keep: score needs score_column, a numeric column name.")
        if (self.bands is None) != (self.rows is None):
            raise WinnowError(f"{where}: give both bands and rows, or neither to derive them.")
        if self.bands is None:
            # verified candidates cost precision nothing, so weigh missed pairs more
            fp, fn = (0.1, 0.9) if self.verify else (0.5, 0.5)
            fp = fp if self.false_positive_weight is None else self.false_positive_weight
            fn = fn if self.false_negative_weight is None else self.false_negative_weight
            self.bands, self.rows = minhash.optimal_bands(self.threshold, self.num_perm, fp, fn)
        elif self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm:
            raise WinnowError(
                f"{where}: bands x rows = {self.bands} x {self.rows} must be at most num_perm "
                f"({self.num_perm}); lower one of them or raise num_perm."
            )

    @property
    def key_columns(self) -> tuple[str, ...]:  # type: ignore[override]
        """What `decide` needs of every row: bands, sizes, and the text or score if used."""
        columns = [f"{_P}bands", f"{_P}shingles", f"{_P}chars"]
        if self.verify:
            columns.append(f"__{_P}set")
        if self.keep == "score" and self.score_column:
            columns.append(self.score_column)
        return tuple(columns)

    def shingle_hashes(self, texts: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flat shingle hashes with each row's start, and each row's word characters."""
        offsets, data = text_buffers(normalized(texts))
        mode = {"auto": minhash.AUTO, "word": minhash.WORDS, "char": minhash.CHARS}
        return minhash.shingles(
            offsets,
            data,
            char_classes(PUNCTUATION_SET),
            mode[self.shingle],
            self.korean == "syllables",
            self.n,
            self.char_n,
        )

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Hash shingles, sign, and keep each row's band hashes for the global decision."""
        if self.column not in df.columns:
            raise WinnowError(
                f"step minhash_dedup: the rows have no column '{self.column}'; name one of: "
                f"{', '.join(df.columns)}."
            )
        hashes, first, chars = self.shingle_hashes(df[self.column].cast(pl.Utf8))
        a, b = minhash.permutations(self.num_perm, self.seed)
        signature = minhash.signatures(hashes, first, a, b)
        bands = minhash.band_hashes(signature, self.bands or 1, self.rows or 1)
        columns = [
            pl.Series(f"{_P}shingles", np.diff(first)),
            pl.Series(f"{_P}chars", chars),
            pl.Series(f"{_P}bands", bands, dtype=pl.Array(pl.UInt64, bands.shape[1])),
        ]
        if self.verify:
            # the top 32 bits of each shingle hash are enough to compare sets exactly
            values = (hashes >> np.uint64(32)).astype(np.uint32)
            sets = pa.LargeListArray.from_arrays(pa.array(first), pa.array(values))
            columns.append(pl.Series(f"__{_P}set", sets))
        return df.with_columns(columns)

    def decide(self, keys: pl.DataFrame, context: GlobalContext | None = None) -> pl.DataFrame:
        """Group band buckets band by band from Parquet, join candidates, keep one per cluster."""
        n = keys.height
        valid = (keys[f"{_P}shingles"] > 0).to_numpy()
        matched, earlier = np.zeros(n, dtype=bool), []
        if self.against:
            if context is None:
                raise WinnowError("step minhash_dedup: against needs a workspace to read from.")
            ref, index = minhash_index.load_index(self, context.workspace, self.against)
            hit = minhash_index.matches(self, keys, valid, index)
            matched = hit >= 0
            ids = index["id"].to_list()
            earlier = [f"{ref}:{ids[h]}" for h in hit[matched]]
        left, right = self._candidates(keys, valid & ~matched, context)
        if self.verify and len(left):
            values, starts = minhash_index.flat_sets(keys[f"__{_P}set"])
            similar = minhash.jaccard(values, starts, left, right) >= self.threshold
            left, right = left[similar], right[similar]
        cluster = minhash.components(n, left, right)
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
        bands = keys[f"{_P}bands"].to_numpy()
        rows = np.flatnonzero(valid).astype(np.int64)
        lefts, rights = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        for k in range(bands.shape[1]):
            bucket = pl.DataFrame({"h": bands[rows, k], "doc": rows})
            if context is not None:
                path = context.workdir / "buckets" / f"band={k}" / "part.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                bucket.write_parquet(path)
                bucket = pl.scan_parquet(path).collect()
            left, right = bucket_edges(bucket.group_by("h").agg(pl.col("doc").sort()), self.verify)
            lefts.append(left)
            rights.append(right)
        n = np.int64(len(valid))
        edges = np.unique(np.concatenate(lefts) * n + np.concatenate(rights))
        return edges // n, edges % n

    def rank(self, keys: pl.DataFrame) -> pl.Series:
        """The `keep` rule as a sort key: a cluster keeps its least rank, then its first row."""
        if self.keep == "longest":
            return -keys[f"{_P}chars"].cast(pl.Int64)
        if self.keep == "score" and self.score_column:
            return -keys[self.score_column].cast(pl.Float64)
        return pl.Series(np.zeros(keys.height, np.int64))

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

    def counts(self, histogram: dict[str, int], no_shingles: int, earlier: int) -> dict[str, int]:
        """The tally from its parts, which shard-by-shard jobs add up."""
        out = {label: count for label, count in histogram.items() if count}
        if no_shingles:
            out["rows without shingles (kept)"] = no_shingles
        if earlier:
            out[f"near-copies of {self.against}"] = earlier
        return out

    def decide_sharded(
        self, scored: list[Path], context: GlobalContext, executor: Executor
    ) -> dict[str, int]:
        """The same verdicts as `decide`, through partitioned Parquet and jobs (see
        `minhash_sharded`)."""
        from winnow.curate import minhash_sharded

        return minhash_sharded.decide(self, scored, context, executor)

    def describe(self) -> dict[str, Any]:
        """Bands x rows and the S-curve: the chance to become candidates by Jaccard similarity."""
        points = np.round(np.arange(0.5, 1.0001, 0.05), 2)
        curve = minhash.candidate_probability(points, self.bands or 1, self.rows or 1)
        return {
            "bands x rows": f"{self.bands} x {self.rows} of {self.num_perm} permutations",
            "S-curve": ", ".join(f"{s:.2f}:{p:.3f}" for s, p in zip(points, curve, strict=True)),
        }
