"""Decontamination: flag or drop documents that share a word n-gram with an evaluation set.

The rule is lm-eval's (`lm_eval/decontamination/janitor.py`), after GPT-3's appendix C: a
document is contaminated when any of its word n-grams (n = 13 by default) is an n-gram of
an eval item. Text on both sides is normalized the same way before words are cut:

1. lowercase (every letter; lm-eval lowercases ASCII letters only);
2. delete every punctuation and symbol character, Unicode classes P and S (a superset of
   lm-eval's `string.punctuation`, so curly quotes and dashes from web pages match the
   straight ones of eval files): "U.S." becomes "us", "well-known" "wellknown";
3. split on whitespace (Unicode White_Space); a piece left with no character is no word.

An item with fewer than n words has no n-gram and can never match, as in lm-eval; the index
counts these items per benchmark (lower `n` to check them). N-grams are compared by a 64-bit
hash: each word's kept bytes are hashed (FNV-1a, mixed) and an n-gram's hash is the
polynomial sum of its words' hashes, rolled along the text. Steps 2 and 3 happen inside that
compiled pass over the lowercased shard's Arrow buffers, with the character classes of
Polars' regex engine, so no normalized copy of a document is made. The eval side is hashed
once per process into a sorted array with a bitmap of hash prefixes in front of it: most
document n-grams miss the bitmap (a few megabytes, cache-resident) and only the rest are
looked up by binary search (measured 20 times faster than searching for every n-gram).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import ClassVar

import numpy as np
import polars as pl
from numba import njit

from winnow.curate.evalsets import EvalSet, read_items, resolve_eval
from winnow.curate.steps.base import Step, first_reason, register
from winnow.curate.text.buffers import code_point, text_buffers
from winnow.curate.text.hashing import FNV_OFFSET, FNV_PRIME, mix
from winnow.curate.text.tokens import PUNCT, SPACE, SYMBOL, char_classes
from winnow.errors import WinnowError

MODES = ("flag", "drop")
MAX_EVALS = 64
"""Benchmarks one step can tell apart: each is one bit of a row's 64-bit benchmark mask."""

_DELETED = PUNCT | SYMBOL
_POLY = np.uint64(0x9E3779B97F4A7C15)
"""The odd multiplier of the polynomial n-gram hash."""
BITMAP_BITS_PER_KEY = 32
"""Bitmap size per distinct eval n-gram: about 3% of missing n-grams get past it."""


def normalized(text: pl.Expr) -> pl.Expr:
    """The module's normalization as text: lowercase, no punctuation or symbols, one space
    between words. The kernels cut the same words from the lowercased text alone."""
    return (
        text.fill_null("")
        .str.to_lowercase()
        .str.replace_all(r"[\p{P}\p{S}]+", "")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars(" ")
    )


def lowercased(texts: pl.Series) -> pl.Series:
    """What the kernels read: the text lowercased, nulls as empty strings."""
    return texts.fill_null("").str.to_lowercase()


def top_power(n: int) -> np.uint64:
    """_POLY to the power n, modulo 2**64: the weight a word has when it leaves the window."""
    return np.uint64(pow(int(_POLY), n, 1 << 64))


@njit(cache=True, nogil=True)
def _next_word(
    data: np.ndarray, table: np.ndarray, i: int, end: int
) -> tuple[int, np.uint64, bool]:
    """The end of the next word from byte i, the hash of its kept bytes, and whether there
    was one. A word is a run of non-whitespace characters with at least one that is neither
    punctuation nor a symbol; only those characters' bytes are hashed."""
    h = FNV_OFFSET
    kept = False
    while i < end:
        b = data[i]
        if b < 0x80:
            cls = table[b]
            width = 1
        else:
            c = code_point(data, i)
            cls = table[c] if c < len(table) else 0
            width = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
        if cls & SPACE:
            i += width
            if kept:
                return i, mix(h), True
            continue
        if not cls & _DELETED:
            kept = True
            for k in range(i, i + width):
                h = (h ^ np.uint64(data[k])) * FNV_PRIME
        i += width
    return end, mix(h), kept


@njit(cache=True, nogil=True, inline="always")
def _push(ring: np.ndarray, k: int, w: np.uint64, g: np.uint64, top: np.uint64) -> np.uint64:
    """Slide the window hash g by word w, the k-th word (from 0) of its row."""
    slot = k % len(ring)
    leaving = ring[slot] if k >= len(ring) else np.uint64(0)
    ring[slot] = w
    return g * _POLY + w - leaving * top


@njit(cache=True, nogil=True)
def _ngram_count(offsets: np.ndarray, data: np.ndarray, table: np.ndarray, n: int) -> np.ndarray:
    """Per row, how many n-grams its words make (0 below n words)."""
    rows = len(offsets) - 1
    out = np.zeros(rows, np.int64)
    for r in range(rows):
        words = 0
        i, end = offsets[r], offsets[r + 1]
        while True:
            i, _, found = _next_word(data, table, i, end)
            if not found:
                break
            words += 1
        out[r] = max(words - n + 1, 0)
    return out


@njit(cache=True, nogil=True)
def _ngrams(
    offsets: np.ndarray, data: np.ndarray, table: np.ndarray, n: int, top: np.uint64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every n-gram hash of every row, with its row and the position of its first word."""
    counts = _ngram_count(offsets, data, table, n)
    total = counts.sum()
    hashes = np.empty(total, np.uint64)
    rows = np.empty(total, np.int32)
    positions = np.empty(total, np.int32)
    ring = np.zeros(n, np.uint64)
    out = 0
    for r in range(len(offsets) - 1):
        g = np.uint64(0)
        k = 0
        i, end = offsets[r], offsets[r + 1]
        while True:
            i, w, found = _next_word(data, table, i, end)
            if not found:
                break
            g = _push(ring, k, w, g, top)
            k += 1
            if k >= n:
                hashes[out], rows[out], positions[out] = mix(g), r, k - n
                out += 1
    return hashes, rows, positions


@njit(cache=True, nogil=True)
def _bitmap(keys: np.ndarray, bits: int) -> np.ndarray:
    """A bitmap with the bit of each key's top `bits` bits set."""
    out = np.zeros(max((1 << bits) >> 6, 1), np.uint64)
    for key in keys:
        b = key >> np.uint64(64 - bits)
        out[b >> np.uint64(6)] |= np.uint64(1) << (b & np.uint64(63))
    return out


@njit(cache=True, nogil=True)
def _match(
    offsets: np.ndarray,
    data: np.ndarray,
    table: np.ndarray,
    n: int,
    top: np.uint64,
    keys: np.ndarray,
    bitmap: np.ndarray,
    bits: int,
    masks: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: how many of its n-grams are in `keys` (sorted), the index of the first one
    found (-1 for none) and the OR of the benchmark masks of all found."""
    rows = len(offsets) - 1
    matches = np.zeros(rows, np.int64)
    first = np.full(rows, -1, np.int64)
    found = np.zeros(rows, np.uint64)
    ring = np.zeros(n, np.uint64)
    size = len(keys)
    for r in range(rows):
        g = np.uint64(0)
        k = 0
        i, end = offsets[r], offsets[r + 1]
        while size:
            i, w, more = _next_word(data, table, i, end)
            if not more:
                break
            g = _push(ring, k, w, g, top)
            k += 1
            if k < n:
                continue
            key = mix(g)
            b = key >> np.uint64(64 - bits)
            if not bitmap[b >> np.uint64(6)] & (np.uint64(1) << (b & np.uint64(63))):
                continue
            at = np.searchsorted(keys, key)
            if at < size and keys[at] == key:
                matches[r] += 1
                found[r] |= masks[at]
                if first[r] < 0:
                    first[r] = at
    return matches, first, found


@dataclass
class EvalIndex:
    """The distinct n-gram hashes of some eval sets, sorted, each with where it first occurs.

    `keys[i]` first occurs in item `item_row[i]` from word `position[i]`; `masks[i]` has bit
    b set when benchmark b has it anywhere. `bitmap` has the bit of each key's top `bits`
    bits set. `items` holds each item's `item` id, `benchmark` index and `text`.
    """

    n: int
    names: tuple[str, ...]
    keys: np.ndarray
    item_row: np.ndarray
    position: np.ndarray
    masks: np.ndarray
    bitmap: np.ndarray
    bits: int
    items: pl.DataFrame
    short_items: dict[str, int]

    def lookup(self) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
        """The arguments `_match` looks n-grams up with: keys, bitmap, its bits, masks."""
        return self.keys, self.bitmap, self.bits, self.masks

    @property
    def nbytes(self) -> int:
        """Memory the hash arrays and the bitmap take."""
        arrays = (self.keys, self.item_row, self.position, self.masks, self.bitmap)
        return sum(a.nbytes for a in arrays)


def distinct(hashes: np.ndarray, bits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct hashes sorted, the index of each one's first occurrence, and the OR of
    `bits` over its occurrences (an unstable sort, then the minimum index: 4x a stable one)."""
    if not len(hashes):
        return hashes, np.zeros(0, np.int64), bits
    order = np.argsort(hashes)
    ordered = hashes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    first = np.minimum.reduceat(order, starts)
    return ordered[starts], first, np.bitwise_or.reduceat(bits[order], starts)


@lru_cache(maxsize=4)
def build_index(sets: tuple[EvalSet, ...], n: int, stamps: tuple[object, ...]) -> EvalIndex:
    """Read and hash every item of `sets` once per process (`stamps` keys the cache to the
    files' sizes and times, so an edited file is read again)."""
    items = pl.concat(
        [
            read_items(s).with_columns(pl.lit(b, dtype=pl.Int64).alias("benchmark"))
            for b, s in enumerate(sets)
        ]
    )
    offsets, data = text_buffers(lowercased(items["text"]))
    hashes, rows, positions = _ngrams(offsets, data, char_classes(frozenset()), n, top_power(n))
    bench = items["benchmark"].to_numpy()
    keys, first, masks = distinct(
        hashes, np.left_shift(np.uint64(1), bench[rows].astype(np.uint64))
    )
    bits = max(16, int(np.ceil(np.log2(max(len(keys), 1) * BITMAP_BITS_PER_KEY))))
    short = np.bincount(rows, minlength=items.height) == 0
    return EvalIndex(
        n=n,
        names=tuple(s.name for s in sets),
        keys=keys,
        item_row=rows[first],
        position=positions[first],
        masks=masks,
        bitmap=_bitmap(keys, bits),
        bits=bits,
        items=items,
        short_items={s.name: int((short & (bench == b)).sum()) for b, s in enumerate(sets)},
    )


@register
@dataclass
class Decontaminate(Step):
    """Flag (or drop) documents sharing a word n-gram with an eval set (lm-eval's 13-grams).

    `evals` lists catalogs/evals names (`winnow curate evals`) or JSONL/JSON/Parquet/CSV
    files; `fields` maps an `evals` entry to the fields that make its item text (a file's
    default is `text`). Text is lowercased and stripped of punctuation before words are cut
    (see the module doc); items shorter than `n` words are never matched, as in lm-eval.
    Columns: `decontaminate_matches` (the document's n-grams found in the evals),
    `decontaminate_benchmark`, `decontaminate_item`, `decontaminate_ngram` (of the first
    found), `decontaminate_benchmarks` (every benchmark found). With `mode: drop`, rows with
    at least `min_matches` go with reason `contaminated`; `mode: flag` keeps them.
    """

    name: ClassVar[str] = "decontaminate"
    prefix: ClassVar[str] = "decontaminate_"
    evals: list[str]
    n: int = 13
    mode: str = "flag"
    min_matches: int = 1
    fields: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Check the parameters and find every eval set's files before any data is read."""
        if self.mode not in MODES:
            raise WinnowError(
                f"decontaminate: mode '{self.mode}' is not known; use 'flag' (keep the rows, "
                "marked) or 'drop' (remove them with reason 'contaminated')."
            )
        for key in ("n", "min_matches"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise WinnowError(
                    f"decontaminate: {key} is {value!r}; use a whole number of at least 1 "
                    f"({'13 words, as GPT-3 and lm-eval' if key == 'n' else '1 match'})."
                )
        if isinstance(self.evals, str):
            self.evals = [self.evals]
        if not isinstance(self.evals, list) or not self.evals:
            raise WinnowError(
                "decontaminate: evals should list catalogs/evals names or eval files, e.g. "
                "[mmlu, truthfulqa]; see `winnow curate evals`."
            )
        if not isinstance(self.fields, dict):
            raise WinnowError(
                "decontaminate: fields should map an evals entry to its text fields, e.g. "
                "{my_eval.jsonl: [question, answer]}."
            )
        for key in self.fields:
            if key not in self.evals:
                raise WinnowError(
                    f"decontaminate: fields names '{key}', which is not in evals "
                    f"({', '.join(map(str, self.evals))}); use the entry exactly as in evals."
                )
        if len(self.evals) > MAX_EVALS:
            raise WinnowError(
                f"decontaminate: evals lists {len(self.evals)} sets, more than {MAX_EVALS}; "
                "split them over two decontaminate steps."
            )
        self.sets = tuple(resolve_eval(str(e), self.fields.get(e)) for e in self.evals)
        names = [s.name for s in self.sets]
        for name in names:
            if names.count(name) > 1:
                raise WinnowError(
                    f"decontaminate: two evals entries are both named '{name}'; give files "
                    "distinct names so that flagged rows say which benchmark they match."
                )

    def index(self) -> EvalIndex:
        """This step's eval index, built on first use in each process."""
        return build_index(self.sets, self.n, tuple(s.stamp() for s in self.sets))

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Add the match count and, for rows with a match, where the first one comes from."""
        index = self.index()
        offsets, data = text_buffers(lowercased(df["text"]))
        table = char_classes(frozenset())
        matches, first, found = _match(
            offsets, data, table, self.n, top_power(self.n), *index.lookup()
        )
        hit = np.flatnonzero(first >= 0)
        entries = first[hit]
        origin = index.items[index.item_row[entries]]
        norms = origin.select(normalized(pl.col("text"))).to_series().to_list()
        benchmark: list[str | None] = [None] * df.height
        item: list[str | None] = [None] * df.height
        ngram: list[str | None] = [None] * df.height
        benchmarks: list[list[str]] = [[] for _ in range(df.height)]
        starts = index.position[entries].tolist()
        rows = zip(hit.tolist(), origin["benchmark"], origin["item"], norms, starts, strict=True)
        for r, b, item_id, norm, start in rows:
            benchmark[r], item[r] = index.names[b], item_id
            ngram[r] = " ".join(norm.split(" ")[start : start + self.n])
            benchmarks[r] = [name for i, name in enumerate(index.names) if int(found[r]) >> i & 1]
        return df.with_columns(
            pl.Series(self.col("matches"), matches, dtype=pl.Int64),
            pl.Series(self.col("benchmark"), benchmark, dtype=pl.Utf8),
            pl.Series(self.col("item"), item, dtype=pl.Utf8),
            pl.Series(self.col("ngram"), ngram, dtype=pl.Utf8),
            pl.Series(self.col("benchmarks"), benchmarks, dtype=pl.List(pl.Utf8)),
        )

    def describe(self) -> dict[str, str]:
        """The index checked against, and per benchmark the items too short to ever match."""
        index = self.index()
        short = ", ".join(f"{k} {v:,}" for k, v in index.short_items.items() if v) or "none"
        return {
            "eval index": f"{len(index.keys):,} distinct {self.n}-grams from "
            f"{index.items.height:,} items of {', '.join(index.names)}",
            f"items under {self.n} words, never matched": short,
        }

    def flagged(self) -> pl.Expr:
        """Whether a scored row has at least `min_matches` n-grams from the evals."""
        return pl.col(self.col("matches")) >= self.min_matches

    def reason(self) -> pl.Expr:
        """In drop mode, drop flagged rows as `contaminated`; in flag mode keep every row."""
        if self.mode == "flag":
            return first_reason()
        return first_reason((self.flagged(), "contaminated"))

    def tally(self, frame: pl.DataFrame) -> dict[str, int]:
        """Flagged rows in `frame`, in all (`flagged`) and per benchmark (`flagged:NAME`)."""
        if self.col("matches") not in frame.columns:
            return {}
        flagged = frame.filter(self.flagged())
        if not flagged.height:
            return {}
        per = flagged[self.col("benchmarks")].explode().drop_nulls().value_counts()
        counts = dict(per.iter_rows())
        tally = {"flagged": flagged.height}
        for name in (s.name for s in self.sets):
            if counts.get(name):
                tally[f"flagged:{name}"] = counts[name]
        return tally
