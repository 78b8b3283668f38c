"""What an annotator sees beside an item: where the row came from (id, source, split, step,
reason), what models already said about it (a quality score, a classifier's label and score,
the language) and every other plain column, so a decision is made with the row's context."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from winnow.labels.items import COLUMNS
from winnow.labels.tasks import LabelTask
from winnow.workspace import DatasetVersion

PROVENANCE = ("source", "source_file", "url", "split", "step", "reason")
"""Columns that say where a row came from and what a recipe did with it, in display order."""

SUGGESTION = re.compile(r"^(quality_score|language|lang|language_score|.*_score(_label|_int)?)$")
"""Columns a model wrote: the fastText quality score, a Hugging Face classifier's score, label
and integer score (hf_score, hf_score_label, hf_score_int), and the language identifier's."""

SCALAR = ("VARCHAR", "BOOLEAN", "DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT")
"""DuckDB types shown as they are; nested columns (messages, minhash bands) are left out."""

TEXT_MAX = 300
"""Characters of a text column shown before it is cut."""


@dataclass(frozen=True)
class Details:
    """One row's context, split in what the page shows apart."""

    provenance: dict[str, Any] = field(default_factory=dict)
    suggestions: dict[str, Any] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)


def shown(value: Any) -> Any:
    """A value short enough for a side panel."""
    if isinstance(value, str) and len(value) > TEXT_MAX:
        return value[:TEXT_MAX] + "…"
    return value


def row_of(version: DatasetVersion, item_id: str) -> dict[str, Any]:
    """The plain (non-nested) columns of one kept row, by id; empty when it is not there."""
    if not any((version.path / "kept").glob("*.parquet")):
        return {}
    con = duckdb.connect(":memory:")
    try:
        relation = version.relation_sql("kept")
        kinds = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        plain = [name for name, kind, *_ in kinds if kind.split("(")[0] in SCALAR]
        quoted = ", ".join('"' + name.replace('"', '""') + '"' for name in plain)
        found = con.execute(
            f"SELECT {quoted} FROM {relation} WHERE id = ? LIMIT 1", [item_id]
        ).fetchall()
        return dict(zip(plain, found[0], strict=True)) if found else {}
    finally:
        con.close()


def item_details(version: DatasetVersion, task: LabelTask, item_id: str) -> Details:
    """The context of one item: provenance (the split is always kept), model suggestions and
    the other plain columns, leaving out the columns the item itself already shows."""
    row = row_of(version, item_id)
    content = {c.strip() for c in COLUMNS[task.kind].split(",")} | {"text"}
    provenance = {"id": item_id, "split": "kept"}
    suggestions: dict[str, Any] = {}
    other: dict[str, Any] = {}
    for name, value in row.items():
        if name in content or value is None or value == "":
            continue
        if name in PROVENANCE:
            provenance[name] = shown(value)
        elif SUGGESTION.match(name):
            suggestions[name] = shown(value)
        else:
            other[name] = shown(value)
    order = {name: i for i, name in enumerate(("id", *PROVENANCE))}
    provenance = dict(sorted(provenance.items(), key=lambda kv: order[kv[0]]))
    return Details(provenance, suggestions, other)
