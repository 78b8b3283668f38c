"""MinHash near-duplicate detection: shingles, signatures, LSH bands and connected components.

Shingles are hashed from NFKC-normalized, lower-cased text by a compiled scan: words are
runs of letters, digits and marks (anything else separates them); shingles are word n-grams,
or character n-grams of those characters for text written without spaces. A document with
fewer units than n gives one shingle of everything it has, so short documents keep distinct
signatures; an empty one gives none. Signatures use `num_perm` seeded multiply-shift hash
functions (`(a * x + b) mod 2**64`, top 32 bits, `a` odd), the minimum over each document's
shingles. Bands hash `rows` consecutive signature values each; two documents are candidates
when any band agrees.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from winnow.curate.text.buffers import code_point
from winnow.curate.text.hashing import FNV_OFFSET, FNV_PRIME, find_slot, mix, table_bits
from winnow.curate.text.tokens import DIGIT, LETTER, MARK

_COMBINE = np.uint64(0x9E3779B97F4A7C15)
_WORD_CHAR = LETTER | DIGIT | MARK
AUTO, WORDS, CHARS = 0, 1, 2


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The seeded multipliers (odd) and offsets of the hash functions."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def candidate_probability(similarity: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """The chance that two documents of this Jaccard similarity share a band (the S-curve)."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def optimal_bands(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """Bands and rows (bands x rows <= num_perm) that minimize the weighted areas of false
    positives (candidates below the threshold) and false negatives (missed above it)."""
    below = np.linspace(0.0, threshold, 201)
    above = np.linspace(threshold, 1.0, 201)
    best, best_error = (1, num_perm), np.inf
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp = np.trapezoid(candidate_probability(below, bands, rows), below)
            fn = np.trapezoid(1.0 - candidate_probability(above, bands, rows), above)
            error = fp_weight * fp + fn_weight * fn
            if error < best_error:
                best, best_error = (bands, rows), error
    return best


@njit(cache=True, nogil=True)
def _combine(units: np.ndarray, start: int, count: int, size: int) -> np.uint64:
    """The hash of `count` unit hashes read from a ring buffer of `size` starting at `start`."""
    h = np.uint64(0)
    k = start % size
    for _ in range(count):
        h = h * _COMBINE + units[k]
        k = k + 1 if k + 1 < size else 0
    return mix(h)


@njit(cache=True, nogil=True)
def _is_word_char(table: np.ndarray, c: int) -> bool:
    """Letters, digits and marks make words; everything else separates them."""
    return c < len(table) and (table[c] & _WORD_CHAR) != 0


@njit(cache=True, nogil=True)
def _row_shingles(
    data: np.ndarray,
    table: np.ndarray,
    start: int,
    end: int,
    chars: bool,
    n: int,
    out: np.ndarray,
    at: int,
) -> tuple[int, int, int, int]:
    """Write one row's shingle hashes into `out` from index `at`; return the new end index,
    and the row's words, word characters and Hangul syllables.

    Units are words (runs of letters, digits and marks) or, when `chars`, those characters
    one by one.
    """
    ring = np.empty(n, np.uint64)
    seen = words = n_chars = syllables = 0
    h = FNV_OFFSET
    in_word = pending = False
    i = start
    while i <= end:
        word_char = False
        width = 1
        if i < end:
            b = data[i]
            if b < 0x80:
                word_char = (table[b] & _WORD_CHAR) != 0
            else:
                c = code_point(data, i)
                width = 2 if c < 0x800 else (3 if c < 0x10000 else 4)
                word_char = _is_word_char(table, c)
                syllables += word_char and 0xAC00 <= c <= 0xD7A3
        if word_char:
            for k in range(i, i + width):
                h = (h ^ np.uint64(data[k])) * FNV_PRIME
            n_chars += 1
            words += not in_word
            pending = True
        in_word = word_char
        if pending and (chars or not word_char):
            ring[seen % n] = mix(h)
            seen += 1
            if seen >= n:
                out[at] = _combine(ring, seen - n, n, n)
                at += 1
            h = FNV_OFFSET
            pending = False
        i += width
    if 0 < seen < n:
        out[at] = _combine(ring, 0, seen, n)
        at += 1
    return at, words, n_chars, syllables


@njit(cache=True, nogil=True)
def shingles(
    offsets: np.ndarray,
    data: np.ndarray,
    table: np.ndarray,
    mode: int,
    korean_syllables: bool,
    n_words: int,
    n_chars: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every row's shingle hashes, flat, with each row's start index (row r owns first[r] to
    first[r + 1]) and its word characters.

    `mode` is AUTO (characters for rows written without spaces: more than 20 characters a
    word), WORDS or CHARS; `korean_syllables` also shingles mostly-Hangul rows by syllable.
    A row is shingled by words first; the rare row that needs characters is done again.
    """
    rows = len(offsets) - 1
    out = np.empty(len(data) + rows, np.uint64)
    first = np.zeros(rows + 1, np.int64)
    counts = np.zeros(rows, np.int64)
    at = 0
    for r in range(rows):
        a, b = offsets[r], offsets[r + 1]
        end, words, chars, syllables = _row_shingles(
            data, table, a, b, mode == CHARS, n_chars if mode == CHARS else n_words, out, at
        )
        by_chars = mode == AUTO and chars > 20 * words
        if mode != CHARS and (by_chars or (korean_syllables and 2 * syllables > chars)):
            end = _row_shingles(data, table, a, b, True, n_chars, out, at)[0]
        at = end
        first[r + 1] = at
        counts[r] = chars
    return out[:at], first, counts


@njit(cache=True, nogil=True)
def signatures(hashes: np.ndarray, first: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each row's MinHash signature: per hash function, the least value over its shingles
    (all ones for a row without shingles)."""
    rows, perms = len(first) - 1, len(a)
    out = np.full((rows, perms), 0xFFFFFFFF, np.uint32)
    values = np.empty(perms, np.uint64)
    for r in range(rows):
        for p in range(perms):
            values[p] = np.uint64(0xFFFFFFFFFFFFFFFF)
        for t in range(first[r], first[r + 1]):
            x = hashes[t]
            for p in range(perms):
                v = (a[p] * x + b[p]) >> np.uint64(32)
                if v < values[p]:
                    values[p] = v
        if first[r + 1] > first[r]:
            for p in range(perms):
                out[r, p] = np.uint32(values[p])
    return out


@njit(cache=True, nogil=True)
def band_hashes(signature: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Per row and band, a 64-bit hash of the band's `rows` signature values."""
    out = np.empty((signature.shape[0], bands), np.uint64)
    for r in range(signature.shape[0]):
        for k in range(bands):
            h = np.uint64(k + 1)
            for j in range(k * rows, (k + 1) * rows):
                h = h * _COMBINE + np.uint64(signature[r, j])
            out[r, k] = mix(h)
    return out


@njit(cache=True, nogil=True)
def _root(parent: np.ndarray, x: int) -> int:
    """The root of x's set, halving the path on the way."""
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True, nogil=True)
def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Union-find over n items joined by the edges left[i]-right[i]: each item's component,
    named by its smallest member."""
    parent = np.arange(n)
    for e in range(len(left)):
        x, y = _root(parent, left[e]), _root(parent, right[e])
        if x != y:
            if x < y:
                parent[y] = x
            else:
                parent[x] = y
    out = np.empty(n, np.int64)
    for x in range(n):
        out[x] = _root(parent, x)
    return out


@njit(cache=True, nogil=True)
def jaccard(
    values: np.ndarray, first: np.ndarray, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """Exact Jaccard similarity of row pairs' shingle sets (rows own first[r] to first[r + 1]
    of `values`, in any order, repeats allowed), through one hash table reused per pair."""
    longest = 1
    for e in range(len(left)):
        pair = first[left[e] + 1] - first[left[e]] + first[right[e] + 1] - first[right[e]]
        longest = max(longest, pair)
    size = 1 << table_bits(longest)
    keys = np.empty(size, np.uint64)
    stamp = np.zeros(size, np.int64)
    side = np.zeros(size, np.uint8)
    out = np.empty(len(left), np.float64)
    for e in range(len(left)):
        a, b = first[left[e]], first[left[e] + 1]
        c, d = first[right[e]], first[right[e] + 1]
        bits = table_bits(b - a + d - c)
        distinct = common = 0
        for k in range(a, b):
            slot, seen = find_slot(keys, stamp, e + 1, bits, np.uint64(values[k]))
            if not seen:
                side[slot] = 1
                distinct += 1
        for k in range(c, d):
            slot, seen = find_slot(keys, stamp, e + 1, bits, np.uint64(values[k]))
            if not seen:
                side[slot] = 2
                distinct += 1
            elif side[slot] == 1:
                side[slot] = 3
                common += 1
        out[e] = common / distinct if distinct else 0.0
    return out
