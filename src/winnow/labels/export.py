"""Turn labels into datasets: quality labels into keep/drop sets for the quality classifier,
pairwise labels into a preference set. Each item gets its annotators' majority decision;
ties and undecided items are left out and counted in the manifest, never dropped silently."""

from __future__ import annotations

import json
import platform
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

import polars as pl
import xxhash

from winnow.errors import WinnowError
from winnow.files import read_json, write_json, write_parquet
from winnow.labels.items import Message, as_messages, kept_rows
from winnow.labels.store import LabelStore
from winnow.manifest import kept_content, package_versions, split_summary
from winnow.preference.dataset import import_preference
from winnow.workspace import SPLITS, DatasetVersion, Workspace, check_name

QUALITY_CLASSES = ("keep", "drop")
"""The two sets a quality export writes, as OUTPUT-keep and OUTPUT-drop."""

PREFERENCES = ("chosen", "rejected", "tie")
"""The outcomes of a pairwise item: the dataset side preferred, or a tie."""


def majority(votes: list[str]) -> str | None:
    """The value most votes share, or None when two values tie for the most."""
    ranked = Counter(votes).most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def decide(
    store: LabelStore, vote_of: Callable[[dict[str, Any]], str], outcomes: tuple[str, ...]
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Each labelled item's majority vote (with how many agreed of how many), and counts of
    each outcome and of the items left out because their votes split evenly ('split')."""
    votes: dict[str, list[str]] = {}
    for (_, item_id), record in sorted(store.current().items()):
        votes.setdefault(item_id, []).append(vote_of(record))
    decided: dict[str, dict[str, Any]] = {}
    counts: Counter[str] = Counter({"items_labelled": len(votes)})
    counts.update({outcome: 0 for outcome in (*outcomes, "split")})
    for item_id, cast in votes.items():
        winner = majority(cast)
        if winner is None:
            counts["split"] += 1
            continue
        counts[winner] += 1
        decided[item_id] = {"decision": winner, "votes": cast.count(winner), "voters": len(cast)}
    return decided, dict(counts)


def quality_rule(store: LabelStore, keep_at: float, drop_at: float) -> Callable[[dict], str]:
    """How one quality label votes: keep/drop as given, or a score by the thresholds
    (>= keep_at keep, <= drop_at drop, between them 'middle')."""
    task = store.task
    if task.kind != "quality":
        raise WinnowError(
            f"task '{task.name}' is a {task.kind} task; export quality labels from a quality task."
        )
    if set(task.values) == set(QUALITY_CLASSES):
        return lambda record: record["label"]
    try:
        [float(value) for value in task.values]
    except ValueError:
        raise WinnowError(
            f"task '{task.name}' has values {task.values}, neither keep/drop nor scores; "
            "give it keep/drop or numeric choices."
        ) from None
    if keep_at <= drop_at:
        raise WinnowError(f"--keep-at {keep_at:g} must be above --drop-at {drop_at:g}.")

    def vote(record: dict[str, Any]) -> str:
        """keep, drop or middle for one score."""
        score = float(record["label"])
        return "keep" if score >= keep_at else "drop" if score <= drop_at else "middle"

    return vote


def labels_section(store: LabelStore, rule: dict[str, Any], counts: dict[str, int]) -> dict:
    """What an exported version records about the labels it came from."""
    records, problems = store.read()
    return {
        "task": store.task.name,
        "task_file": str(store.task.path),
        "project": str(store.folder),
        "dataset": store.version.ref,
        "annotators": sorted({r["annotator"] for r in records}),
        "records": len(records),
        "problems": problems,
        "records_fingerprint": store.records_fingerprint(),
        "rule": rule,
        "counts": counts,
    }


def parent_of(version: DatasetVersion) -> dict[str, Any]:
    """A parents entry naming the labelled dataset version."""
    return {
        "name": version.name,
        "version": version.version,
        "fingerprint": version.manifest["fingerprint"],
    }


def project_source(store: LabelStore) -> dict[str, Any]:
    """The manifest `source` of an export: the label project's folder and records."""
    return {
        "name": f"{store.version.ref} {store.task.name} labels",
        "files": [str(store.folder)],
        "hub_id": None,
        "format": "labels",
        "text_field": "text",
        "id_field": "id",
        "licence": store.version.manifest.get("source", {}).get("licence"),
        "fingerprint": store.records_fingerprint(),
    }


def write_labelled_version(
    ws: Workspace, name: str, frame: pl.DataFrame, store: LabelStore, labels: dict, started: float
) -> DatasetVersion:
    """Write `frame` as a new version of `name`: staged under a temporary name, then renamed."""

    def write(staging: Path, version: str) -> None:
        for split in SPLITS:
            (staging / split).mkdir(parents=True)
        if frame.height:
            write_parquet(frame, staging / "kept" / "part-00000.parquet")
        fingerprint, text_bytes = kept_content(sorted((staging / "kept").glob("*.parquet")))
        rule_hash = xxhash.xxh64(json.dumps(labels["rule"], sort_keys=True).encode()).hexdigest()
        manifest = {
            "name": name,
            "version": version,
            "kind": "labels",
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "counts": {
                "input": frame.height,
                "kept": frame.height,
                "rejected": 0,
                "quarantined": 0,
                "kept_text_bytes": text_bytes,
            },
            "splits": {split: split_summary(staging / split) for split in SPLITS},
            "fingerprint": fingerprint,
            "parents": [parent_of(store.version)],
            "source": project_source(store),
            "recipe": {"name": "labels", "path": None, "hash": rule_hash, "steps": []},
            "steps": [],
            "labels": labels,
            "warnings": [] if frame.height else [f"no item was decided {labels['class']}"],
            "versions": package_versions(),
            "platform": {"python": sys.version.split()[0], "machine": platform.machine()},
            "timings": {"total_seconds": round(perf_counter() - started, 3)},
        }
        write_json(manifest, staging / "manifest.json")

    return ws.publish(name, write)


@dataclass(frozen=True)
class QualityPlan:
    """What a quality export writes: the rows of each class, the counts and the rule."""

    frames: dict[str, pl.DataFrame]
    counts: dict[str, int]
    rule: dict[str, Any]


def plan_quality(store: LabelStore, keep_at: float = 4, drop_at: float = 2) -> QualityPlan:
    """The keep and drop rows (`id, text, votes, voters`) a quality export would write, so a
    page can preview them before anything is written."""
    vote = quality_rule(store, keep_at, drop_at)
    numeric = set(store.task.values) != set(QUALITY_CLASSES)
    decided, counts = decide(
        store, vote, (*QUALITY_CLASSES, "middle") if numeric else QUALITY_CLASSES
    )
    if not any(d["decision"] in QUALITY_CLASSES for d in decided.values()):
        raise WinnowError(
            f"no item of {store.version.ref} has a majority keep or drop label for task "
            f"'{store.task.name}' yet; label some first."
        )
    rows = kept_rows(store.version, store.task, ids=list(decided))
    counts["unknown_items"] = len(decided) - len(rows)
    rule = {
        "vote": "majority of annotators; a tie for the most votes leaves the item out",
        "keep_at": keep_at if numeric else None,
        "drop_at": drop_at if numeric else None,
    }
    frames = {}
    for cls in QUALITY_CLASSES:
        chosen = [row | decided[row["id"]] for row in rows if decided[row["id"]]["decision"] == cls]
        frames[cls] = pl.DataFrame(
            [{k: row[k] for k in ("id", "text", "votes", "voters")} for row in chosen],
            schema={"id": pl.Utf8, "text": pl.Utf8, "votes": pl.Int64, "voters": pl.Int64},
        )
    return QualityPlan(frames, counts, rule)


def export_quality(
    ws: Workspace, store: LabelStore, output: str, keep_at: float = 4, drop_at: float = 2
) -> tuple[DatasetVersion, DatasetVersion]:
    """Write OUTPUT-keep and OUTPUT-drop (`id, text, votes, voters` rows of the labelled
    dataset) for `winnow curate quality train --positive OUTPUT-keep --negative OUTPUT-drop`."""
    started = perf_counter()
    names = {cls: check_name(f"{output}-{cls}") for cls in QUALITY_CLASSES}
    plan = plan_quality(store, keep_at, drop_at)
    written = []
    for cls in QUALITY_CLASSES:
        labels = labels_section(store, plan.rule, plan.counts) | {"class": cls}
        frame = plan.frames[cls]
        written.append(write_labelled_version(ws, names[cls], frame, store, labels, started))
    return written[0], written[1]


def _sharegpt(messages: list[Message] | str) -> list[dict[str, str]]:
    """Chat messages as ShareGPT turns, the form the sharegpt-dpo importer reads."""
    return [{"from": m["role"], "value": m["content"]} for m in as_messages(messages)]


@dataclass(frozen=True)
class PreferencePlan:
    """What a preference export writes: ShareGPT records, their source ids and the counts."""

    records: list[dict[str, Any]]
    ids: dict[str, str]
    counts: dict[str, int]


def plan_preference(store: LabelStore) -> PreferencePlan:
    """The records a preference export would write, the preferred side as `chosen` (ties and
    split votes left out), so a page can preview them before anything is written."""
    if store.task.kind != "pairwise":
        raise WinnowError(
            f"task '{store.task.name}' is a {store.task.kind} task; "
            "export a preference set from a pairwise task."
        )
    decided, counts = decide(store, lambda record: record["preferred"], PREFERENCES)
    kept = {k: d for k, d in decided.items() if d["decision"] != "tie"}
    if not kept:
        raise WinnowError(
            f"no pair of {store.version.ref} has a majority preference yet (ties are left out); "
            "label some first."
        )
    rows = kept_rows(store.version, store.task, ids=list(kept))
    counts["unknown_items"] = len(kept) - len(rows)
    source = f"{store.version.ref}-{store.task.name}"
    records, ids = [], {}
    for number, row in enumerate(rows, start=1):
        chosen, rejected = row["chosen"], row["rejected"]
        if kept[row["id"]]["decision"] == "rejected":
            chosen, rejected = rejected, chosen
        records.append(
            {
                "conversations": _sharegpt(row["prompt"]),
                "chosen": _sharegpt(chosen),
                "rejected": _sharegpt(rejected),
            }
        )
        ids[f"{source}:{number}"] = row["id"]
    return PreferencePlan(records, ids, counts)


def export_preference(ws: Workspace, store: LabelStore, output: str) -> DatasetVersion:
    """Write a preference dataset whose `chosen` side is the one annotators preferred (ties and
    split votes left out), with the labelled version as parent and the labels recorded."""
    check_name(output)
    plan = plan_preference(store)
    source = f"{store.version.ref}-{store.task.name}"
    with tempfile.TemporaryDirectory(prefix="winnow-labels-") as folder:
        path = Path(folder) / "preferences.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for record in plan.records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        version = import_preference(ws, [(path, source)], output, "sharegpt-dpo")
    rule = {"vote": "majority of annotators on the preferred side; ties and split votes left out"}
    manifest_path = version.path / "manifest.json"
    manifest = read_json(manifest_path)
    manifest["parents"] = [parent_of(store.version)]
    manifest["source"] = project_source(store)
    manifest["labels"] = labels_section(store, rule, plan.counts) | {"ids": plan.ids}
    write_json(manifest, manifest_path)
    return version
