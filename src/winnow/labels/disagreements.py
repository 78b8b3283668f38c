"""The items annotators disagree on, with each annotator's label: what a lead reviews to fix
the guidelines or settle an item, where the agreement numbers only say how often it happens."""

from __future__ import annotations

from typing import Any

from winnow.labels.store import LabelStore


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
