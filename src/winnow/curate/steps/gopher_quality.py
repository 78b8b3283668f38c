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
stand as their own eojeol, see text_stats.KOREAN_STOP_WORDS) and, as one stop word per
distinct particle, eojeol ending in one of `korean_particles` (text_stats.KOREAN_PARTICLES),
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

from winnow.curate.steps.base import Step, first_reason, register
from winnow.curate.steps.text_stats import (
    KOREAN_PARTICLES,
    KOREAN_STOP_WORDS,
    PUNCTUATION_SET,
    char_class,
    hangul_share,
    n_splitlines,
    normalized_lines,
    ratio,
    words_of,
)

ENGLISH_STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")
_SYMBOL_WORD = "^" + char_class(PUNCTUATION_SET) + "+$"


@register
@dataclass
class GopherQuality(Step):
    """Drop documents that fail Gopher's word, symbol, line and stop-word heuristics."""

    name: ClassVar[str] = "gopher_quality"
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

    def _particle_pattern(self) -> str:
        """Matches an eojeol of two or more Hangul syllables that ends in a particle."""
        particles = "|".join(sorted(self.korean_particles, key=len, reverse=True))
        return rf"^[\x{{AC00}}-\x{{D7A3}}]+?({particles})$"

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Measure words, symbols, lines and stop words; per-token tests run on one flat array."""
        p = "gopher_quality_"
        text = pl.col("text").fill_null("")
        share = df.select(hangul_share(text)).to_series()
        korean = (share >= self.korean_min_hangul_share).to_numpy()
        tokens = words_of(df["text"])
        n_tokens = tokens.list.len().fill_null(0).to_numpy()
        row = np.repeat(np.arange(df.height), n_tokens)
        flat = tokens.explode().drop_nulls()
        is_word = (~flat.str.contains(_SYMBOL_WORD)).to_numpy()
        lengths = flat.str.len_chars().to_numpy()
        alpha = flat.str.contains(r"\p{L}").to_numpy()
        # Stop words as (row, word) pairs: English words as they are in other rows; in Korean
        # rows the standalone words and "~" plus the particle an eojeol ends in.
        in_korean = korean[row]
        english = flat.filter(pl.Series(~in_korean))
        english_stop = english.is_in(list(self.stop_words)).to_numpy()
        hangul = flat.filter(pl.Series(in_korean))
        particle = (
            hangul.str.extract(self._particle_pattern(), 1)
            if self.korean_particles
            else pl.repeat(None, len(hangul), dtype=pl.Utf8, eager=True)
        )
        standalone = hangul.is_in(list(self.korean_stop_words))
        hangul_key = pl.select(pl.when(standalone).then(hangul).otherwise("~" + particle))
        hangul_key = hangul_key.to_series()
        stop_pairs = pl.DataFrame(
            {
                "row": np.concatenate(
                    (row[~in_korean][english_stop], row[in_korean][hangul_key.is_not_null()])
                ),
                "word": pl.concat((english.filter(english_stop), hangul_key.drop_nulls())),
            }
        )
        n_stop = np.bincount(stop_pairs.unique()["row"].to_numpy(), minlength=df.height)
        n_words = np.bincount(row, is_word, df.height)
        word_chars = np.bincount(row, np.where(is_word, lengths, 0), df.height)
        lines = normalized_lines(text)
        n_lines = n_splitlines(lines)
        n_tok = pl.lit(pl.Series(n_tokens))
        return df.with_columns(
            share.alias(f"{p}hangul_share"),
            pl.lit(pl.Series(n_words.astype(np.int64))).alias(f"{p}n_words"),
            n_tok.cast(pl.Int64).alias(f"{p}n_tokens"),
            ratio(pl.lit(pl.Series(word_chars)), pl.lit(pl.Series(n_words))).alias(
                f"{p}avg_word_length"
            ),
            ratio(text.str.count_matches("#", literal=True), n_tok).alias(f"{p}hash_ratio"),
            ratio(
                text.str.count_matches("...", literal=True)
                + text.str.count_matches("…", literal=True),
                n_tok,
            ).alias(f"{p}ellipsis_ratio"),
            ratio(lines.str.count_matches(r"(?m)^[^\S\n]*[•-]"), n_lines).alias(
                f"{p}bullet_lines_ratio"
            ),
            ratio(lines.str.count_matches(r"(?m)(?:\.\.\.|…)[^\S\n]*$"), n_lines).alias(
                f"{p}ellipsis_lines_ratio"
            ),
            ratio(pl.lit(pl.Series(np.bincount(row, alpha, df.height))), n_tok).alias(
                f"{p}alpha_words_ratio"
            ),
            pl.lit(pl.Series(n_stop.astype(np.int64))).alias(f"{p}n_stop_words"),
        )

    def reason(self) -> pl.Expr:
        """Apply the thresholds in datatrove's order; a threshold of None or 0 turns a rule off."""
        p = "gopher_quality_"
        korean = pl.col(f"{p}hangul_share") >= self.korean_min_hangul_share
        avg = pl.col(f"{p}avg_word_length")
        rules: list[tuple[pl.Expr, str]] = []
        if self.min_doc_words:
            rules.append((pl.col(f"{p}n_words") < self.min_doc_words, "gopher_short_doc"))
        if self.max_doc_words:
            rules.append((pl.col(f"{p}n_words") > self.max_doc_words, "gopher_long_doc"))
        low = _by_script(korean, self.korean_min_avg_word_length, self.min_avg_word_length)
        high = _by_script(korean, self.korean_max_avg_word_length, self.max_avg_word_length)
        rules.append((avg < low, "gopher_below_avg_threshold"))
        rules.append((avg > high, "gopher_above_avg_threshold"))
        if self.max_symbol_word_ratio:
            limit = self.max_symbol_word_ratio
            rules.append((pl.col(f"{p}hash_ratio") > limit, "gopher_too_many_hashes"))
            rules.append((pl.col(f"{p}ellipsis_ratio") > limit, "gopher_too_many_ellipsis"))
        if self.max_bullet_lines_ratio:
            limit = self.max_bullet_lines_ratio
            rules.append((pl.col(f"{p}bullet_lines_ratio") > limit, "gopher_too_many_bullets"))
        if self.max_ellipsis_lines_ratio:
            limit = self.max_ellipsis_lines_ratio
            rules.append(
                (pl.col(f"{p}ellipsis_lines_ratio") > limit, "gopher_too_many_end_ellipsis")
            )
        if self.max_non_alpha_words_ratio:
            limit = self.max_non_alpha_words_ratio
            rules.append((pl.col(f"{p}alpha_words_ratio") < limit, "gopher_below_alpha_threshold"))
        if self.min_stop_words:
            rules.append(
                (pl.col(f"{p}n_stop_words") < self.min_stop_words, "gopher_enough_stop_words")
            )
        return first_reason(*rules)


def _by_script(korean: pl.Expr, korean_value: float | None, value: float | None) -> pl.Expr:
    """The Korean bound for Korean rows and the general one otherwise; None or 0 means no bound."""
    return (
        pl.when(korean)
        .then(pl.lit(korean_value or None, dtype=pl.Float64))
        .otherwise(pl.lit(value or None, dtype=pl.Float64))
    )
