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
`korean_min_hangul_share`) have their own bounds and stop words, because a Korean word is
not an English one. `tokenizer` picks the word split (the same option as on
gopher_repetition and fineweb): `eojeol`, the fast split, where a Korean word is a whole
eojeol (stem plus particles, about 2.3 morphemes), or `kiwi`, Kiwi's morphemes, as datatrove
and fineweb-2 count Korean words (needs `pip install 'winnow-llm[korean]'`). The Korean
bounds left null follow the split: `korean_min_doc_words` 22 eojeol or 50 morphemes (the 50
words of Gopher as fineweb-2 counts them in Kiwi morphemes, 2.25 to an eojeol in the
constitution and KLUE), average word length 1.5 to 8 characters per eojeol or fineweb-2's
1 to 6 per morpheme; 0 turns one off. Stop words (see text/korean.py) are the function
eojeol of `korean_stop_words` for the eojeol split and the morphemes Kiwi tags with one of
`korean_stop_tags` (particles, endings, copula...) for kiwi, never a syllable an eojeol
happens to end in, so a bare list of nouns fails `gopher_enough_stop_words`.

The alpha-word ratio of a Hangul row is taken over the tokens that hold a letter or a
decimal digit: punctuation and symbols (the ①②, ∼, ·, 「」 and table rules of formal and
legal text) are layout, not words, so they no longer pull a real document below the
threshold, while a table of numbers still fails. Other rows divide by all tokens, as
datatrove does.

Score columns (all numeric): `gopher_quality_n_words` (words with a non-punctuation
character), `gopher_quality_n_tokens`, `gopher_quality_avg_word_length`,
`gopher_quality_hash_ratio`, `gopher_quality_ellipsis_ratio`,
`gopher_quality_bullet_lines_ratio`, `gopher_quality_ellipsis_lines_ratio`,
`gopher_quality_alpha_words_ratio`, `gopher_quality_n_stop_words` (distinct stop words
present) and `gopher_quality_hangul_share`.

Version 2: the Korean stop words, alpha-word ratio and `korean_min_doc_words` above (1
counted any eojeol ending in a particle's syllable as a stop word and divided by every token).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import polars as pl
from numba import njit

from winnow.curate.rules import Either, Rule
from winnow.curate.steps.base import Step, bounds, first_reason, register
from winnow.curate.text.buffers import code_point, is_space, text_buffers
from winnow.curate.text.kiwi import TAGS, require_kiwi, tag_ids
from winnow.curate.text.korean import KIWI_STOP_TAGS, KOREAN_STOP_WORDS
from winnow.curate.text.stats import PUNCTUATION_SET, Tokenizer, ratio, tokens_of
from winnow.curate.text.tokens import (
    ALPHA,
    LETTER,
    NUMERAL,
    WORD,
    Tokens,
    char_classes,
    hash_strings,
)

ENGLISH_STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")
# Korean rows' bounds for each split when left null: min doc words, min and max average length.
KOREAN_BOUNDS: dict[str, tuple[int, float, float]] = {"eojeol": (22, 1.5, 8), "kiwi": (50, 1, 6)}
_ROW_SPREAD = np.uint64(0x9E3779B97F4A7C15)


@register
@dataclass
class GopherQuality(Step):
    """Drop documents that fail Gopher's word, symbol, line and stop-word heuristics."""

    name: ClassVar[str] = "gopher_quality"
    prefix: ClassVar[str] = "gopher_quality_"
    version: ClassVar[int] = 2
    """2: Korean stop words from whole function words or Kiwi tags, the Hangul alpha ratio
    over letter and digit tokens, `korean_min_doc_words` (see the module docstring)."""
    min_doc_words: int | None = 50
    max_doc_words: int | None = 100_000
    min_avg_word_length: float | None = 3
    max_avg_word_length: float | None = 10
    max_symbol_word_ratio: float | None = 0.1
    max_bullet_lines_ratio: float | None = 0.9
    max_ellipsis_lines_ratio: float | None = 0.3
    max_non_alpha_words_ratio: float | None = field(default=0.8, metadata=bounds(0, 1))
    min_stop_words: int | None = 2
    stop_words: tuple[str, ...] = ENGLISH_STOP_WORDS
    tokenizer: Tokenizer = "eojeol"
    """The word split: `eojeol` (fast, a Korean word is an eojeol) or `kiwi` (Kiwi's
    morphemes, as datatrove counts Korean words; needs the `korean` extra)."""
    korean_min_hangul_share: float = field(default=0.5, metadata=bounds(0, 1))
    korean_min_doc_words: int | None = None
    """Fewest words in a Hangul row; null: 22 with eojeol, 50 with kiwi; 0: no bound."""
    korean_min_avg_word_length: float | None = None
    """Hangul rows' least mean word length; null: 1.5 with eojeol, 1 with kiwi; 0: none."""
    korean_max_avg_word_length: float | None = None
    """Hangul rows' greatest mean word length; null: 8 with eojeol, 6 with kiwi; 0: none."""
    korean_stop_words: tuple[str, ...] = KOREAN_STOP_WORDS
    """Whole eojeol that count as stop words in Hangul rows with the eojeol split."""
    korean_stop_tags: tuple[str, ...] = KIWI_STOP_TAGS
    """Kiwi tags whose morphemes count as stop words in Hangul rows with the kiwi split."""

    def __post_init__(self) -> None:
        """Check that Kiwi is installed when asked for, and fill the Korean bounds left null."""
        if self.tokenizer == "kiwi":
            require_kiwi(f"step '{self.name}'")
        words, low, high = KOREAN_BOUNDS[self.tokenizer]
        if self.korean_min_doc_words is None:
            self.korean_min_doc_words = words
        if self.korean_min_avg_word_length is None:
            self.korean_min_avg_word_length = low
        if self.korean_max_avg_word_length is None:
            self.korean_max_avg_word_length = high

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Measure characters and lines in one compiled pass, then words and stop words from
        the shard's tokens in another."""
        offsets, data = text_buffers(df["text"])
        chars = _char_stats(offsets, data, char_classes(PUNCTUATION_SET))
        hangul, letters = chars[:, _HANGUL], chars[:, _LETTERS]
        share = np.divide(hangul, letters, out=np.zeros(df.height), where=letters > 0)
        korean = share >= self.korean_min_hangul_share
        tokens = tokens_of(df["text"], self.tokenizer)
        kiwi = self.tokenizer == "kiwi"
        words = _word_stats(
            tokens.first,
            tokens.hashes,
            tokens.chars,
            tokens.flags,
            korean,
            hash_strings(self.stop_words),
            hash_strings(() if kiwi else self.korean_stop_words),
        )
        stop_words = words[:, _STOP_WORDS]
        if kiwi:
            stop_words = stop_words + _tagged_stop_words(tokens, korean, self.korean_stop_tags)
        n_tokens = pl.Series(tokens.counts)
        n_words = pl.Series(words[:, _WORDS])
        n_lines = pl.Series(chars[:, _LINES])
        alpha_base = np.where(korean, words[:, _LETTER_OR_DIGIT_WORDS], tokens.counts)
        return df.with_columns(
            pl.Series(self.col("hangul_share"), share),
            n_words.alias(self.col("n_words")),
            n_tokens.alias(self.col("n_tokens")),
            _ratio(words[:, _WORD_CHARS], n_words).alias(self.col("avg_word_length")),
            _ratio(chars[:, _HASHES], n_tokens).alias(self.col("hash_ratio")),
            _ratio(chars[:, _ELLIPSES], n_tokens).alias(self.col("ellipsis_ratio")),
            _ratio(chars[:, _BULLET_LINES], n_lines).alias(self.col("bullet_lines_ratio")),
            _ratio(chars[:, _ELLIPSIS_LINES], n_lines).alias(self.col("ellipsis_lines_ratio")),
            _ratio(words[:, _ALPHA_WORDS], pl.Series(alpha_base)).alias(
                self.col("alpha_words_ratio")
            ),
            pl.Series(self.col("n_stop_words"), stop_words),
        )

    def rules(self) -> tuple[Rule, ...]:
        """The thresholds in datatrove's order, Hangul rows' own bounds where they have them;
        None or 0 turns a rule off."""
        korean = Rule(self.col("hangul_share"), ">=", self.korean_min_hangul_share)

        def by_script(korean_value: float | None, value: float | None) -> Either:
            """The Korean bound for Korean rows and the general one otherwise."""
            return Either(korean, korean_value or None, value or None)

        words, avg = self.col("n_words"), self.col("avg_word_length")
        fewest = by_script(self.korean_min_doc_words, self.min_doc_words)
        low = by_script(self.korean_min_avg_word_length, self.min_avg_word_length)
        high = by_script(self.korean_max_avg_word_length, self.max_avg_word_length)
        symbols, bullets = self.max_symbol_word_ratio, self.max_bullet_lines_ratio
        end_ellipses, alpha = self.max_ellipsis_lines_ratio, self.max_non_alpha_words_ratio
        rules = (
            Rule(words, "<", fewest, "gopher_short_doc"),
            Rule(words, ">", self.max_doc_words, "gopher_long_doc"),
            Rule(avg, "<", low, "gopher_below_avg_threshold"),
            Rule(avg, ">", high, "gopher_above_avg_threshold"),
            Rule(self.col("hash_ratio"), ">", symbols, "gopher_too_many_hashes"),
            Rule(self.col("ellipsis_ratio"), ">", symbols, "gopher_too_many_ellipsis"),
            Rule(self.col("bullet_lines_ratio"), ">", bullets, "gopher_too_many_bullets"),
            Rule(
                self.col("ellipsis_lines_ratio"), ">", end_ellipses, "gopher_too_many_end_ellipsis"
            ),
            Rule(self.col("alpha_words_ratio"), "<", alpha, "gopher_below_alpha_threshold"),
            Rule(self.col("n_stop_words"), "<", self.min_stop_words, "gopher_enough_stop_words"),
        )
        return tuple(rule for rule in rules if rule.limit)

    def reason(self) -> pl.Expr:
        """The first rule a row breaks."""
        return first_reason(*self.rules())


@njit(cache=True, nogil=True)
def _index_of(keys: np.ndarray, h: np.uint64) -> int:
    """Where h is among a few hashes, else -1."""
    for k in range(len(keys)):
        if keys[k] == h:
            return k
    return -1


# Columns of `_word_stats` and `_char_stats`.
_WORDS, _WORD_CHARS, _ALPHA_WORDS, _LETTER_OR_DIGIT_WORDS, _STOP_WORDS = range(5)
_HASHES, _ELLIPSES, _LINES, _BULLET_LINES, _ELLIPSIS_LINES, _HANGUL, _LETTERS = range(7)


@njit(cache=True, nogil=True)
def _word_stats(
    first: np.ndarray,
    hashes: np.ndarray,
    chars: np.ndarray,
    flags: np.ndarray,
    korean: np.ndarray,
    english: np.ndarray,
    standalone: np.ndarray,
) -> np.ndarray:
    """Per row: words (tokens with a non-punctuation character), their characters, tokens
    with a letter, tokens with a letter or a decimal digit, and distinct listed stop words
    (English ones in other rows, the Korean ones in Korean rows)."""
    seen = np.full(len(english) + len(standalone), -1, np.int64)
    out = np.zeros((len(first) - 1, 5), np.int64)
    for r in range(len(first) - 1):
        for t in range(first[r], first[r + 1]):
            if flags[t] & WORD:
                out[r, _WORDS] += 1
                out[r, _WORD_CHARS] += chars[t]
            if flags[t] & ALPHA:
                out[r, _ALPHA_WORDS] += 1
            if flags[t] & (ALPHA | NUMERAL):
                out[r, _LETTER_OR_DIGIT_WORDS] += 1
            if korean[r]:
                key = _index_of(standalone, hashes[t])
                key = key + len(english) if key >= 0 else -1
            else:
                key = _index_of(english, hashes[t])
            if key >= 0 and seen[key] != r:
                seen[key] = r
                out[r, _STOP_WORDS] += 1
    return out


def _tagged_stop_words(
    tokens: Tokens, korean: np.ndarray, stop_tags: tuple[str, ...]
) -> np.ndarray:
    """Per row, the distinct morphemes (by surface) of Korean rows that Kiwi tagged with one
    of `stop_tags`."""
    counts = np.diff(tokens.first)
    row = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    wanted = np.zeros(len(TAGS), dtype=bool)
    ids = tag_ids(stop_tags)
    wanted[ids[ids >= 0]] = True
    keep = wanted[tokens.tags] & korean[row]
    keys = tokens.hashes[keep] ^ (row[keep].astype(np.uint64) * _ROW_SPREAD)
    distinct = row[keep][np.unique(keys, return_index=True)[1]]
    return np.bincount(distinct, minlength=len(counts)).astype(np.int64)


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
