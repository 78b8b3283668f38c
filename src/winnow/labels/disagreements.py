"""The items annotators disagree on, with each annotator's label and the item's text: what a
lead reviews to fix the guidelines or settle an item, where the agreement numbers only say how
often it happens."""

from __future__ import annotations

from typing import Any

from winnow.labels.items import Item, as_messages, kept_rows, make_item
from winnow.labels.store import LabelStore
from winnow.labels.tasks import LabelTask

PREVIEW = 120
"""Characters of an item's text shown in the disagreements table; the item opens in full."""


def disagreements(store: LabelStore) -> list[dict[str, Any]]:
    """One row per item labelled by two annotators or more whose labels differ: the item id,
    then each annotator's label (None where one did not label it), items in id order. Pairwise
    labels are compared on the side preferred, since each annotator saw its own A/B order."""
    pairwise = store.task.kind == "pairwise"
    units: dict[str, dict[str, str]] = {}
    for (annotator, item_id), record in store.current().items():
        units.setdefault(item_id, {})[annotator] = record["preferred" if pairwise else "label"]
    split = {item: unit for item, unit in units.items() if len(set(unit.values())) > 1}
    annotators = sorted({who for unit in split.values() for who in unit})
    return [
        {"item_id": item, **{who: split[item].get(who) for who in annotators}}
        for item in sorted(split)
    ]


def as_judged(row: dict[str, Any], task: LabelTask) -> Item:
    """A kept row as the item its annotators judged; a pair's chosen side as A, since their
    labels are compared as the side preferred, not the A/B each one saw."""
    if task.kind != "pairwise":
        return make_item(row, task, annotator="")  # only a pair's A/B order needs the annotator
    prompt, chosen, rejected = (as_messages(row[c]) for c in ("prompt", "chosen", "rejected"))
    return Item(id=str(row["id"]), prompt=prompt, a=chosen, b=rejected, order="chosen")


def disagreed_items(store: LabelStore, rows: list[dict[str, Any]]) -> dict[str, Item]:
    """The items of disagreements() rows, by id, read from the labelled version's kept rows
    so a reviewer judges the text the annotators saw."""
    wanted = [row["item_id"] for row in rows]
    found = kept_rows(store.version, store.task, ids=wanted)
    return {str(row["id"]): as_judged(row, store.task) for row in found}


def preview(item: Item | None) -> str:
    """An item's text on one short line: the document, or the last prompt turn (and the
    answer, for a rating)."""
    if item is None:
        return "(not in the dataset's kept rows)"
    whole = item.text
    if whole is None:
        whole = item.prompt[-1]["content"] if item.prompt else ""
        if item.answer is not None:
            whole += f" → {item.answer}"
    flat = " ".join(whole.split())
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"
