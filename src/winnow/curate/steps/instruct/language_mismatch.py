"""Instruction and answer written in different languages, judged by py3langid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from winnow.curate.steps.base import Step, first_reason, register
from winnow.curate.steps.instruct.fields import require_columns, text_field, without_code
from winnow.curate.steps.language import identify_py3langid
from winnow.errors import WinnowError


def identify(texts: pl.Series, min_letters: int) -> tuple[pl.Series, pl.Series]:
    """Language and probability of each text with at least `min_letters` letters, else null."""
    flat = texts.str.replace_all(r"\s+", " ").str.strip_chars().str.slice(0, 2000)
    letters = flat.str.count_matches(r"\p{L}")
    enough = (letters >= max(min_letters, 1)).fill_null(False)
    langs, scores = identify_py3langid(flat.filter(enough).to_list())
    index = enough.arg_true()
    lang = pl.Series([None] * len(texts), dtype=pl.Utf8).scatter(index, langs)
    score = pl.Series([None] * len(texts), dtype=pl.Float64).scatter(index, scores)
    return lang, score


@register
@dataclass
class LanguageMismatch(Step):
    """Drop rows whose instruction and output are confidently in different languages.

    Both sides are identified with py3langid (the `language` step's model) after fenced and
    inline code are removed; a side with fewer than `min_letters` letters (short answers,
    numbers, code) gets no language and is never flagged, nor is a pair where either
    probability is below `min_score`. Instructions matching `exempt_pattern` (translation
    requests, by default) are never flagged. The instruction is judged without `input`, which
    may be a passage in another language. Columns: `language_mismatch_{instruction,output}` and
    `language_mismatch_{instruction,output}_score` (null when not identified). Reason:
    `language_mismatch`.
    """

    name: ClassVar[str] = "language_mismatch"
    prefix: ClassVar[str] = "language_mismatch_"
    min_score: float = 0.9
    min_letters: int = 20
    exempt_pattern: str | None = r"(?i)translat|traduc|übersetz|번역|翻译|翻譯|翻訳"

    def __post_init__(self) -> None:
        """Check the threshold, the length and the pattern at recipe load."""
        if isinstance(self.min_score, bool) or not isinstance(self.min_score, (int, float)):
            raise WinnowError(
                f"language_mismatch: min_score must be a number, not {self.min_score!r}."
            )
        if not 0.0 <= self.min_score <= 1.0:
            raise WinnowError(
                f"language_mismatch: min_score must be between 0 and 1, not {self.min_score}."
            )
        if isinstance(self.min_letters, bool) or not isinstance(self.min_letters, int):
            raise WinnowError(
                f"language_mismatch: min_letters must be a whole number, not {self.min_letters!r}."
            )
        if self.min_letters < 1:
            raise WinnowError(
                f"language_mismatch: min_letters must be >= 1, not {self.min_letters}."
            )
        if self.exempt_pattern is not None:
            try:
                pl.select(pl.lit("").str.contains(self.exempt_pattern))
            except pl.exceptions.ComputeError as exc:
                raise WinnowError(
                    f"language_mismatch: exempt_pattern {self.exempt_pattern!r} is not a valid "
                    f"regular expression ({str(exc).splitlines()[0]})."
                ) from exc

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Identify the language of the instruction and of the output, code removed."""
        require_columns(self.name, df, ("instruction", "output"))
        sides = df.select(
            without_code(text_field("instruction")).alias("instruction"),
            without_code(text_field("output")).alias("output"),
        )
        columns = []
        for side in ("instruction", "output"):
            lang, score = identify(sides[side], self.min_letters)
            columns += [lang.alias(self.col(side)), score.alias(self.col(f"{side}_score"))]
        return df.with_columns(columns)

    def reason(self) -> pl.Expr:
        """Drop confidently identified pairs of different languages that are not exempt."""
        confident = (pl.col(self.col("instruction_score")) >= self.min_score) & (
            pl.col(self.col("output_score")) >= self.min_score
        )
        differ = pl.col(self.col("instruction")) != pl.col(self.col("output"))
        if self.exempt_pattern is not None:
            differ = differ & ~text_field("instruction").str.contains(self.exempt_pattern)
        flagged = (confident & differ).fill_null(False)
        return first_reason((flagged, "language_mismatch"))
