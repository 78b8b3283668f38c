"""Compiled word tokens: the spans, hashes and character tests of every token in a shard.

`stats.spaced` first puts a space wherever spaCy's blank English tokenizer splits
inside a whitespace-delimited chunk; `_scan` then reads the spaced text's UTF-8 bytes once
and cuts it into tokens, trying at each position, in this order (the first that fits wins):

1. a contraction suffix (`n't`, `'s`, `'re`, `'ll`, `'ve`, `'m`, `'d`, any case, with `'`
   or `’`) that ends at an ASCII word boundary;
2. two or more letter-period pairs (`U.S.`, `e.g.`), else 3. one (`J.`);
4. an abbreviation spaCy keeps with its period (`Mr.`, `Inc.`, `Sept.` ...);
5. a word, number, URL or e-mail address: a character that is not whitespace, punctuation
   or a symbol (or is `@` or `_`), or a sign before a digit, then everything up to the last
   such character before the next whitespace or `…`;
6. a run of two or more `.`, `-`, `'` or `/`, an ellipsis character, or an emoticon
   (`:)`, `):`, `:(`, `;)`);
7. any other single character.

No token is built as a string: each is a byte span with a 64-bit hash, its length in
characters, whether it has a letter, whether it has a decimal digit and whether it is a word
(has a character outside datatrove's punctuation set). `span_tokens` builds the same
features for spans another splitter found (Kiwi's morphemes, `kiwi.kiwi_tokens`).
Character classes come from the same regex engine Polars uses, tabulated once per process
for the code points below U+40000 (higher ones are unassigned, private or format
characters, none of them letters, digits, punctuation or symbols).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import xxhash
from numba import njit

from winnow.curate.text.buffers import code_point, text_buffers
from winnow.curate.text.hashing import FNV_OFFSET, FNV_PRIME, mix
from winnow.numba_cache import cache_root

SPACE, LETTER, DIGIT, PUNCT, SYMBOL, DATATROVE_PUNCT, MARK, DECIMAL = 1, 2, 4, 8, 16, 32, 64, 128
_CORE_EXCLUDED = SPACE | PUNCT | SYMBOL
_TABLE_SIZE = 0x40000
# spaCy keeps these with their period; each packed as up to four lowercase ASCII bytes.
ABBREVIATIONS = (
    "mr", "mrs", "ms", "dr", "prof", "jr", "sr", "st", "mt", "vs", "inc", "ltd", "co", "corp",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
)  # fmt: skip
_ABBREVIATION_CODES = np.array(
    sorted(int.from_bytes(a.encode(), "little") for a in ABBREVIATIONS), dtype=np.int64
)
WORD, ALPHA, NUMERAL = 1, 2, 4


_CLASS_TESTS = (
    (SPACE, r"\s"), (LETTER, r"\p{L}"), (DIGIT, r"\p{N}"), (PUNCT, r"\p{P}"), (SYMBOL, r"\p{S}"),
    (MARK, r"\p{M}"), (DECIMAL, r"\p{Nd}"),
)  # fmt: skip
"""Each class bit and the Polars regex that sets it."""


@cache
def char_classes(punctuation: frozenset[str]) -> np.ndarray:
    """Per code point below U+40000, its class bits, as Polars' regex engine classifies it;
    kept in winnow's cache folder per Polars version, as making it costs 0.1 CPU-s."""
    key = repr((pl.__version__, _TABLE_SIZE, _CLASS_TESTS, DATATROVE_PUNCT, sorted(punctuation)))
    name = f"char-classes-{xxhash.xxh64_hexdigest(key.encode())}.npy"
    path = Path(cache_root()) / "tables" / name
    try:
        table = np.load(path)
        if table.shape == (_TABLE_SIZE,) and table.dtype == np.uint8:
            return table
    except (OSError, ValueError, EOFError):
        pass
    table = _char_classes(punctuation)
    with contextlib.suppress(OSError):  # a read-only cache only costs the next process time
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{name}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            np.save(handle, table)
        os.replace(tmp, path)
    return table


def _char_classes(punctuation: frozenset[str]) -> np.ndarray:
    """The class bits of every code point, tested one by one with Polars' regexes."""
    points = np.arange(_TABLE_SIZE)
    points = points[(points < 0xD800) | (points > 0xDFFF)]
    chars = pl.Series("c", [chr(p) for p in points], dtype=pl.String)
    bits = np.zeros(len(points), dtype=np.uint8)
    for bit, pattern in _CLASS_TESTS:
        bits |= chars.str.contains(pattern).to_numpy().astype(np.uint8) * np.uint8(bit)
    bits |= chars.is_in(list(punctuation)).to_numpy().astype(np.uint8) * np.uint8(DATATROVE_PUNCT)
    table = np.zeros(_TABLE_SIZE, dtype=np.uint8)
    table[points] = bits
    return table


@njit(cache=True, nogil=True, inline="always")
def _width(b: int) -> int:
    """Bytes in the UTF-8 sequence that starts with byte b."""
    if b < 0x80:
        return 1
    if b < 0xE0:
        return 2
    if b < 0xF0:
        return 3
    return 4


@njit(cache=True, nogil=True, inline="always")
def _class(table: np.ndarray, c: int) -> int:
    """The class bits of code point c."""
    return table[c] if c < _TABLE_SIZE else 0


@njit(cache=True, nogil=True, inline="always")
def _is_core(table: np.ndarray, c: int) -> bool:
    """Whether c may start or end a word: not whitespace, punctuation or a symbol."""
    return (_class(table, c) & _CORE_EXCLUDED) == 0


@njit(cache=True, nogil=True, inline="always")
def _ascii_word(b: int) -> bool:
    """Whether byte b is an ASCII word character, as `(?-u:\\b)` sees it."""
    return (48 <= b <= 57) or (65 <= b <= 90) or (97 <= b <= 122) or b == 95


@njit(cache=True, nogil=True, inline="always")
def _lower(b: int) -> int:
    """Byte b lowercased if it is an ASCII letter."""
    return b | 0x20 if 65 <= b <= 90 else b


@njit(cache=True, nogil=True, inline="always")
def _contraction(data: np.ndarray, i: int, end: int) -> int:
    """The end of a contraction suffix at i that ends at a word boundary, else -1."""
    after_n = _lower(data[i]) == 110
    j = i + 1 if after_n else i
    if j < end and data[j] == 39:
        j += 1
    elif j + 2 < end and data[j] == 0xE2 and data[j + 1] == 0x80 and data[j + 2] == 0x99:
        j += 3
    else:
        return -1
    if j >= end:
        return -1
    a = _lower(data[j])
    b = _lower(data[j + 1]) if j + 1 < end else 0
    if after_n and a == 116 or not after_n and (a == 115 or a == 109 or a == 100):  # n't
        j += 1
    elif not after_n and ((a, b) == (114, 101) or (a, b) == (108, 108) or (a, b) == (118, 101)):
        j += 2
    else:
        return -1
    return j if j == end or not _ascii_word(data[j]) else -1


@njit(cache=True, nogil=True, inline="always")
def _letter_periods(data: np.ndarray, table: np.ndarray, i: int, end: int) -> int:
    """The end of the longest run of letter-period pairs at i, or of one pair, else -1."""
    j, pairs = i, 0
    while j < end:
        w = _width(data[j])
        if j + w >= end or data[j + w] != 46:
            break
        if not _class(table, code_point(data, j)) & LETTER:
            break
        j += w + 1
        pairs += 1
    return j if pairs else -1


@njit(cache=True, nogil=True, inline="always")
def _abbreviation(data: np.ndarray, i: int, end: int, codes: np.ndarray) -> int:
    """The end of a listed abbreviation and its period at i, else -1."""
    code, j = 0, i
    while j < end and j - i < 5 and 97 <= _lower(data[j]) <= 122:
        code |= _lower(data[j]) << (8 * (j - i))
        j += 1
    if j == i or j - i > 4 or j >= end or data[j] != 46:
        return -1
    for known in codes:
        if known == code:
            return j + 1
    return -1


@njit(cache=True, nogil=True, inline="always")
def _word(data: np.ndarray, table: np.ndarray, i: int, end: int) -> int:
    """The end of a word at i (rule 5 of the module docstring), else -1."""
    c = code_point(data, i)
    j = i + _width(data[i])
    if c == 43 or c == 45:  # a sign before a digit
        if j >= end or not _class(table, code_point(data, j)) & DIGIT:
            return -1
        j += _width(data[j])
    elif not (_is_core(table, c) or c == 64 or c == 95):
        return -1
    last = j
    while j < end:
        c = code_point(data, j)
        if c == 0x2026 or _class(table, c) & SPACE:
            break
        j += _width(data[j])
        if _is_core(table, c):
            last = j
    return last


@njit(cache=True, nogil=True, inline="always")
def _other(data: np.ndarray, i: int, end: int) -> int:
    """The end of a punctuation run or emoticon at i, else of its one character."""
    b = data[i]
    if b == 46 or b == 45 or b == 39 or b == 47:
        j = i + 1
        while j < end and data[j] == b:
            j += 1
        if j - i >= 2:
            return j
    if i + 1 < end:
        c = data[i + 1]
        if (b == 58 and (c == 41 or c == 40)) or (b == 41 and c == 58) or (b == 59 and c == 41):
            return i + 2  # :) :( ): ;)
    return i + _width(b)


@njit(cache=True, nogil=True, inline="always")
def _period_within(data: np.ndarray, start: int, end: int) -> bool:
    """Whether a byte from start to end is a period (an abbreviation may end there)."""
    k = start
    while k < end and data[k] != 46:
        k += 1
    return k < end


@njit(cache=True, nogil=True, inline="always")
def _features(data: np.ndarray, table: np.ndarray, i: int, j: int) -> tuple[np.uint64, int, int]:
    """A token's hash, characters and WORD/ALPHA/NUMERAL flags, from its bytes i to j."""
    h, f, c = FNV_OFFSET, 0, 0
    for k in range(i, j):
        b = data[k]
        h = (h ^ np.uint64(b)) * FNV_PRIME
        if (b & 0xC0) != 0x80:
            c += 1
            bits = _class(table, code_point(data, k))
            f |= WORD if not bits & DATATROVE_PUNCT else 0
            f |= ALPHA if bits & LETTER else 0
            f |= NUMERAL if bits & DECIMAL else 0
    return mix(h), c, f


@njit(cache=True, nogil=True)
def _span_features(
    data: np.ndarray, table: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every span's hash, characters and flags, as `_scan` computes them for its tokens."""
    hashes = np.empty(len(starts), np.uint64)
    chars = np.empty(len(starts), np.int64)
    flags = np.empty(len(starts), np.uint8)
    for t in range(len(starts)):
        hashes[t], chars[t], flags[t] = _features(data, table, starts[t], ends[t])
    return hashes, chars, flags


@njit(cache=True, nogil=True)
def _scan(
    offsets: np.ndarray, data: np.ndarray, table: np.ndarray, codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every token's row start index, byte start and end, hash, characters and flags."""
    rows = len(offsets) - 1
    # A token has at least one byte. The tail past the last token is never written, so its
    # pages are never touched and cost no memory.
    starts = np.empty(len(data), np.int64)
    ends = np.empty(len(data), np.int64)
    hashes = np.empty(len(data), np.uint64)
    chars = np.empty(len(data), np.int64)
    flags = np.empty(len(data), np.uint8)
    first = np.zeros(rows + 1, np.int64)
    n = 0
    for r in range(rows):
        i, end = offsets[r], offsets[r + 1]
        while i < end:
            if _class(table, code_point(data, i)) & SPACE:
                i += _width(data[i])
                continue
            # The rules in order, each tried only where its first bytes allow it.
            b = data[i]
            j = -1
            if b == 39 or b == 0xE2 or _lower(b) == 110:
                j = _contraction(data, i, end)
            w = _width(b)
            if j < 0 and i + w < end and data[i + w] == 46:
                j = _letter_periods(data, table, i, end)
            if j < 0 and 97 <= _lower(b) <= 122 and _period_within(data, i + 2, min(i + 5, end)):
                j = _abbreviation(data, i, end, codes)
            if j < 0:
                j = _word(data, table, i, end)
            if j < 0:
                j = _other(data, i, end)
            hashes[n], chars[n], flags[n] = _features(data, table, i, j)
            starts[n], ends[n] = i, j
            n += 1
            i = j
        first[r + 1] = n
    return first, starts[:n], ends[:n], hashes[:n], chars[:n], flags[:n]


@njit(cache=True, nogil=True)
def hash_bytes(data: np.ndarray, start: int, end: int) -> np.uint64:
    """A token's hash, as `_scan` computes it."""
    h = FNV_OFFSET
    for k in range(start, end):
        h = (h ^ np.uint64(data[k])) * FNV_PRIME
    return mix(h)


def hash_strings(strings: tuple[str, ...] | list[str]) -> np.ndarray:
    """The token hashes of these strings, to look them up among a shard's tokens."""
    out = np.empty(len(strings), np.uint64)
    for k, s in enumerate(strings):
        encoded = s.encode("utf-8")
        out[k] = hash_bytes(np.frombuffer(encoded + b"\0", dtype=np.uint8), 0, len(encoded))
    return out


@dataclass(frozen=True)
class Tokens:
    """The tokens of a text column: row r owns tokens first[r] to first[r + 1]."""

    data: np.ndarray
    first: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    hashes: np.ndarray
    chars: np.ndarray
    flags: np.ndarray
    tags: np.ndarray | None = None
    """Each token's part of speech as an index into `kiwi.TAGS`; None for a split without."""

    @property
    def counts(self) -> np.ndarray:
        """Tokens per row."""
        return np.diff(self.first)

    @property
    def rows_count(self) -> int:
        """Rows these tokens cover."""
        return len(self.first) - 1

    def rows(self, index: np.ndarray) -> Tokens:
        """The tokens of these rows, in this order (so a later step reuses an earlier split)."""
        counts = self.counts[index]
        first = np.zeros(len(index) + 1, dtype=self.first.dtype)
        np.cumsum(counts, out=first[1:])
        take = np.repeat(self.first[index] - first[:-1], counts) + np.arange(first[-1])
        tags = None if self.tags is None else self.tags[take]
        spans = (self.starts[take], self.ends[take])
        features = (self.hashes[take], self.chars[take], self.flags[take])
        return Tokens(self.data, first, *spans, *features, tags)

    def then(self, other: Tokens) -> Tokens:
        """These rows followed by another split's, over both texts' bytes."""
        shift = len(self.data)
        tags = None if self.tags is None or other.tags is None else [self.tags, other.tags]
        return Tokens(
            np.concatenate([self.data, other.data]),
            np.concatenate([self.first, other.first[1:] + self.first[-1]]),
            np.concatenate([self.starts, other.starts + shift]),
            np.concatenate([self.ends, other.ends + shift]),
            np.concatenate([self.hashes, other.hashes]),
            np.concatenate([self.chars, other.chars]),
            np.concatenate([self.flags, other.flags]),
            None if tags is None else np.concatenate(tags),
        )

    def strings(self) -> list[list[str]]:
        """The tokens of each row as strings (for tests and inspection, not for scoring)."""
        raw = self.data.tobytes()
        spans = zip(self.starts.tolist(), self.ends.tolist(), strict=True)
        words = [raw[a:b].decode("utf-8") for a, b in spans]
        bounds = self.first.tolist()
        return [words[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def tokenize(spaced: pl.Series, punctuation: frozenset[str]) -> Tokens:
    """Tokens of text already spaced by `stats.spaced` (see the module docstring)."""
    offsets, data = text_buffers(spaced)
    table = char_classes(punctuation)
    first, starts, ends, hashes, chars, flags = _scan(offsets, data, table, _ABBREVIATION_CODES)
    return Tokens(data, first, starts, ends, hashes, chars, flags)


def span_tokens(
    texts: pl.Series,
    first: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    punctuation: frozenset[str],
    tags: np.ndarray | None = None,
) -> Tokens:
    """Tokens at byte spans of a text column's UTF-8 buffer (offsets within each row) that
    another splitter found, with the features `tokenize` gives its own tokens."""
    offsets, data = text_buffers(texts)
    row_starts = np.repeat(offsets[:-1], np.diff(first))
    starts, ends = starts + row_starts, ends + row_starts
    hashes, chars, flags = _span_features(data, char_classes(punctuation), starts, ends)
    return Tokens(data, first, starts, ends, hashes, chars, flags, tags)
