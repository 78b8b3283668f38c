"""Text normalization: one canonical form so that later scores and hashes compare like with like,
without changing what a text means (indentation, code and Markdown survive it)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import ClassVar

import polars as pl

from winnow.curate.steps.base import Step, bounds, first_reason, register

LINE_BREAKS = r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]"
CONTROL = r"[\p{Cc}--[\t\n]]|[\x{FEFF}\x{200B}\x{2060}]"
"""Control characters other than tab and newline, the BOM, the zero-width space and the word
joiner: invisible and meaningless. The zero-width (non-)joiners, which shape emoji sequences
and Persian or Indic words, stay."""
WIDE_SPACES = r"[\p{Zs}--[ ]]"
BLANK_LINES = r"(?m)^[ \t]+$"
"""Lines holding only spaces and tabs: emptied, so they count as blank lines."""
TRAILING = r"( {2,}\n)|[ \t]+(\n|$)"
"""Spaces and tabs at the end of a line, except two or more spaces before a newline (which
Markdown renders as a hard line break): the first group keeps those, the second the newline."""
LEADING_BLANK_LINES = r"^(?:[ \t]*\n)+"
UNICODE_FORMS = ("NFC", "NFKC")


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


ENTITY = r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"


@register
@dataclass
class Normalize(Step):
    """Rewrite `text` into a canonical form that means the same, and drop rows left empty.

    In order: HTML entities decoded (only with `html_unescape`), Unicode `unicode_form` (NFC by
    default: canonically equivalent, so nothing a reader sees changes; NFKC also folds
    compatibility characters, e.g. 'x²' to 'x2' and full-width to ASCII, so it is opt-in; null
    skips it), line breaks unified to '\\n', control characters other than '\\n' and '\\t'
    removed with the BOM, zero-width space and word joiner, other Unicode spaces turned into
    ' ', whitespace-only lines emptied, spaces and tabs at line ends removed (except two or more
    spaces before a newline, Markdown's hard line break), more than `max_blank_lines` blank
    lines in a row cut to that many, blank lines at the start and whitespace at the end
    removed, and lower-cased with `lowercase`. Indentation and runs of spaces inside a line
    (code, YAML, nested lists, aligned tables) are never touched.
    Column: `normalize_changed` (bool). Reason: `empty_after_normalize`.
    """

    name: ClassVar[str] = "normalize"
    prefix: ClassVar[str] = "normalize_"
    version: ClassVar[int] = 2
    """2: indentation, runs of spaces and Markdown hard breaks kept; unicode_form added."""
    html_unescape: bool = False
    lowercase: bool = False
    max_blank_lines: int = field(default=2, metadata=bounds(0, None))
    unicode_form: str | None = "NFC"

    def __post_init__(self) -> None:
        """Reject a negative blank-line limit and an unknown Unicode form."""
        if self.max_blank_lines < 0:
            raise ValueError(f"max_blank_lines must be 0 or more, got {self.max_blank_lines}")
        if self.unicode_form is not None and self.unicode_form not in UNICODE_FORMS:
            raise ValueError(f"unicode_form must be NFC, NFKC or null, got {self.unicode_form!r}")

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Rewrite `text` and record whether it changed."""
        text = df.get_column("text").fill_null("")
        if self.html_unescape:
            text = unescape_entities(text)
        keep = self.max_blank_lines + 1
        expr = pl.col("text")
        if self.unicode_form is not None:
            expr = expr.str.normalize(self.unicode_form)  # type: ignore[arg-type]
        expr = (
            expr.str.replace_all(LINE_BREAKS, "\n")
            .str.replace_all(CONTROL, "")
            .str.replace_all(WIDE_SPACES, " ")
            .str.replace_all(BLANK_LINES, "")
            .str.replace_all(TRAILING, "${1}${2}")
            .str.replace_all(f"\n{{{keep + 1},}}", "\n" * keep)
            .str.replace(LEADING_BLANK_LINES, "")
            .str.strip_chars_end()
        )
        if self.lowercase:
            expr = expr.str.to_lowercase()
        new = pl.DataFrame({"text": text}).select(expr).to_series()
        changed = (new != df.get_column("text")).fill_null(True).alias(self.col("changed"))
        return df.with_columns(new, changed)

    def reason(self) -> pl.Expr:
        """Drop rows with no text left."""
        return first_reason((pl.col("text").str.len_bytes() == 0, "empty_after_normalize"))
