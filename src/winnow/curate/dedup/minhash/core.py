"""What `minhash_dedup`, its index and its sharded decision share: the settings, the work
they settle for each row (shingles, signatures, band hashes), bucket edges and the cluster
histogram."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

import numpy as np
import polars as pl
import pyarrow as pa

from winnow.curate.dedup.minhash import lsh
from winnow.curate.steps.base import Step
from winnow.curate.text.buffers import text_buffers
from winnow.curate.text.stats import PUNCTUATION_SET
from winnow.curate.text.tokens import char_classes
from winnow.errors import WinnowError

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


def shared_buckets(buckets: pl.DataFrame, *keys: str) -> pl.DataFrame:
    """Rows `doc` grouped by bucket `keys`, only buckets of two or more, each list ascending
    (a group keeps its rows' order, so the rows are sorted once rather than each list)."""
    groups = buckets.sort("doc").group_by(*keys).agg(pl.col("doc"))
    return groups.filter(pl.col("doc").list.len() > 1)


def bucket_edges(groups: pl.DataFrame, verify: bool) -> tuple[np.ndarray, np.ndarray]:
    """Edges inside buckets (`shared_buckets`): each member to the first and to the next
    (enough to connect them all), and with `verify` every pair of a bucket of at most 8, so
    that verification can still join them; left < right."""
    groups = groups["doc"]
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


def flat_sets(column: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """The values and row starts of a list column of 32-bit shingle hashes."""
    sets = column.rechunk().to_arrow()
    if isinstance(sets, pa.ChunkedArray):
        sets = sets.combine_chunks()
    return sets.values.to_numpy(zero_copy_only=False), sets.offsets.to_numpy()


@dataclass
class MinhashSettings(Step):
    """The parameters of `minhash_dedup` (see that module) and what they settle for each row.

    `column` names the compared column (e.g. `instruction` for near-duplicate instructions).
    """

    prefix: ClassVar[str] = "minhash_dedup_"
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
            self.bands, self.rows = lsh.optimal_bands(self.threshold, self.num_perm, fp, fn)
        elif self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm:
            raise WinnowError(
                f"{where}: bands x rows = {self.bands} x {self.rows} must be at most num_perm "
                f"({self.num_perm}); lower one of them or raise num_perm."
            )

    @property
    def set_column(self) -> str:
        """Each row's shingle set, which only the decision reads (hence the "__")."""
        return "__" + self.col("set")

    @property
    def key_columns(self) -> tuple[str, ...]:
        """What `decide` needs of every row: bands, sizes, and the text or score if used."""
        columns = [self.col("bands"), self.col("shingles"), self.col("chars")]
        if self.verify:
            columns.append(self.set_column)
        if self.keep == "score" and self.score_column:
            columns.append(self.score_column)
        return tuple(columns)

    def shingle_hashes(self, texts: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flat shingle hashes with each row's start, and each row's word characters."""
        offsets, data = text_buffers(normalized(texts))
        mode = {"auto": lsh.AUTO, "word": lsh.WORDS, "char": lsh.CHARS}
        return lsh.shingles(
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
        a, b = lsh.permutations(self.num_perm, self.seed)
        signature = lsh.signatures(hashes, first, a, b)
        bands = lsh.band_hashes(signature, self.bands or 1, self.rows or 1)
        columns = [
            pl.Series(self.col("shingles"), np.diff(first)),
            pl.Series(self.col("chars"), chars),
            pl.Series(self.col("bands"), bands, dtype=pl.Array(pl.UInt64, bands.shape[1])),
        ]
        if self.verify:
            # the top 32 bits of each shingle hash are enough to compare sets exactly
            values = (hashes >> np.uint64(32)).astype(np.uint32)
            sets = pa.LargeListArray.from_arrays(pa.array(first), pa.array(values))
            columns.append(pl.Series(self.set_column, sets))
        return df.with_columns(columns)

    def rank(self, keys: pl.DataFrame) -> pl.Series:
        """The `keep` rule as a sort key: a cluster keeps its least rank, then its first row."""
        if self.keep == "longest":
            return -keys[self.col("chars")].cast(pl.Int64)
        if self.keep == "score" and self.score_column:
            return -keys[self.score_column].cast(pl.Float64)
        return pl.Series(np.zeros(keys.height, np.int64))

    def counts(self, histogram: dict[str, int], no_shingles: int, earlier: int) -> dict[str, int]:
        """The tally from its parts, which shard-by-shard jobs add up."""
        out = {label: count for label, count in histogram.items() if count}
        if no_shingles:
            out["rows without shingles (kept)"] = no_shingles
        if earlier:
            out[f"near-copies of {self.against}"] = earlier
        return out
