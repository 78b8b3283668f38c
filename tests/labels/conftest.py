"""A private copy of the small workspace per test, and label decisions made on real rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from winnow.labels.items import Item, load_items
from winnow.labels.store import LabelStore, open_store
from winnow.labels.tasks import load_task
from winnow.workspace import Workspace

WEB_KEEP_DROP = {
    "alice": {
        "demo-river": "keep",
        "demo-bread": "keep",
        "demo-library": "keep",
        "demo-sleep": "keep",
        "demo-bees": "keep",
        "demo-chess": "keep",
        "demo-volcano": "keep",
        "demo-letters": "drop",
        "demo-contact": "drop",
        "demo-trains": "keep",
        "demo-ko-hangul": "keep",
        "demo-ko-kimchi": "keep",
        "demo-ko-subway": "keep",
        "demo-ko-contact": "drop",
    },
    "carol": {"demo-letters": "drop"},
}
"""Alice labels every kept web document; Bob (below) differs on two; Carol settles one."""
WEB_KEEP_DROP["bob"] = WEB_KEEP_DROP["alice"] | {"demo-letters": "keep", "demo-ko-subway": "drop"}


@pytest.fixture()
def ws(small, tmp_path: Path) -> Workspace:  # noqa: ANN001
    """A private copy of the small workspace (web, instruct, pairs)."""
    return small.copy(tmp_path / "ws").ws


def store_of(ws: Workspace, dataset: str, task: str) -> LabelStore:
    """The label project of a dataset and a catalog task."""
    return open_store(ws, dataset, load_task(task))


def label(store: LabelStore, annotator: str, labels: dict[str, str]) -> list[Item]:
    """Record `labels` (item id to value) for one annotator, in dataset order."""
    items = load_items(store.version, store.task, annotator)
    for item in items:
        if item.id in labels:
            store.append(item, annotator, labels[item.id])
    return items


def keep_drop_store(ws: Workspace) -> LabelStore:
    """web@v1 labelled keep/drop by alice, bob and carol."""
    store = store_of(ws, "web", "quality-keep-drop")
    for annotator, labels in WEB_KEEP_DROP.items():
        label(store, annotator, labels)
    return store
