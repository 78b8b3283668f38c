"""Gopher repetition rules (Rae et al. 2021, table A1), matching datatrove 0.10.1's filter.

Rules, in datatrove's order and with its reasons: `empty`, duplicate paragraphs and their
characters (`dup_para_frac`, `dup_para_char_frac`), duplicate lines and their characters
(`dup_line_frac`, `dup_line_char_frac`), the most frequent word n-gram's characters
(`top_{n}_gram`, n = 2, 3, 4) and the characters covered by repeated n-grams
(`duplicated_{n}_n_grams`, n = 5 to 10), each as a share of the document's characters.

Every count is taken by one compiled pass over the shard (`repetition.repetition`): lines and
paragraphs straight from the text's UTF-8 bytes, n-grams from per-token hashes, compared by
64-bit hash within their row. datatrove counts repeated n-grams greedily, jumping n words
past each repeat; here each run of consecutive repeated positions is covered in steps of n
from its start, which gives the same count except when a repeat's only earlier copy lay
inside a stretch that the greedy scan jumped over.

Korean: every ratio is over characters, so the thresholds carry over, but the n-grams
depend on the word split (`tokenizer`): with `eojeol`, the fast split, a Korean word is a
whole eojeol; with `kiwi` it is one of Kiwi's morphemes, as datatrove counts Korean words
(needs `pip install 'winnow-llm[korean]'`). The split matters most on short texts, where
datatrove's top n-gram rule counts even an n-gram that occurs once: two eojeol are a larger
share of a one-line comment than two morphemes.

Score columns (fractions, numeric): `gopher_repetition_dup_para_frac`,
`gopher_repetition_dup_para_char_frac`, `gopher_repetition_dup_line_frac`,
`gopher_repetition_dup_line_char_frac`, `gopher_repetition_top_{n}_gram_frac`,
`gopher_repetition_dup_{n}_gram_frac`, plus `gopher_repetition_n_chars`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from winnow.curate.rules import Rule
from winnow.curate.steps.base import Step, first_reason, register
from winnow.curate.text import repetition
from winnow.curate.text.kiwi import require_kiwi
from winnow.curate.text.stats import Tokenizer, tokens_of


@register
@dataclass
class GopherRepetition(Step):
    """Drop documents dominated by repeated paragraphs, lines or word n-grams."""

    name: ClassVar[str] = "gopher_repetition"
    prefix: ClassVar[str] = "gopher_repetition_"
    dup_line_frac: float | None = 0.3
    dup_para_frac: float | None = 0.3
    dup_line_char_frac: float | None = 0.2
    dup_para_char_frac: float | None = 0.2
    top_n_grams: tuple[tuple[int, float], ...] = ((2, 0.2), (3, 0.18), (4, 0.16))
    dup_n_grams: tuple[tuple[int, float], ...] = (
        (5, 0.15),
        (6, 0.14),
        (7, 0.13),
        (8, 0.12),
        (9, 0.11),
        (10, 0.10),
    )
    tokenizer: Tokenizer = "eojeol"
    """The word split: `eojeol` (fast, a Korean word is an eojeol) or `kiwi` (Kiwi's
    morphemes, as datatrove counts Korean words; needs the `korean` extra)."""

    def __post_init__(self) -> None:
        """Fail at recipe load, not mid-run, when `tokenizer: kiwi` has no Kiwi installed."""
        if self.tokenizer == "kiwi":
            require_kiwi(f"step '{self.name}'")

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Measure paragraph, line and n-gram repetition for the whole shard at once."""
        top_ns = [n for n, _ in self.top_n_grams]
        dup_ns = [n for n, _ in self.dup_n_grams]
        tokens = tokens_of(df["text"], self.tokenizer)
        stats, top, dup = repetition.repetition(
            df["text"], tokens, max(top_ns + dup_ns, default=0), 1 in top_ns + dup_ns
        )
        n_chars = pl.Series(stats[:, repetition.N_CHARS]).cast(pl.UInt32)
        columns = {
            "n_chars": n_chars,
            "dup_para_frac": pl.Series(stats[:, repetition.DUP_PARAS] / stats[:, repetition.PARAS]),
            "dup_para_char_frac": pl.Series(stats[:, repetition.DUP_PARA_CHARS]) / n_chars,
            "dup_line_frac": pl.Series(stats[:, repetition.DUP_LINES] / stats[:, repetition.LINES]),
            "dup_line_char_frac": pl.Series(stats[:, repetition.DUP_LINE_CHARS]) / n_chars,
        }
        for n in range(1, top.shape[1]):
            if n in top_ns:
                top_n = pl.Series(top[:, n])
                columns[f"top_{n}_gram_frac"] = (top_n / n_chars).set(top_n < 0, None)
            if n in dup_ns:
                columns[f"dup_{n}_gram_frac"] = pl.Series(dup[:, n]) / n_chars
        return df.with_columns(v.alias(self.col(k)) for k, v in columns.items())

    def rules(self) -> tuple[Rule, ...]:
        """The thresholds in datatrove's order; None or 0 turns a paragraph or line rule off."""
        fractions = ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac")
        return (
            *(Rule(self.col(m), ">", getattr(self, m), m) for m in fractions if getattr(self, m)),
            *(
                Rule(self.col(f"top_{n}_gram_frac"), ">", f, f"top_{n}_gram")
                for n, f in self.top_n_grams
            ),
            *(
                Rule(self.col(f"dup_{n}_gram_frac"), ">", f, f"duplicated_{n}_n_grams")
                for n, f in self.dup_n_grams
            ),
        )

    def reason(self) -> pl.Expr:
        """An empty document first, then the rules."""
        return first_reason((pl.col(self.col("n_chars")) == 0, "empty"), *self.rules())
