"""Per-column statistics of a split, as the Hugging Face dataset viewer shows them above each
column: numbers get min, mean, max, nulls and a histogram; text gets its length's min, mean,
max and histogram, and its most common values when values repeat. Two scans, and one per text
column whose values repeat."""

from __future__ import annotations

from typing import Any

import polars as pl

from winnow.dashboard.browse import Browser, quoted

BINS = 10  # bars in each column's histogram
TOP = 3  # most common values listed for a text or true/false column


def measured(browser: Browser, split: str) -> dict[str, str]:
    """Column -> the SQL expression summarised: the value for numbers, the length for text."""
    schema = browser.schema(split)
    numbers = {c: quoted(c) for c in browser.numeric_columns(split)}
    texts = {c: f"length({quoted(c)})" for c, t in schema.items() if t == "VARCHAR"}
    return numbers | texts


def summary_row(column: str, kind: str, values: list[Any], rows: int) -> dict[str, Any]:
    """One column's min, mean, max and nulls from the first scan."""
    low, mean, high, present, distinct = values
    return {
        "column": column,
        "type": kind,
        "measure": "length" if kind == "VARCHAR" else "value",
        "min": low,
        "mean": mean,
        "max": high,
        "nulls": rows - present,
        "distinct (approx.)": distinct,
    }


def bins(
    browser: Browser, split: str, exprs: dict[str, str], table: list[dict[str, Any]]
) -> list[list[int]]:
    """Each column's histogram over BINS equal bins from its min to its max, in one scan."""
    parts = []
    for row in table:
        low, high = row["min"], row["max"]
        if low is None:
            parts.append("NULL")
            continue
        width = (high - low) / BINS or 1
        bucket = f"least(floor(({exprs[row['column']]} - {low!r}) / {width!r}), {BINS - 1})"
        parts.append(
            f"histogram(CAST({bucket} AS INTEGER)) FILTER ({exprs[row['column']]} IS NOT NULL)"
        )
    source = browser.version.relation_sql(split)
    found = browser.con.sql(f"SELECT {', '.join(parts)} FROM {source}").fetchall()[0]
    return [[(counts or {}).get(b, 0) for b in range(BINS)] for counts in found]


def top_values(browser: Browser, split: str, column: str) -> str:
    """The most common values of a column with their counts, e.g. "en (12), ko (3)"."""
    found = browser.con.sql(
        f"SELECT CAST({quoted(column)} AS VARCHAR), count(*) AS n "
        f"FROM {browser.version.relation_sql(split)} WHERE {quoted(column)} IS NOT NULL "
        f"GROUP BY ALL ORDER BY n DESC, 1 LIMIT {TOP}"
    ).fetchall()
    return ", ".join(f"{value[:40]} ({n:,})" for value, n in found)


def column_statistics(browser: Browser, split: str) -> pl.DataFrame:
    """One row per numeric, text and true/false column of the split, in the split's order."""
    schema = browser.schema(split)
    if not schema:
        return pl.DataFrame()
    exprs = measured(browser, split)
    flags = [c for c, t in schema.items() if t == "BOOLEAN"]
    aggregates = [
        f"min({e}), avg({e}), max({e}), count({e}), approx_count_distinct({quoted(c)})"
        for c, e in exprs.items()
    ]
    aggregates += [f"count({quoted(c)}), count_if({quoted(c)})" for c in flags]
    source = browser.version.relation_sql(split)
    first = browser.con.sql(f"SELECT count(*), {', '.join(aggregates)} FROM {source}").fetchall()[0]
    rows, values = first[0], list(first[1:])
    table = [
        summary_row(column, schema[column], values[5 * i : 5 * i + 5], rows)
        for i, column in enumerate(exprs)
    ]
    for row, histogram in zip(table, bins(browser, split, exprs, table), strict=True):
        row["histogram"] = histogram
        present = rows - row["nulls"]
        repeats = row["type"] == "VARCHAR" and row["distinct (approx.)"] < 0.9 * present
        row["top values"] = top_values(browser, split, row["column"]) if repeats else ""
    flag_values = values[5 * len(exprs) :]
    for i, column in enumerate(flags):
        present, true = flag_values[2 * i], flag_values[2 * i + 1] or 0
        table.append(
            {
                "column": column,
                "type": "BOOLEAN",
                "measure": "value",
                "nulls": rows - present,
                "top values": f"true ({true:,}), false ({present - true:,})",
            }
        )
    order = list(schema)
    frame = pl.DataFrame(table, infer_schema_length=None)
    return frame.sort(pl.col("column").map_elements(order.index, return_dtype=pl.Int64))
