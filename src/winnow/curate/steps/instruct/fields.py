"""Shared reading of instruction rows for the instruct steps: null-safe fields, code removed."""

from __future__ import annotations

import polars as pl

from winnow.errors import WinnowError

INSTRUCT_FIELDS = ("instruction", "input", "output")

# Fenced code blocks (closed or running to the end) and inline code spans.
CODE = r"(?s)```.*?(?:```|\z)|`[^`\n]*`"


def text_field(name: str) -> pl.Expr:
    """A string column of the row with nulls read as empty strings."""
    return pl.col(name).cast(pl.Utf8).fill_null("")


def without_code(expr: pl.Expr) -> pl.Expr:
    """The text with fenced code blocks and inline code spans replaced by a space."""
    return expr.str.replace_all(CODE, " ")


def require_columns(step: str, df: pl.DataFrame, names: tuple[str, ...] | list[str]) -> None:
    """Fail with one line when a frame lacks the instruction columns a step reads."""
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise WinnowError(
            f"{step}: the rows have no column {', '.join(missing)}; run this step on an "
            "instruction dataset (columns instruction, input, output), e.g. one made by "
            "`winnow curate instruct`."
        )


def check_fields(step: str, fields: list[str]) -> None:
    """Fail at recipe load when `fields` is not a non-empty list of instruction fields."""
    if isinstance(fields, str) or not fields or not set(fields) <= set(INSTRUCT_FIELDS):
        raise WinnowError(
            f"{step}: fields must be a non-empty list drawn from {', '.join(INSTRUCT_FIELDS)}, "
            f"not {fields!r}; e.g. fields: [instruction, output]."
        )
