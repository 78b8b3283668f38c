"""The items a label task shows: a document, an answer to rate, or two answers to compare."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from winnow.errors import WinnowError
from winnow.labels.tasks import LabelTask
from winnow.workspace import DatasetVersion

Message = dict[str, str]

ANNOTATOR = re.compile(r"^[^\W_][\w .-]{0,63}$")
"""Annotator names: a letter or digit, then up to 63 letters, digits, '_', '-', '.' or spaces."""


def check_annotator(name: str) -> str:
    """The annotator name without surrounding spaces, or a one-sentence error."""
    cleaned = (name or "").strip()
    if not ANNOTATOR.match(cleaned):
        raise WinnowError(
            f"annotator name '{name}' is not allowed; use up to 64 letters, digits, spaces, "
            "'-', '_' or '.', starting with a letter or digit."
        )
    return cleaned


@dataclass(frozen=True)
class Item:
    """One thing to label. Quality: `text`. Rating: `prompt` messages and `answer`. Pairwise:
    `prompt`, the two sides `a` and `b`, and `order`, the dataset side shown as A
    ('chosen' or 'rejected')."""

    id: str
    text: str | None = None
    prompt: list[Message] = field(default_factory=list)
    answer: str | None = None
    a: list[Message] = field(default_factory=list)
    b: list[Message] = field(default_factory=list)
    order: str | None = None


def a_side(item_id: str, annotator: str) -> str:
    """Which dataset side an annotator sees as A for an item: seeded by both, so it is stable
    across sessions and machines yet differs between items and annotators."""
    digest = hashlib.sha256(f"{item_id}\x1f{annotator}".encode()).digest()
    return "chosen" if digest[0] % 2 == 0 else "rejected"


def check_kind(version: DatasetVersion, task: LabelTask) -> None:
    """Refuse a dataset whose kind the task does not label."""
    kind = version.manifest.get("kind", "pretraining")
    if kind not in task.applies_to:
        raise WinnowError(
            f"{version.ref} is a {kind} dataset but task '{task.name}' labels "
            f"{' or '.join(task.applies_to)} datasets; pick another dataset or task."
        )


COLUMNS = {
    "quality": "id, text",
    "rating": "id, prompt, output",
    "pairwise": "id, prompt, chosen, rejected",
}
"""The columns each task kind reads from the kept split (an instruction set's `prompt` is its
chat form: system, earlier turns, then the instruction and input as the last user turn)."""

FILTERS = {"pairwise": "chosen IS NOT NULL AND rejected IS NOT NULL"}
"""Rows a task kind cannot show (unpaired KTO rows have nothing to compare)."""


def kept_rows(
    version: DatasetVersion,
    task: LabelTask,
    limit: int | None = None,
    ids: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """The kept rows the task needs (only `ids`, if given), in dataset order."""
    if not any((version.path / "kept").glob("*.parquet")):
        return []
    relation = (
        f"read_parquet('{version.split_glob('kept')}', union_by_name = true, "
        "filename = true, file_row_number = true)"
    )
    where = [FILTERS[task.kind]] if task.kind in FILTERS else []
    con = duckdb.connect(":memory:")
    try:
        if ids is not None:
            con.register("wanted", pa.table({"id": pa.array(list(ids), pa.string())}))
            where.append("id IN (SELECT id FROM wanted)")
        sql = f"SELECT {COLUMNS[task.kind]} FROM {relation}"
        sql += f" WHERE {' AND '.join(where)}" if where else ""
        sql += " ORDER BY filename, file_row_number"
        sql += f" LIMIT {int(limit)}" if limit is not None else ""
        cursor = con.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def as_messages(value: Any) -> list[Message]:
    """Messages from nested Parquet (list of structs) or from their JSON text."""
    if isinstance(value, str):
        value = json.loads(value)
    return [{"role": m["role"], "content": m["content"]} for m in value or []]


def make_item(row: dict[str, Any], task: LabelTask, annotator: str) -> Item:
    """One row as the item the task shows to this annotator."""
    item_id = str(row["id"])
    if task.kind == "quality":
        return Item(id=item_id, text=row["text"] or "")
    if task.kind == "rating":
        return Item(id=item_id, prompt=as_messages(row["prompt"]), answer=row["output"] or "")
    chosen, rejected = as_messages(row["chosen"]), as_messages(row["rejected"])
    order = a_side(item_id, annotator)
    a, b = (chosen, rejected) if order == "chosen" else (rejected, chosen)
    return Item(id=item_id, prompt=as_messages(row["prompt"]), a=a, b=b, order=order)


def load_items(
    version: DatasetVersion, task: LabelTask, annotator: str, limit: int | None = None
) -> list[Item]:
    """The kept rows of a dataset version as items of `task` for `annotator` (the first
    `limit` only, if given); pairwise sides are ordered for that annotator."""
    annotator = check_annotator(annotator)
    check_kind(version, task)
    return [make_item(row, task, annotator) for row in kept_rows(version, task, limit)]


def count_items(version: DatasetVersion, task: LabelTask) -> int:
    """How many items the task has in a dataset version, without reading their text."""
    check_kind(version, task)
    if not any((version.path / "kept").glob("*.parquet")):
        return 0
    sql = f"SELECT count(*) FROM {version.relation_sql('kept')}"
    if task.kind in FILTERS:
        sql += f" WHERE {FILTERS[task.kind]}"
    con = duckdb.connect(":memory:")
    try:
        return int(con.execute(sql).fetchall()[0][0])
    finally:
        con.close()
