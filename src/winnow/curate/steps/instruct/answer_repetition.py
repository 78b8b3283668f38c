"""Degenerate repetition in answers: a line, sentence or n-gram repeated to fill the output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from winnow.curate.steps.base import Step, first_reason, register
from winnow.curate.steps.instruct.fields import require_columns, text_field, without_code
from winnow.curate.text import repetition
from winnow.curate.text.stats import tokens_of
from winnow.errors import WinnowError

# Sentence ends become line breaks, so a repeated sentence counts as a repeated line.
SENTENCE_END = r"([.!?])[ \t]+|([。！？])"
# Whitespace-separated tokens holding Chinese or Japanese script, which are not words.
UNSPACED = r"\S*[\p{Han}\p{Hiragana}\p{Katakana}]\S*"


@register
@dataclass
class AnswerRepetition(Step):
    """Drop answers dominated by a repeated line or sentence or by repeated word n-grams.

    The output is scored by Winnow's Gopher repetition kernel after code blocks and inline
    code are removed (code repeats lines legitimately) and each sentence end is made a line
    break. Measured, as shares of the answer's characters: repeated lines and sentences
    (`dup_line_char_frac`), the most frequent `top_n`-gram (`top_ngram_frac`) and the words
    covered by `dup_n`-grams seen earlier in the answer (`dup_ngram_frac`). The n-gram rules
    judge only answers of at least `min_words` words (whitespace-separated tokens with a
    letter and no Chinese or Japanese script): short answers have too few n-grams, and text
    written without spaces has no word n-grams (the line and sentence rule still judges it).
    A max of None turns its rule off. Columns:
    `answer_repetition_{words,dup_line_char_frac,top_ngram_frac,dup_ngram_frac}`. Reason:
    `degenerate_repetition`.
    """

    name: ClassVar[str] = "answer_repetition"
    prefix: ClassVar[str] = "answer_repetition_"
    min_words: int = 20
    max_dup_line_char_frac: float | None = 0.3
    top_n: int = 3
    max_top_ngram_frac: float | None = 0.4
    dup_n: int = 8
    max_dup_ngram_frac: float | None = 0.4

    def __post_init__(self) -> None:
        """Check the n-gram sizes, the word minimum and the fractions at recipe load."""
        for key in ("min_words", "top_n", "dup_n"):
            value = getattr(self, key)
            low = 0 if key == "min_words" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise WinnowError(
                    f"answer_repetition: {key} must be a whole number >= {low}, not {value!r}."
                )
        for key in ("max_dup_line_char_frac", "max_top_ngram_frac", "max_dup_ngram_frac"):
            value = getattr(self, key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
                raise WinnowError(
                    f"answer_repetition: {key} must be a fraction in (0, 1] or null, not {value!r}."
                )

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Measure repetition of every answer of the shard in one compiled pass."""
        require_columns(self.name, df, ("output",))
        answers = df.select(
            without_code(text_field("output"))
            .str.replace_all(SENTENCE_END, "${1}${2}\n")
            .alias("a")
        ).to_series()
        tokens = tokens_of(answers)
        stats, top, dup = repetition.repetition(answers, tokens, max(self.top_n, self.dup_n), False)
        n_chars = pl.Series(stats[:, repetition.N_CHARS]).cast(pl.Float64)
        top_n = pl.Series(top[:, self.top_n]).cast(pl.Float64)
        words = answers.str.count_matches(r"\S*\p{L}\S*") - answers.str.count_matches(UNSPACED)
        return df.with_columns(
            words.cast(pl.Int64).alias(self.col("words")),
            (pl.Series(stats[:, repetition.DUP_LINE_CHARS]) / n_chars).alias(
                self.col("dup_line_char_frac")
            ),
            (top_n / n_chars).set(top_n < 0, None).alias(self.col("top_ngram_frac")),
            (pl.Series(dup[:, self.dup_n]) / n_chars).alias(self.col("dup_ngram_frac")),
        )

    def reason(self) -> pl.Expr:
        """Drop answers over the line limit, or judged answers over an n-gram limit."""
        over = pl.lit(False)
        if self.max_dup_line_char_frac is not None:
            over = pl.col(self.col("dup_line_char_frac")) > self.max_dup_line_char_frac
        judged = pl.col(self.col("words")) >= self.min_words
        for metric, limit in (
            ("top_ngram_frac", self.max_top_ngram_frac),
            ("dup_ngram_frac", self.max_dup_ngram_frac),
        ):
            if limit is not None:
                over = over | (judged & (pl.col(self.col(metric)) > limit))
        return first_reason((over.fill_null(False), "degenerate_repetition"))
