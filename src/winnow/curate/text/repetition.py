"""Gopher's repetition counts for a whole shard, compiled, for the steps that judge repetition.

Lines and paragraphs are read straight from the Arrow buffers of the text column (offsets
and UTF-8 bytes), n-grams from per-token 64-bit hashes and character lengths. Pieces and
n-grams are compared by 64-bit hash in the reused tables of `hashing`. Compiled by numba
with `cache=True`, so a machine pays the compile once.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numba import njit

from winnow.curate.text.buffers import code_point, is_space, text_buffers
from winnow.curate.text.hashing import (
    FNV_OFFSET,
    FNV_PRIME,
    MULTIPLIER,
    find_slot,
    mix,
    slot_of,
    table_bits,
)
from winnow.curate.text.tokens import Tokens

_NEWLINE = 10

# Columns of the per-row counts `_repetition` returns.
N_CHARS, PARAS, DUP_PARAS, DUP_PARA_CHARS, LINES, DUP_LINES, DUP_LINE_CHARS = range(7)


@njit(cache=True, nogil=True)
def _fnv(data: np.ndarray, start: int, end: int) -> np.uint64:
    """The 64-bit hash of a byte span, as the line scan computes it on the fly."""
    h = FNV_OFFSET
    for i in range(start, end):
        h = (h ^ np.uint64(data[i])) * FNV_PRIME
    return mix(h)


@njit(cache=True, nogil=True)
def _chars(data: np.ndarray, start: int, end: int) -> int:
    """Characters in a UTF-8 byte span: the bytes that are not continuation bytes."""
    n = 0
    for i in range(start, end):
        n += (data[i] & 0xC0) != 0x80
    return n


@njit(cache=True, nogil=True)
def _lines(
    data: np.ndarray, start: int, end: int, keys: np.ndarray, stamp: np.ndarray, gen: int, bits: int
) -> tuple[int, int, int, int]:
    """Characters, then lines, repeated lines and their characters as datatrove's
    `re.split("\\n+")` counts them: the non-empty pieces between newlines, plus an empty
    first and last line when the text starts and ends with a newline (the two repeat); at
    least one."""
    n_chars = lines = dup = dup_chars = 0
    h = FNV_OFFSET
    piece, piece_chars = start, 0
    for i in range(start, end + 1):
        if i == end or data[i] == _NEWLINE:
            if i > piece:
                lines += 1
                if find_slot(keys, stamp, gen, bits, mix(h))[1]:
                    dup += 1
                    dup_chars += n_chars - piece_chars
            h = FNV_OFFSET
            n_chars += 1
            piece, piece_chars = i + 1, n_chars
        else:
            h = (h ^ np.uint64(data[i])) * FNV_PRIME
            n_chars += (data[i] & 0xC0) != 0x80
    if end > start:
        lead = 1 if data[start] == _NEWLINE else 0
        trail = 1 if data[end - 1] == _NEWLINE else 0
        lines += lead + trail
        dup += lead * trail
    return n_chars - 1, max(lines, 1), dup, dup_chars


@njit(cache=True, nogil=True)
def _paragraphs(
    data: np.ndarray, start: int, end: int, keys: np.ndarray, stamp: np.ndarray, gen: int, bits: int
) -> tuple[int, int, int]:
    """Paragraphs, repeated paragraphs and their characters: the pieces of the stripped text
    between "\\n\\n", stripped of newlines, non-empty; at least one, as `re.split` gives."""
    lo, hi = start, end
    while lo < hi and is_space(code_point(data, lo)):
        lo += 1
        while lo < hi and (data[lo] & 0xC0) == 0x80:
            lo += 1
    while hi > lo:
        j = hi - 1
        while (data[j] & 0xC0) == 0x80:
            j -= 1
        if not is_space(code_point(data, j)):
            break
        hi = j
    paras = dup = dup_chars = 0
    piece = i = lo
    while i <= hi:
        if i == hi or (data[i] == _NEWLINE and i + 1 < hi and data[i + 1] == _NEWLINE):
            a, b = piece, i
            while a < b and data[a] == _NEWLINE:
                a += 1
            while b > a and data[b - 1] == _NEWLINE:
                b -= 1
            if b > a:
                paras += 1
                if find_slot(keys, stamp, gen, bits, _fnv(data, a, b))[1]:
                    dup += 1
                    dup_chars += _chars(data, a, b)
            i += 2
            piece = i
        else:
            i += 1
    return max(paras, 1), dup, dup_chars


@njit(cache=True, nogil=True)
def _repetition(
    offsets: np.ndarray,
    data: np.ndarray,
    first: np.ndarray,
    hashes: np.ndarray,
    chars: np.ndarray,
    max_n: int,
    unigrams: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the counts named by N_CHARS... and, per n up to max_n, the top n-gram's count
    times its characters with spaces (-1 below n tokens) and the characters in repeated n-grams.

    The top n-gram is the most frequent, the earliest first seen among equals. Repeated
    n-grams are covered in steps of n from the start of each run of consecutive positions
    that repeat an earlier n-gram. An n-gram can repeat only where its (n-1)-gram prefix
    does, so each n looks at fewer positions; unigrams are only counted if `unigrams`.
    """
    rows = len(offsets) - 1
    newlines = np.zeros(rows, np.int64)
    for r in range(rows):
        for i in range(offsets[r], offsets[r + 1]):
            newlines[r] += data[i] == _NEWLINE
    max_pieces = int(newlines.max()) + 1 if rows else 1
    max_tokens = int(np.max(np.diff(first))) if rows else 0
    size = 1 << table_bits(max(max_pieces, max_tokens))
    keys = np.empty(size, np.uint64)
    stamp = np.zeros(size, np.int64)
    counts = np.zeros(size, np.int64)
    firsts = np.zeros(size, np.int64)
    cum = np.zeros(max_tokens + 1, np.int64)
    rolled = np.empty(max_tokens, np.uint64)
    candidates = np.empty(max_tokens, np.int64)
    stats = np.zeros((rows, 7), np.int64)
    top = np.full((rows, max_n + 1), -1, np.int64)
    dup = np.zeros((rows, max_n + 1), np.int64)
    gen = 0
    for r in range(rows):
        bits = table_bits(newlines[r] + 1)
        gen += 1
        n_chars, lines, dup_lines, dup_line_chars = _lines(
            data, offsets[r], offsets[r + 1], keys, stamp, gen, bits
        )
        stats[r, N_CHARS], stats[r, LINES] = n_chars, lines
        stats[r, DUP_LINES], stats[r, DUP_LINE_CHARS] = dup_lines, dup_line_chars
        gen += 1
        row_paras = _paragraphs(data, offsets[r], offsets[r + 1], keys, stamp, gen, bits)
        stats[r, PARAS], stats[r, DUP_PARAS], stats[r, DUP_PARA_CHARS] = row_paras
        t0, t = first[r], first[r + 1] - first[r]
        for i in range(t):
            cum[i + 1] = cum[i] + chars[t0 + i]
            rolled[i] = hashes[t0 + i]
            candidates[i] = i
        m = t
        counted = False
        for ng in range(1, min(max_n, t) + 1):
            if ng > 1 and not counted:
                kept = 0
                for k in range(m):
                    i = candidates[k]
                    if i + ng <= t:
                        rolled[i] = rolled[i] * MULTIPLIER + hashes[t0 + i + ng - 1]
                        candidates[kept] = i
                        kept += 1
                m = kept
            counted = ng > 1 or unigrams
            if not counted:
                continue
            gen += 1
            bits = table_bits(m)
            best_count, best_first = 1, 0
            # Storing each position's slot in this loop made it three times slower (measured
            # on the web corpus), so the second pass below looks the slots up again.
            for k in range(m):
                i = candidates[k]
                slot, seen = find_slot(keys, stamp, gen, bits, rolled[i])
                if seen:
                    counts[slot] += 1
                    c, f = counts[slot], firsts[slot]
                    if c > best_count or (c == best_count and f < best_first):
                        best_count, best_first = c, f
                else:
                    counts[slot], firsts[slot] = 1, i
            top[r, ng] = best_count * (cum[best_first + ng] - cum[best_first] + ng - 1)
            # Cover runs of repeats, and keep for n + 1 the positions whose n-gram repeats.
            total = kept = 0
            run_start = previous = -2
            for k in range(m):
                i = candidates[k]
                slot = slot_of(keys, bits, rolled[i])
                if firsts[slot] != i:
                    if i != previous + 1:
                        run_start = i
                    previous = i
                    if (i - run_start) % ng == 0:
                        total += cum[i + ng] - cum[i]
                if counts[slot] > 1 and i + ng < t:
                    rolled[i] = rolled[i] * MULTIPLIER + hashes[t0 + i + ng]
                    candidates[kept] = i
                    kept += 1
            m = kept
            dup[r, ng] = total
    return stats, top, dup


def repetition(
    texts: pl.Series, tokens: Tokens, max_n: int, unigrams: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gopher repetition counts for a text column and its tokens (see `_repetition`)."""
    offsets, data = text_buffers(texts)
    return _repetition(offsets, data, tokens.first, tokens.hashes, tokens.chars, max_n, unigrams)
