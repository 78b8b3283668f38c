"""Exports: quality labels become keep/drop datasets the quality classifier trains on, pairwise
labels a preference set whose chosen side is the one annotators preferred."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from tests.cli_helpers import run_cli
from tests.labels.conftest import keep_drop_store, label, store_of
from winnow.curate.quality_model import card_path
from winnow.errors import WinnowError
from winnow.labels.export import (
    export_preference,
    export_quality,
    majority,
    plan_preference,
    plan_quality,
)
from winnow.labels.items import load_items
from winnow.workspace import Workspace


def rows(ws: Workspace, ref: str, columns: str = "id") -> list[tuple]:
    """The kept rows of a dataset version."""
    return duckdb.sql(f"SELECT {columns} FROM {ws.dataset(ref).relation_sql()}").fetchall()


def test_majority_leaves_ties_out():
    assert majority(["keep", "keep", "drop"]) == "keep"
    assert majority(["keep", "drop"]) is None
    assert majority(["5"]) == "5"
    assert majority([]) is None


def test_keep_drop_labels_become_two_datasets_with_lineage(ws: Workspace):
    store = keep_drop_store(ws)
    keep, drop = export_quality(ws, store, "web-labels")
    assert (keep.ref, drop.ref) == ("web-labels-keep@v1", "web-labels-drop@v1")
    assert [r[0] for r in rows(ws, keep.ref)] == [
        "demo-river",
        "demo-bread",
        "demo-library",
        "demo-sleep",
        "demo-bees",
        "demo-chess",
        "demo-volcano",
        "demo-trains",
        "demo-ko-hangul",
        "demo-ko-kimchi",
    ]
    dropped = rows(ws, drop.ref, "id, text, votes, voters")
    assert [(r[0], r[2], r[3]) for r in dropped] == [
        ("demo-letters", 2, 3),
        ("demo-contact", 2, 2),
        ("demo-ko-contact", 2, 2),
    ]
    assert dropped[1][1].startswith("If you have a question about your order")
    web = ws.dataset("web")
    for version in (keep, drop):
        manifest = version.manifest
        assert manifest["kind"] == "labels"
        assert manifest["parents"] == [
            {"name": "web", "version": "v1", "fingerprint": web.manifest["fingerprint"]}
        ]
        labels = manifest["labels"]
        assert labels["task"] == "quality-keep-drop" and labels["dataset"] == "web@v1"
        assert labels["annotators"] == ["alice", "bob", "carol"] and labels["records"] == 29
        assert labels["counts"] == {
            "items_labelled": 14,
            "keep": 10,
            "drop": 3,
            "split": 1,
            "unknown_items": 0,
        }
        assert labels["records_fingerprint"] == store.records_fingerprint()
        assert manifest["counts"]["kept"] == manifest["splits"]["kept"]["rows"]
    assert keep.manifest["labels"]["class"] == "keep" and keep.manifest["counts"]["kept"] == 10
    assert not list((ws.datasets_dir / "web-labels-keep").glob(".partial-*"))


def test_scores_are_split_by_thresholds_and_the_middle_is_counted(ws: Workspace):
    store = store_of(ws, "web", "quality-1to5")
    items = load_items(store.version, store.task, "alice")
    scores = ["5", "4", "4", "5", "3", "4", "5", "1", "2", "4", "5", "4", "3", "1"]
    label(store, "alice", {item.id: s for item, s in zip(items, scores, strict=True)})
    label(store, "bob", {items[0].id: "4", items[4].id: "3", items[12].id: "2"})
    keep, drop = export_quality(ws, store, "scored")
    counts = keep.manifest["labels"]["counts"]
    assert counts == {
        "items_labelled": 14,
        "keep": 9,
        "drop": 3,
        "middle": 1,
        "split": 1,
        "unknown_items": 0,
    }
    assert keep.manifest["labels"]["rule"]["keep_at"] == 4
    assert {r[0] for r in rows(ws, drop.ref)} == {"demo-letters", "demo-contact", "demo-ko-contact"}
    strict_keep, _ = export_quality(ws, store, "strict", keep_at=5, drop_at=1)
    strict = strict_keep.manifest["labels"]["counts"]
    assert (strict["keep"], strict["drop"], strict["middle"], strict["split"]) == (3, 2, 8, 1)
    assert len(rows(ws, strict_keep.ref)) == 3
    with pytest.raises(WinnowError, match="--keep-at 2 must be above --drop-at 3"):
        export_quality(ws, store, "bad", keep_at=2, drop_at=3)


def test_nothing_decided_is_a_clear_error(ws: Workspace):
    store = store_of(ws, "web", "quality-keep-drop")
    label(store, "alice", {"demo-river": "keep"})
    label(store, "bob", {"demo-river": "drop"})
    with pytest.raises(WinnowError, match="no item of web@v1 has a majority keep or drop label"):
        export_quality(ws, store, "none")
    assert not (ws.datasets_dir / "none-keep").exists()


def test_quality_train_runs_on_the_exported_datasets(
    ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    keep, drop = export_quality(ws, keep_drop_store(ws), "web-labels")
    model = tmp_path / "quality.bin"
    code, out = run_cli(
        capsys,
        "curate", "quality", "train",
        "--positive", "web-labels-keep", "--negative", "web-labels-drop",
        "--output", str(model), "--bucket", "2000", "--epochs", "5", "--min-count", "1",
        "--no-quantize", "--workspace", str(ws.root),
    )  # fmt: skip
    assert code == 0, out
    card = json.loads(card_path(model).read_text())
    assert card["classes"]["positive"]["read"] == 10 and card["classes"]["negative"]["read"] == 3
    assert card["sources"]["positive"][0]["source"] == keep.ref
    assert card["sources"]["negative"][0]["source"] == drop.ref
    assert re.search(r"held-out scores", out)


def test_pairwise_labels_become_a_preference_set_of_what_annotators_preferred(ws: Workspace):
    store = store_of(ws, "pairs", "pairwise")
    wanted = {0: "chosen", 1: "rejected", 2: "tie", 3: "rejected", 4: "chosen"}
    bob_differs = {4: "rejected"}
    for annotator in ("alice", "bob"):
        items = load_items(store.version, store.task, annotator)
        sides = wanted | (bob_differs if annotator == "bob" else {})
        label(
            store,
            annotator,
            {
                items[n].id: "tie" if side == "tie" else "A" if items[n].order == side else "B"
                for n, side in sides.items()
            },
        )
    version = export_preference(ws, store, "pairs-labelled")
    manifest = version.manifest
    assert manifest["kind"] == "preference"
    pairs = ws.dataset("pairs")
    assert manifest["parents"] == [
        {"name": "pairs", "version": "v1", "fingerprint": pairs.manifest["fingerprint"]}
    ]
    labels = manifest["labels"]
    assert labels["counts"] == {
        "items_labelled": 5,
        "chosen": 1,
        "rejected": 2,
        "tie": 1,
        "split": 1,
        "unknown_items": 0,
    }
    original = {r[0]: r for r in rows(ws, "pairs", "id, prompt, chosen, rejected")}
    exported = rows(ws, version.ref, "id, prompt, chosen, rejected")
    assert len(exported) == 3
    items = load_items(pairs, store.task, "alice")
    expected = {items[0].id: "chosen", items[1].id: "rejected", items[3].id: "rejected"}
    for row_id, prompt, chosen, rejected in exported:
        source = original[labels["ids"][row_id]]
        assert prompt == source[1]
        if expected[source[0]] == "chosen":
            assert (chosen, rejected) == (source[2], source[3])
        else:
            assert (chosen, rejected) == (source[3], source[2]), "the preferred side is chosen"
    assert manifest["source"]["format"] == "labels"


def test_exports_refuse_tasks_of_the_other_kind(ws: Workspace):
    with pytest.raises(WinnowError, match="task 'pairwise' is a pairwise task; export quality"):
        export_quality(ws, store_of(ws, "pairs", "pairwise"), "x")
    with pytest.raises(WinnowError, match="export a preference set from a pairwise task"):
        export_preference(ws, store_of(ws, "web", "quality-1to5"), "x")


def test_the_plan_is_what_the_export_writes(ws: Workspace):
    """The preview a page shows (plan_quality, plan_preference) has the rows and counts the
    export then writes, and writes nothing itself."""
    store = keep_drop_store(ws)
    plan = plan_quality(store)
    assert plan.frames["keep"].height == 10 and plan.frames["drop"].height == 3
    assert plan.counts["split"] == 1 and not ws.versions("web-plan-keep")
    keep, drop = export_quality(ws, store, "web-plan")
    assert [r[0] for r in rows(ws, keep.ref)] == plan.frames["keep"]["id"].to_list()
    assert keep.manifest["labels"]["counts"] == plan.counts
    pairs = store_of(ws, "pairs", "pairwise")
    items = label(pairs, "ana", {})
    label(pairs, "ana", {items[0].id: "A", items[1].id: "tie"})
    preference = plan_preference(pairs)
    assert len(preference.records) == 1 and preference.counts["tie"] == 1
    version = export_preference(ws, pairs, "pairs-plan")
    assert version.manifest["counts"]["kept"] == 1
    assert version.manifest["labels"]["ids"] == preference.ids
