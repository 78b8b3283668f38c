"""Gopher quality rules (Rae et al. 2021, table A1), matching datatrove 0.10.1's filter.

Rules, in datatrove's order and with its reasons: too few / too many words
(`gopher_short_doc`, `gopher_long_doc`), mean word length out of range
(`gopher_below_avg_threshold`, `gopher_above_avg_threshold`), too many "#" or ellipses per
word (`gopher_too_many_hashes`, `gopher_too_many_ellipsis`), too many lines starting with a
bullet or ending with an ellipsis (`gopher_too_many_bullets`,
`gopher_too_many_end_ellipsis`), too few words with a letter
(`gopher_below_alpha_threshold`) and too few stop words (`gopher_enough_stop_words`).
"Words" count only tokens with a character outside datatrove's punctuation set; the
per-word ratios divide by all tokens, as datatrove does.

Korean: rows whose letters are mostly Hangul (`gopher_quality_hangul_share` at least
`korean_min_hangul_share`) count stop words from `korean_stop_words` (function words that
stand as their own eojeol, see stats.KOREAN_STOP_WORDS) and, as one stop word per
distinct particle, eojeol ending in one of `korean_particles` (stats.KOREAN_PARTICLES),
and use `korean_min_avg_word_length` / `korean_max_avg_word_length`, because a Korean word here is a
whole eojeol (stem plus particles) of about two to four syllables, so the English bounds of
3 to 10 characters would reject ordinary Korean prose. Hangul syllables are letters, so they
count as alphabetic for the alpha-word ratio.

Score columns (all numeric): `gopher_quality_n_words` (words with a non-punctuation
character), `gopher_quality_n_tokens`, `gopher_quality_avg_word_length`,
`gopher_quality_hash_ratio`, `gopher_quality_ellipsis_ratio`,
`gopher_quality_bullet_lines_ratio`, `gopher_quality_ellipsis_lines_ratio`,
`gopher_quality_alpha_words_ratio`, `gopher_quality_n_stop_words` (distinct stop words
present) and `gopher_quality_hangul_share`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import polars as pl
from numba import njit

from winnow.curate.steps.base import Step, first_reason, register
from winnow.curate.text.buffers import code_point, is_space, text_buffers
from winnow.curate.text.stats import (
    KOREAN_PARTICLES,
    KOREAN_STOP_WORDS,
    PUNCTUATION_SET,
    ratio,
    tokens_of,
)
from winnow.curate.text.tokens import (
    ALPHA,
    LETTER,
    WORD,
    char_classes,
    hash_bytes,
    hash_strings,
)

ENGLISH_STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")


@register
@dataclass
class GopherQuality(Step):
    """Drop documents that fail Gopher's word, symbol, line and stop-word heuristics."""

    name: ClassVar[str] = "gopher_quality"
    prefix: ClassVar[str] = "gopher_quality_"
    min_doc_words: int | None = 50
    max_doc_words: int | None = 100_000
    min_avg_word_length: float | None = 3
    max_avg_word_length: float | None = 10
    max_symbol_word_ratio: float | None = 0.1
    max_bullet_lines_ratio: float | None = 0.9
    max_ellipsis_lines_ratio: float | None = 0.3
    max_non_alpha_words_ratio: float | None = 0.8
    min_stop_words: int | None = 2
    stop_words: tuple[str, ...] = ENGLISH_STOP_WORDS
    korean_min_hangul_share: float = 0.5
    korean_min_avg_word_length: float | None = 1.5
    korean_max_avg_word_length: float | None = 8
    korean_stop_words: tuple[str, ...] = KOREAN_STOP_WORDS
    korean_particles: tuple[str, ...] = KOREAN_PARTICLES

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Measure characters and lines in one compiled pass, then words and stop words from
        the shard's tokens in another."""
        offsets, data = text_buffers(df["text"])
        chars = _char_stats(offsets, data, char_classes(PUNCTUATION_SET))
        hangul, letters = chars[:, _HANGUL], chars[:, _LETTERS]
        share = np.divide(hangul, letters, out=np.zeros(df.height), where=letters > 0)
        tokens = tokens_of(df["text"])
        words = _word_stats(
            tokens.first,
            tokens.starts,
            tokens.ends,
            tokens.hashes,
            tokens.chars,
            tokens.flags,
            tokens.data,
            share >= self.korean_min_hangul_share,
            hash_strings(self.stop_words),
            hash_strings(self.korean_stop_words),
            hash_strings(self.korean_particles),
            np.array([len(w.encode()) for w in self.korean_particles], dtype=np.int64),
        )
        n_tokens = pl.Series(tokens.counts)
        n_words = pl.Series(words[:, _WORDS])
        n_lines = pl.Series(chars[:, _LINES])
        return df.with_columns(
            pl.Series(self.col("hangul_share"), share),
            n_words.alias(self.col("n_words")),
            n_tokens.alias(self.col("n_tokens")),
            _ratio(words[:, _WORD_CHARS], n_words).alias(self.col("avg_word_length")),
            _ratio(chars[:, _HASHES], n_tokens).alias(self.col("hash_ratio")),
            _ratio(chars[:, _ELLIPSES], n_tokens).alias(self.col("ellipsis_ratio")),
            _ratio(chars[:, _BULLET_LINES], n_lines).alias(self.col("bullet_lines_ratio")),
            _ratio(chars[:, _ELLIPSIS_LINES], n_lines).alias(self.col("ellipsis_lines_ratio")),
            _ratio(words[:, _ALPHA_WORDS], n_tokens).alias(self.col("alpha_words_ratio")),
            pl.Series(self.col("n_stop_words"), words[:, _STOP_WORDS]),
        )

    def reason(self) -> pl.Expr:
        """Apply the thresholds in datatrove's order; a threshold of None or 0 turns a rule off."""
        korean = pl.col(self.col("hangul_share")) >= self.korean_min_hangul_share
        avg = pl.col(self.col("avg_word_length"))
        rules: list[tuple[pl.Expr, str]] = []
        if self.min_doc_words:
            rules.append((pl.col(self.col("n_words")) < self.min_doc_words, "gopher_short_doc"))
        if self.max_doc_words:
            rules.append((pl.col(self.col("n_words")) > self.max_doc_words, "gopher_long_doc"))
        low = _by_script(korean, self.korean_min_avg_word_length, self.min_avg_word_length)
        high = _by_script(korean, self.korean_max_avg_word_length, self.max_avg_word_length)
        rules.append((avg < low, "gopher_below_avg_threshold"))
        rules.append((avg > high, "gopher_above_avg_threshold"))
        if self.max_symbol_word_ratio:
            limit = self.max_symbol_word_ratio
            rules.append((pl.col(self.col("hash_ratio")) > limit, "gopher_too_many_hashes"))
            rules.append((pl.col(self.col("ellipsis_ratio")) > limit, "gopher_too_many_ellipsis"))
        if self.max_bullet_lines_ratio:
            limit = self.max_bullet_lines_ratio
            rules.append(
                (pl.col(self.col("bullet_lines_ratio")) > limit, "gopher_too_many_bullets")
            )
        if self.max_ellipsis_lines_ratio:
            limit = self.max_ellipsis_lines_ratio
            rules.append(
                (pl.col(self.col("ellipsis_lines_ratio")) > limit, "gopher_too_many_end_ellipsis")
            )
        if self.max_non_alpha_words_ratio:
            limit = self.max_non_alpha_words_ratio
            rules.append(
                (pl.col(self.col("alpha_words_ratio")) < limit, "gopher_below_alpha_threshold")
            )
        if self.min_stop_words:
            rules.append(
                (pl.col(self.col("n_stop_words")) < self.min_stop_words, "gopher_enough_stop_words")
            )
        return first_reason(*rules)


@njit(cache=True, nogil=True)
def _index_of(keys: np.ndarray, h: np.uint64) -> int:
    """Where h is among a few hashes, else -1."""
    for k in range(len(keys)):
        if keys[k] == h:
            return k
    return -1


@njit(cache=True, nogil=True)
def _particle(
    data: np.ndarray, start: int, end: int, particles: np.ndarray, lengths: np.ndarray
) -> int:
    """Which particle ends this token after one or more Hangul syllables, else -1: the
    longest such ending, as `^[가-힣]+?(particle)$` finds it."""
    split = start
    while split < end:
        c = code_point(data, split)
        if not 0xAC00 <= c <= 0xD7A3:
            return -1
        split += 3
        for k in range(len(particles)):
            if lengths[k] == end - split and particles[k] == hash_bytes(data, split, end):
                return k
    return -1


# Columns of `_word_stats` and `_char_stats`.
_WORDS, _WORD_CHARS, _ALPHA_WORDS, _STOP_WORDS = range(4)
_HASHES, _ELLIPSES, _LINES, _BULLET_LINES, _ELLIPSIS_LINES, _HANGUL, _LETTERS = range(7)


@njit(cache=True, nogil=True)
def _word_stats(
    first: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    hashes: np.ndarray,
    chars: np.ndarray,
    flags: np.ndarray,
    data: np.ndarray,
    korean: np.ndarray,
    english: np.ndarray,
    standalone: np.ndarray,
    particles: np.ndarray,
    lengths: np.ndarray,
) -> np.ndarray:
    """Per row: words (tokens with a non-punctuation character), their characters, tokens
    with a letter, and distinct stop words: English ones in other rows; in Korean rows the
    standalone words and, as one each, the particles that end an eojeol."""
    seen = np.full(len(english) + len(standalone) + len(particles), -1, np.int64)
    out = np.zeros((len(first) - 1, 4), np.int64)
    for r in range(len(first) - 1):
        for t in range(first[r], first[r + 1]):
            if flags[t] & WORD:
                out[r, _WORDS] += 1
                out[r, _WORD_CHARS] += chars[t]
            if flags[t] & ALPHA:
                out[r, _ALPHA_WORDS] += 1
            if not korean[r]:
                key = _index_of(english, hashes[t])
            else:
                key = _index_of(standalone, hashes[t])
                if key >= 0:
                    key += len(english)
                else:
                    key = _particle(data, starts[t], ends[t], particles, lengths)
                    key = key + len(english) + len(standalone) if key >= 0 else -1
            if key >= 0 and seen[key] != r:
                seen[key] = r
                out[r, _STOP_WORDS] += 1
    return out


@njit(cache=True, nogil=True)
def _is_break(c: int) -> bool:
    """Whether c ends a line for `str.splitlines` (CR LF counts once, see `_char_stats`)."""
    return (
        c == 10 or c == 13 or c == 11 or c == 12 or 0x1C <= c <= 0x1E or c == 0x85 or c == 0x2028
    ) or c == 0x2029


@njit(cache=True, nogil=True)
def _char_stats(offsets: np.ndarray, data: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Per row: "#" characters, ellipses ("..." runs counted in threes, and "…"), lines as
    `str.splitlines` gives them, lines whose first non-space character is a bullet ("•" or
    "-"), lines ending in an ellipsis and trailing spaces, Hangul characters and letters."""
    out = np.zeros((len(offsets) - 1, 7), np.int64)
    for r in range(len(offsets) - 1):
        i, end = offsets[r], offsets[r + 1]
        breaks = dots = 0
        leading = True  # still in the line's leading spaces
        ellipsis_end = False  # the line so far ends in an ellipsis and spaces
        while i < end:
            c = code_point(data, i)
            i += 1 if c < 0x80 else (2 if c < 0x800 else (3 if c < 0x10000 else 4))
            if _is_break(c):
                if c == 13 and i < end and data[i] == 10:
                    i += 1
                breaks += 1
                out[r, _ELLIPSIS_LINES] += ellipsis_end
                leading, ellipsis_end, dots = True, False, 0
                continue
            space = is_space(c)
            if leading and not space:
                leading = False
                out[r, _BULLET_LINES] += c == 0x2022 or c == 45
            if c == 46:
                dots += 1
                if dots % 3 == 0:
                    out[r, _ELLIPSES] += 1
                ellipsis_end = dots >= 3
            else:
                dots = 0
                if c == 0x2026:
                    out[r, _ELLIPSES] += 1
                    ellipsis_end = True
                elif not space:
                    ellipsis_end = False
            out[r, _HASHES] += c == 35
            out[r, _HANGUL] += (
                0xAC00 <= c <= 0xD7A3 or 0x1100 <= c <= 0x11FF or 0x3130 <= c <= 0x318F
            )
            out[r, _LETTERS] += c < 0x40000 and (table[c] & LETTER) > 0
        out[r, _ELLIPSIS_LINES] += ellipsis_end
        last_break = end > offsets[r] and _is_break(
            code_point(data, _last_char(data, offsets[r], end))
        )
        out[r, _LINES] = breaks + 1 - last_break - (end == offsets[r])
    return out


@njit(cache=True, nogil=True)
def _last_char(data: np.ndarray, start: int, end: int) -> int:
    """The byte where the last character of a non-empty span starts."""
    j = end - 1
    while j > start and (data[j] & 0xC0) == 0x80:
        j -= 1
    return j


def _ratio(numerator: np.ndarray, denominator: pl.Series) -> pl.Series:
    """numerator / denominator as a float Series, null where the denominator is zero."""
    return pl.select(ratio(pl.lit(pl.Series(numerator)), pl.lit(denominator))).to_series()


def _by_script(korean: pl.Expr, korean_value: float | None, value: float | None) -> pl.Expr:
    """The Korean bound for Korean rows and the general one otherwise; None or 0 means no bound."""
    return (
        pl.when(korean)
        .then(pl.lit(korean_value or None, dtype=pl.Float64))
        .otherwise(pl.lit(value or None, dtype=pl.Float64))
    )
