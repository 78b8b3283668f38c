"""FineWeb quality rules (Penedo et al. 2024), matching datatrove 0.10.1's filter.

Rules, in datatrove's order and with its reasons, over the non-blank lines: `empty` (no
such line), too few lines ending in terminal punctuation (`line_punct_ratio`), too many
short lines (`short_line_ratio`), too many characters in repeated lines (`char_dup_ratio`,
over the characters outside newlines) and too many newlines per word (`list_ratio`).

Korean needs no separate rule: datatrove's terminal punctuation already holds the marks
Korean prose ends with (".", "?", "!") and line lengths are in characters. Words (for
`list_ratio` only) come from the split `tokenizer` names: `eojeol`, the fast split, or
`kiwi`, Kiwi's morphemes as datatrove counts Korean words (needs
`pip install 'winnow-llm[korean]'`); a Korean list page scores like an English one either way.

Score columns (numeric): `fineweb_n_lines` (non-blank lines), `fineweb_line_punct_ratio`,
`fineweb_short_line_ratio`, `fineweb_char_dup_ratio`, `fineweb_list_ratio`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import polars as pl

from winnow.curate.rules import Rule
from winnow.curate.steps.base import Step, first_reason, register
from winnow.curate.text.kiwi import require_kiwi
from winnow.curate.text.stats import (
    TERMINAL_PUNCTUATION,
    Tokenizer,
    char_class,
    duplicate_stats,
    flat_pieces,
    ratio,
    tokens_of,
)


@register
@dataclass
class FineWebQuality(Step):
    """Drop documents with few punctuated lines, many short or repeated lines, or list layout."""

    name: ClassVar[str] = "fineweb"
    prefix: ClassVar[str] = "fineweb_"
    line_punct_thr: float = 0.12
    line_punct_exclude_zero: bool = False
    stop_chars: tuple[str, ...] | None = None
    short_line_thr: float = 0.67
    short_line_length: int = 30
    char_duplicates_ratio: float = 0.01
    new_line_ratio: float = 0.3
    tokenizer: Tokenizer = "eojeol"
    """The word split: `eojeol` (fast, a Korean word is an eojeol) or `kiwi` (Kiwi's
    morphemes, as datatrove counts Korean words; needs the `korean` extra)."""

    def __post_init__(self) -> None:
        """Fail at recipe load, not mid-run, when `tokenizer: kiwi` has no Kiwi installed."""
        if self.tokenizer == "kiwi":
            require_kiwi(f"step '{self.name}'")

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Measure line endings, line lengths, repeated lines and newlines per word."""
        stops = TERMINAL_PUNCTUATION if self.stop_chars is None else tuple(self.stop_chars)
        text = pl.col("text").fill_null("")
        split = df.select(text.str.split("\n")).to_series()
        flat, row = flat_pieces(split, pl.col("x").str.contains(r"\S"))
        punct = flat.str.contains(char_class(stops) + "$").to_numpy()
        short = (flat.str.len_chars() <= self.short_line_length).to_numpy()
        n_lines = pl.Series(np.bincount(row, minlength=df.height), dtype=pl.Int64)
        dups = duplicate_stats(flat, row, df.height)
        newlines = text.str.count_matches("\n", literal=True)
        words = tokens_of(df["text"], self.tokenizer).counts
        return df.with_columns(
            n_lines.alias(self.col("n_lines")),
            ratio(pl.lit(np.bincount(row, punct, df.height)), n_lines).alias(
                self.col("line_punct_ratio")
            ),
            ratio(pl.lit(np.bincount(row, short, df.height)), n_lines).alias(
                self.col("short_line_ratio")
            ),
            ratio(pl.lit(dups["dup_chars"]), text.str.len_chars() - newlines).alias(
                self.col("char_dup_ratio")
            ),
            ratio(newlines, pl.lit(words)).alias(self.col("list_ratio")),
        )

    def rules(self) -> tuple[Rule, ...]:
        """The thresholds in datatrove's order."""
        return (
            Rule(self.col("line_punct_ratio"), "<", self.line_punct_thr, "line_punct_ratio"),
            Rule(self.col("short_line_ratio"), ">", self.short_line_thr, "short_line_ratio"),
            Rule(self.col("char_dup_ratio"), ">", self.char_duplicates_ratio, "char_dup_ratio"),
            Rule(self.col("list_ratio"), ">", self.new_line_ratio, "list_ratio"),
        )

    def reason(self) -> pl.Expr:
        """An empty document first, then the rules; with `line_punct_exclude_zero` a document
        with no punctuated line passes the punctuation rule."""
        punct, *others = self.rules()
        low_punct = punct.expr()
        if self.line_punct_exclude_zero:
            low_punct = low_punct & (pl.col(punct.column) != 0)
        return first_reason(
            (pl.col(self.col("n_lines")) == 0, "empty"), (low_punct, punct.reason), *others
        )
