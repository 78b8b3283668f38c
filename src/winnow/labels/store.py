"""Append-only label records: one JSON file per decision, written atomically, never changed.

A label project is a dataset version and a task, kept in `WORKSPACE/labels/NAME/VERSION/TASK/`.
File names start with the nanosecond time and end with random hex, so they sort by time and
two annotators (or two processes) writing at once never pick the same name. A decision is
retracted by appending an `undo` record naming it, so the history itself is never edited.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import xxhash

from winnow.errors import WinnowError
from winnow.files import write_json
from winnow.labels.items import Item, check_annotator, check_kind
from winnow.labels.tasks import LabelTask
from winnow.workspace import DatasetVersion, Workspace

ACTIONS = ("label", "skip", "undo")
REQUIRED = ("id", "item_id", "annotator", "action", "time")
"""Fields every readable record has."""

Record = dict[str, Any]
Key = tuple[str, str]
"""(annotator, item id)."""


def preferred_side(value: str, order: str | None) -> str:
    """The dataset side a pairwise choice prefers, given the side that was shown as A."""
    if value == "tie":
        return "tie"
    if order not in ("chosen", "rejected"):
        raise WinnowError(f"pairwise order '{order}' should be 'chosen' or 'rejected'.")
    other = "rejected" if order == "chosen" else "chosen"
    return order if value == "A" else other


def new_record_id() -> str:
    """A name that sorts by creation time and never collides: time in ns, then random hex."""
    return f"{time.time_ns():020d}-{secrets.token_hex(6)}"


def check_record(record: Any, task: LabelTask) -> str | None:
    """Why a parsed record cannot be used, or None."""
    if not isinstance(record, dict):
        return f"expected a JSON object, found {type(record).__name__}"
    missing = [key for key in REQUIRED if not isinstance(record.get(key), str)]
    if missing:
        return f"field {', '.join(missing)} missing or not a string"
    if record["action"] not in ACTIONS:
        return f"action '{record['action']}' is not one of {', '.join(ACTIONS)}"
    if record["action"] == "label" and str(record.get("label")) not in task.values:
        return f"label '{record.get('label')}' is not a choice of task '{task.name}'"
    if record["action"] == "undo" and not isinstance(record.get("undoes"), str):
        return "an undo record needs 'undoes', the id of the record it retracts"
    pairwise_label = task.kind == "pairwise" and record["action"] == "label"
    if pairwise_label and record.get("preferred") not in ("chosen", "rejected", "tie"):
        return "a pairwise label needs 'preferred' (chosen, rejected or tie)"
    return None


class LabelStore:
    """The records of one label project, and what they add up to."""

    def __init__(self, ws: Workspace, version: DatasetVersion, task: LabelTask) -> None:
        self.ws = ws
        self.version = version
        self.task = task
        self.folder = ws.root / "labels" / version.name / version.version / task.name
        self.fingerprint: str = version.manifest["fingerprint"]
        """The labelled version's content fingerprint, recorded with every decision."""
        self._cache: dict[str, Record] = {}

    def append(
        self, item: Item, annotator: str, label: str | None = None, action: str = "label"
    ) -> Record:
        """Write one decision (a label, or a skip with no label) and return its record."""
        annotator = check_annotator(annotator)
        if action not in ("label", "skip"):
            raise WinnowError(f"action '{action}' cannot be appended; use label or skip.")
        value = self.task.check_value(label) if action == "label" else None
        if action == "skip" and label is not None:
            raise WinnowError("a skip carries no label; pass label=None.")
        pairwise = self.task.kind == "pairwise"
        if pairwise and item.order is None:
            raise WinnowError(f"item '{item.id}' has no A/B order; load it with load_items.")
        record = self._record(item.id, annotator, action)
        record["label"] = value
        record["order"] = item.order if pairwise else None
        record["preferred"] = preferred_side(value, item.order) if pairwise and value else None
        return self._write(record)

    def skip(self, item: Item, annotator: str) -> Record:
        """Record that the annotator passed over an item without labelling it."""
        return self.append(item, annotator, None, action="skip")

    def undo(self, annotator: str) -> Record | None:
        """Retract the annotator's latest still-effective label or skip; None if there is none."""
        annotator = check_annotator(annotator)
        records, _ = self.read()
        undone = {r["undoes"] for r in records if r["action"] == "undo"}
        for record in reversed(records):
            if (
                record["annotator"] == annotator
                and record["action"] in ("label", "skip")
                and record["id"] not in undone
            ):
                undo = self._record(record["item_id"], annotator, "undo")
                undo["undoes"] = record["id"]
                return self._write(undo)
        return None

    def _record(self, item_id: str, annotator: str, action: str) -> Record:
        """The fields every record has."""
        return {
            "id": new_record_id(),
            "item_id": item_id,
            "dataset": self.version.ref,
            "fingerprint": self.fingerprint,
            "task": self.task.name,
            "annotator": annotator,
            "action": action,
            "label": None,
            "order": None,
            "preferred": None,
            "undoes": None,
            "time": datetime.now(UTC).isoformat(timespec="microseconds"),
        }

    def _write(self, record: Record) -> Record:
        """Write the record as its own file: temporary name, fsync, rename."""
        write_json(record, self.folder / f"{record['id']}.json")
        return record

    def files(self) -> list[Path]:
        """The record files, oldest first (temporary files of writes in flight excluded)."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.glob("*.json") if not p.name.startswith("."))

    def read(self) -> tuple[list[Record], list[str]]:
        """Every readable record, oldest first, and one line per file that could not be used."""
        records: list[Record] = []
        problems: list[str] = []
        for path in self.files():
            record = self._cache.get(path.name)
            if record is None:
                try:
                    parsed = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                    problems.append(f"{path}: unreadable ({exc}); the other records still count.")
                    continue
                reason = check_record(parsed, self.task)
                if reason is not None:
                    problems.append(f"{path}: {reason}; this record is left out.")
                    continue
                record = self._cache[path.name] = parsed
            records.append(record)
        return records, problems

    def decisions(self) -> dict[Key, Record]:
        """Each annotator's latest effective label or skip per item, after undos."""
        records, _ = self.read()
        undone = {r["undoes"] for r in records if r["action"] == "undo"}
        latest: dict[Key, Record] = {}
        for record in records:
            if record["action"] in ("label", "skip") and record["id"] not in undone:
                latest[(record["annotator"], record["item_id"])] = record
        return latest

    def current(self) -> dict[Key, Record]:
        """Effective labels by (annotator, item id); skipped items are in `skipped`."""
        return {k: r for k, r in self.decisions().items() if r["action"] == "label"}

    def skipped(self) -> dict[Key, Record]:
        """Items an annotator skipped (and did not label afterwards), by (annotator, item id)."""
        return {k: r for k, r in self.decisions().items() if r["action"] == "skip"}

    def next_item(self, items: Iterable[Item], annotator: str) -> Item | None:
        """The first item this annotator has neither labelled nor skipped, or None when done."""
        annotator = check_annotator(annotator)
        done = {item_id for who, item_id in self.decisions() if who == annotator}
        return next((item for item in items if item.id not in done), None)

    def progress(self, annotator: str, total: int) -> dict[str, int]:
        """Labelled, skipped, done and left out of `total` items for one annotator."""
        annotator = check_annotator(annotator)
        mine = [r for (who, _), r in self.decisions().items() if who == annotator]
        labelled = sum(r["action"] == "label" for r in mine)
        skipped = len(mine) - labelled
        return {
            "labelled": labelled,
            "skipped": skipped,
            "done": len(mine),
            "total": total,
            "left": max(total - len(mine), 0),
        }

    def annotators(self) -> dict[str, dict[str, int]]:
        """Per annotator: effective labels and skips, and records written of each action."""
        records, _ = self.read()
        found: dict[str, dict[str, int]] = {}
        for record in records:
            counts = found.setdefault(
                record["annotator"], {"labels": 0, "skips": 0, "records": 0, "undos": 0}
            )
            counts["records"] += 1
            counts["undos"] += record["action"] == "undo"
        for (who, _), record in self.decisions().items():
            found[who]["labels" if record["action"] == "label" else "skips"] += 1
        return dict(sorted(found.items()))

    def records_fingerprint(self) -> str:
        """A hash over every record file's name and bytes, so an export names what it read."""
        digest = xxhash.xxh3_128()
        for path in self.files():
            digest.update(path.name.encode() + b"\x1f" + path.read_bytes() + b"\x1e")
        return digest.hexdigest()


def open_store(ws: Workspace, dataset: str, task: LabelTask) -> LabelStore:
    """The label project of a dataset (NAME or NAME@VERSION) and task, checking they suit."""
    version = ws.dataset(dataset)
    check_kind(version, task)
    return LabelStore(ws, version, task)
