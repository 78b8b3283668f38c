"""Unfilled template markers in instruction rows: `{{name}}`, `<noinput>`, "[Insert ...]"."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import polars as pl

from winnow.curate.steps.base import Step, first_reason, register
from winnow.curate.steps.instruct.fields import (
    check_fields,
    require_columns,
    text_field,
    without_code,
)
from winnow.errors import WinnowError

# Searched case-insensitively after code blocks and inline code are removed. A lone {word}
# needs 3+ ASCII identifier characters at the start or after a space, quote or bracket (Python
# format), which leaves LaTeX (\frac{a}{b}, x^{2}) and one- or two-letter set braces alone.
SINGLE_BRACE = r"(?i)(?:^|[\s(\[\"'])(\{[A-Za-z_][A-Za-z0-9_]{2,}\})"
MARKERS = (
    r"(?i)\{\{\s*[\p{L}_][\p{L}\p{N}_.]*\s*\}\}"
    r"|<\s*no\s*(?:input|output)\s*>"
    r"|\[(?:insert|enter|add|fill\s+in)\b[^\]\n]{0,60}\]"
    r"|lorem\s+ipsum"
)
# Letter and e-mail answers leave these for the reader to fill; flagged only on request.
LETTER = r"(?i)\[(?:your|recipient'?s?|company|last|first|full)\b[^\]\n]{0,40}\]|\[name\]"


@register
@dataclass
class TemplateLeftovers(Step):
    """Drop rows where an unfilled template marker survives in the instruction or answer.

    Code blocks (``` fences) and inline `code` spans are removed first, since code answers
    legitimately hold braces; what remains is searched for `{{word}}`, a lone `{word}` of 3 or
    more ASCII identifier characters after a space, quote or bracket (so LaTeX `\\frac{a}{b}` and
    `x^{2}` pass), `<noinput>`, `[Insert ...]`, `[Add ...]`, `[Enter ...]`, `[Fill in ...]`
    and "lorem ipsum"; with `letter_blanks`, also `[Your Name]`, `[Company Name]`,
    `[Recipient's Name]` and `[Name]`, which letter and e-mail answers legitimately leave for
    the reader (LIMA keeps twenty such answers), so they are off by default.
    Column: `template_leftovers_match` (the first marker found, in field order).
    Reason: `template_leftover`.
    """

    name: ClassVar[str] = "template_leftovers"
    prefix: ClassVar[str] = "template_leftovers_"
    fields: list[str] = field(default_factory=lambda: ["instruction", "input", "output"])
    letter_blanks: bool = False

    def __post_init__(self) -> None:
        """Check the fields at recipe load."""
        check_fields(self.name, self.fields)
        if not isinstance(self.letter_blanks, bool):
            raise WinnowError(
                f"template_leftovers: letter_blanks must be true or false, not "
                f"{self.letter_blanks!r}."
            )

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Find the first marker outside code in each field, in field order."""
        require_columns(self.name, df, self.fields)
        found = []
        for name in self.fields:
            text = without_code(text_field(name))
            found += [text.str.extract(f"({MARKERS})", 1), text.str.extract(SINGLE_BRACE, 1)]
            if self.letter_blanks:
                found.append(text.str.extract(f"({LETTER})", 1))
        return df.with_columns(pl.coalesce(found).alias(self.col("match")))

    def reason(self) -> pl.Expr:
        """Drop rows with a marker."""
        return first_reason((pl.col(self.col("match")).is_not_null(), "template_leftover"))
