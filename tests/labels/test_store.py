"""Label records on disk: one atomic file per decision, undo and skip, concurrent writers,
and corrupt files reported by name while the rest still count."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from tests.labels.conftest import WEB_KEEP_DROP, keep_drop_store, label, store_of
from winnow.errors import WinnowError
from winnow.labels.items import load_items
from winnow.labels.store import LabelStore
from winnow.workspace import Workspace


def test_each_decision_is_one_json_file_that_reads_back(ws: Workspace):
    store = store_of(ws, "web", "quality-keep-drop")
    items = load_items(store.version, store.task, "alice")
    first = store.append(items[0], "alice", "keep")
    second = store.append(items[1], " alice ", "drop")
    assert store.folder == ws.root / "labels" / "web" / "v1" / "quality-keep-drop"
    files = sorted(store.folder.iterdir())
    assert [p.name for p in files] == [f"{first['id']}.json", f"{second['id']}.json"]
    on_disk = json.loads(files[0].read_text())
    assert on_disk == first
    assert on_disk["item_id"] == "demo-river" and on_disk["label"] == "keep"
    assert on_disk["dataset"] == "web@v1" and on_disk["task"] == "quality-keep-drop"
    assert on_disk["fingerprint"] == ws.dataset("web").manifest["fingerprint"]
    assert on_disk["action"] == "label" and on_disk["annotator"] == "alice"
    assert on_disk["order"] is None and on_disk["preferred"] is None
    assert on_disk["undoes"] is None and on_disk["time"].endswith("+00:00")
    fresh = store_of(ws, "web", "quality-keep-drop")
    assert fresh.read() == ([first, second], [])
    assert fresh.current() == {("alice", "demo-river"): first, ("alice", "demo-bread"): second}
    with pytest.raises(WinnowError, match="'maybe' is not a choice"):
        store.append(items[2], "alice", "maybe")


def test_record_names_sort_by_time_and_never_collide(ws: Workspace):
    store = store_of(ws, "web", "quality-keep-drop")
    item = load_items(store.version, store.task, "alice")[0]
    ids = [store.append(item, "alice", "keep")["id"] for _ in range(200)]
    assert len(set(ids)) == 200 and ids == sorted(ids)
    assert [r["id"] for r in store.read()[0]] == ids
    assert len(store.current()) == 1, "relabelling an item keeps only the latest label"


def test_skip_then_undo_walks_back_one_decision_at_a_time(ws: Workspace):
    store = store_of(ws, "web", "quality-1to5")
    items = load_items(store.version, store.task, "alice")
    river, bread, library = items[:3]
    store.append(river, "alice", "5")
    store.append(bread, "alice", "4")
    skip = store.skip(library, "alice")
    store.append(river, "bob", "2")
    assert store.next_item(items, "alice") == items[3]
    assert store.progress("alice", len(items)) == {
        "labelled": 2,
        "skipped": 1,
        "done": 3,
        "total": 14,
        "left": 11,
    }
    undo = store.undo("alice")
    assert (undo["action"], undo["undoes"], undo["item_id"]) == ("undo", skip["id"], library.id)
    assert store.next_item(items, "alice") == library
    assert store.skipped() == {}
    store.undo("alice")
    assert set(store.current()) == {("alice", "demo-river"), ("bob", "demo-river")}
    assert store.next_item(items, "alice") == bread
    store.undo("alice")
    assert store.undo("alice") is None, "nothing left to undo"
    assert store.current() == {("bob", "demo-river"): store.current()[("bob", "demo-river")]}
    store.append(river, "alice", "3")
    assert store.current()[("alice", "demo-river")]["label"] == "3"
    assert store.annotators() == {
        "alice": {"labels": 1, "skips": 0, "records": 7, "undos": 3},
        "bob": {"labels": 1, "skips": 0, "records": 1, "undos": 0},
    }
    with pytest.raises(WinnowError, match="a skip carries no label"):
        store.append(river, "alice", "3", action="skip")


def test_pairwise_records_keep_the_order_and_the_preferred_side(ws: Workspace):
    store = store_of(ws, "pairs", "pairwise")
    items = load_items(store.version, store.task, "alice")
    shown_chosen = next(i for i in items if i.order == "chosen")
    shown_rejected = next(i for i in items if i.order == "rejected")
    assert store.append(shown_chosen, "alice", "A")["preferred"] == "chosen"
    assert store.append(shown_rejected, "alice", "A")["preferred"] == "rejected"
    record = store.append(shown_rejected, "alice", "B")
    assert (record["order"], record["preferred"]) == ("rejected", "chosen")
    assert store.append(items[2], "alice", "tie")["preferred"] == "tie"


def _write_labels(root: str, annotator: str, count: int, gate: str) -> list[str]:
    """Label `count` times, as a separate dashboard session would: say ready in `gate`, wait
    for its `go` file so that every writer starts at the same moment, then write."""
    from tests.labels.conftest import store_of

    store = store_of(Workspace(Path(root)), "web", "quality-1to5")
    items = load_items(store.version, store.task, annotator)
    (Path(gate) / annotator).touch()
    deadline = time.monotonic() + 60
    while not (Path(gate) / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    return [
        store.append(items[n % len(items)], annotator, str(n % 5 + 1))["id"] for n in range(count)
    ]


def test_annotators_writing_at_once_lose_nothing(ws: Workspace, tmp_path: Path):
    gate = tmp_path / "gate"
    gate.mkdir()
    threads = [f"thread-{n}" for n in range(4)]
    processes = ["process-1", "process-2"]
    results: dict[str, list[str]] = {}

    def write(annotator: str) -> None:
        results[annotator] = _write_labels(str(ws.root), annotator, 60, str(gate))

    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        futures = {
            name: pool.submit(_write_labels, str(ws.root), name, 60, str(gate))
            for name in processes
        }
        running = [threading.Thread(target=write, args=(name,)) for name in threads]
        for thread in running:
            thread.start()
        ready = [gate / name for name in threads + processes]
        while not all(p.exists() for p in ready) and not any(f.done() for f in futures.values()):
            time.sleep(0.01)
        (gate / "go").touch()
        for thread in running:
            thread.join()
        results |= {name: future.result() for name, future in futures.items()}
    store = store_of(ws, "web", "quality-1to5")
    records, problems = store.read()
    assert problems == []
    assert len(records) == 6 * 60
    assert {r["id"] for r in records} == {i for ids in results.values() for i in ids}
    assert not [p for p in store.folder.iterdir() if p.name.startswith(".")], "no temp left"
    progress = {name: store.progress(name, 14) for name in results}
    assert all(p["labelled"] == 14 and p["left"] == 0 for p in progress.values())


def test_a_corrupt_record_is_named_and_the_others_still_count(ws: Workspace):
    store = keep_drop_store(ws)
    files = store.files()
    truncated = files[3]
    truncated.write_text(truncated.read_text()[:40], encoding="utf-8")
    wrong = files[5]
    wrong.write_text(json.dumps(json.loads(wrong.read_text()) | {"label": "meh"}))
    (store.folder / "notes.json").write_text("[1, 2]")
    (store.folder / ".in-flight.json.123.tmp").write_text("{")
    fresh = LabelStore(ws, store.version, store.task)
    records, problems = fresh.read()
    assert len(records) == sum(len(v) for v in WEB_KEEP_DROP.values()) - 2
    assert len(problems) == 3
    assert problems[0].startswith(f"{truncated}: unreadable (")
    assert problems[0].endswith("; the other records still count.")
    assert problems[1] == (
        f"{wrong}: label 'meh' is not a choice of task 'quality-keep-drop'; "
        "this record is left out."
    )
    assert problems[2].startswith(f"{store.folder / 'notes.json'}: expected a JSON object")
    assert ("alice", "demo-river") in fresh.current()
    assert len(fresh.current()) == len(records)
    label(fresh, "dave", {"demo-river": "keep"})
    assert ("dave", "demo-river") in fresh.current(), "writing still works"
