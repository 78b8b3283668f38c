"""Text normalization: one canonical form so that later scores and hashes compare like with like."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from winnow.curate.steps.base import Step, first_reason, register

LINE_BREAKS = r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]"
CONTROL = r"[\p{Cc}--[\t\n]]|\x{FEFF}"
WIDE_SPACES = r"[\p{Zs}--[ ]]"
ENTITY = r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"


def unescape_entities(text: pl.Series) -> pl.Series:
    """Decode HTML entities, resolving each distinct entity of the shard once in Python.

    Named entities (all of HTML5) and decimal or hex numeric ones are decoded when they end
    with ';'. The scan and the replacement are vectorized (regex extract, Aho-Corasick
    replace); only the set of distinct entity strings goes through `html.unescape`, and the
    replacement is one pass, so '&amp;lt;' becomes '&lt;' exactly as `html.unescape` does.
    """
    found = text.str.extract_all(ENTITY).explode().drop_nulls().unique().to_list()
    mapping = {e: html.unescape(e) for e in found}
    mapping = {e: u for e, u in mapping.items() if u != e}
    if not mapping:
        return text
    return text.str.replace_many(mapping)


@register
@dataclass
class Normalize(Step):
    """Rewrite `text` into a canonical form and drop rows that end up empty.

    In order: HTML entities decoded (only with `html_unescape`), Unicode NFC, line breaks
    unified to '\\n', control characters other than '\\n' and '\\t' removed (and the BOM),
    other Unicode spaces turned into ' ', each run of spaces and tabs folded into its first
    character, lines stripped, more than `max_blank_lines` blank lines in a row cut to that
    many, the whole text stripped, and lower-cased with `lowercase`.
    Column: `normalize_changed` (bool). Reason: `empty_after_normalize`.
    """

    name: ClassVar[str] = "normalize"
    prefix: ClassVar[str] = "normalize_"
    html_unescape: bool = False
    lowercase: bool = False
    max_blank_lines: int = 2

    def __post_init__(self) -> None:
        """Reject a negative blank-line limit, which has no meaning."""
        if self.max_blank_lines < 0:
            raise ValueError(f"max_blank_lines must be 0 or more, got {self.max_blank_lines}")

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Rewrite `text` and record whether it changed."""
        text = df.get_column("text").fill_null("")
        if self.html_unescape:
            text = unescape_entities(text)
        keep = self.max_blank_lines + 1
        expr = (
            pl.col("text")
            .str.normalize("NFC")
            .str.replace_all(LINE_BREAKS, "\n")
            .str.replace_all(CONTROL, "")
            .str.replace_all(WIDE_SPACES, " ")
            .str.replace_all(r"([ \t])[ \t]+", "$1")
            .str.replace_all(r"(?m)^[ \t]+|[ \t]+$", "")
            .str.replace_all(f"\n{{{keep + 1},}}", "\n" * keep)
            .str.strip_chars()
        )
        if self.lowercase:
            expr = expr.str.to_lowercase()
        new = pl.DataFrame({"text": text}).select(expr).to_series()
        changed = (new != df.get_column("text")).fill_null(True).alias(self.col("changed"))
        return df.with_columns(new, changed)

    def reason(self) -> pl.Expr:
        """Drop rows with no text left."""
        return first_reason((pl.col("text").str.len_bytes() == 0, "empty_after_normalize"))
