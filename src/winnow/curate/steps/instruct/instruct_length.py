"""Length bounds on instructions and answers, in characters and in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from winnow.curate.steps.base import Step, first_reason, register
from winnow.curate.steps.instruct.fields import require_columns, text_field
from winnow.errors import WinnowError

# Hangul syllables without a final consonant (U+AC00 + 28k): each is written with 2 jamo, the
# others with 3, so a syllable counts as the letters an alphabetic script would spell it with.
OPEN_SYLLABLES = "[" + "".join(chr(0xAC00 + 28 * k) for k in range(399)) + "]"


def letter_count(text: pl.Expr) -> pl.Expr:
    """Unicode characters, with each Hangul syllable counted as its 2 or 3 jamo."""
    syllables = text.str.count_matches("[가-힣]")
    open_syllables = text.str.count_matches(OPEN_SYLLABLES)
    return text.str.len_chars() + 2 * syllables - open_syllables


@register
@dataclass
class InstructLength(Step):
    """Drop rows whose instruction or output is shorter or longer than the bounds.

    Characters are Unicode characters of the stripped field, except that a Hangul syllable
    counts as the 2 or 3 jamo it is written with, so one bound suits Korean and alphabetic
    text ("결혼할까", a whole question, is 11 characters, not 4); words are runs of letters and
    digits, so a run of Chinese characters counts as one word (bound Chinese and Japanese by
    characters). Only `instruction` and `output` are measured, not `input`. A max of None is
    no bound. Columns: `instruct_length_{instruction,output}_{chars,words}`. Reasons, checked
    in this order: `instruction_too_short`, `instruction_too_long`, `output_too_short`,
    `output_too_long`.
    """

    name: ClassVar[str] = "instruct_length"
    prefix: ClassVar[str] = "instruct_length_"
    version: ClassVar[int] = 2
    min_instruction_chars: int = 5
    max_instruction_chars: int | None = None
    min_instruction_words: int = 1
    max_instruction_words: int | None = None
    min_output_chars: int = 1
    max_output_chars: int | None = None
    min_output_words: int = 0
    max_output_words: int | None = None

    def __post_init__(self) -> None:
        """Check each bound is a whole number and each min is at most its max."""
        for part in ("instruction", "output"):
            for unit in ("chars", "words"):
                low = getattr(self, f"min_{part}_{unit}")
                high = getattr(self, f"max_{part}_{unit}")
                for key, value in ((f"min_{part}_{unit}", low), (f"max_{part}_{unit}", high)):
                    if value is None and key.startswith("max"):
                        continue
                    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                        raise WinnowError(
                            f"instruct_length: {key} must be a whole number >= 0, not {value!r}."
                        )
                if high is not None and low > high:
                    raise WinnowError(
                        f"instruct_length: min_{part}_{unit} ({low}) is above max_{part}_{unit} "
                        f"({high}); lower the min or raise the max."
                    )

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Count characters and words of the stripped instruction and output."""
        require_columns(self.name, df, ("instruction", "output"))
        columns = []
        for part in ("instruction", "output"):
            text = text_field(part).str.strip_chars()
            columns.append(letter_count(text).cast(pl.Int64).alias(self.col(f"{part}_chars")))
            words = text.str.count_matches(r"[\p{L}\p{N}\p{M}]+").cast(pl.Int64)
            columns.append(words.alias(self.col(f"{part}_words")))
        return df.with_columns(columns)

    def reason(self) -> pl.Expr:
        """Check the instruction's bounds first, then the output's, minimums before maximums."""
        rules: list[tuple[pl.Expr, str]] = []
        for part in ("instruction", "output"):
            for unit in ("chars", "words"):
                low = getattr(self, f"min_{part}_{unit}")
                if low:
                    rules.append((pl.col(self.col(f"{part}_{unit}")) < low, f"{part}_too_short"))
            for unit in ("chars", "words"):
                high = getattr(self, f"max_{part}_{unit}")
                if high is not None:
                    rules.append((pl.col(self.col(f"{part}_{unit}")) > high, f"{part}_too_long"))
        return first_reason(*rules)
