"""The Label page: a labelling round trip checked on disk, undo, two annotators at once, the
agreement view, export, and a corrupt record shown without breaking the page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dashboard.helpers import labeller, open_page, texts
from tests.workspaces import Small
from winnow.dashboard.label_export import jsonl


def records(root: Path, ref: str, task: str) -> list[dict]:
    """The label records on disk, oldest first."""
    name, _, version = ref.partition("@")
    folder = root / "labels" / name / version / task
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def test_labelling_round_trip_is_on_disk(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep, drop, skip and undo each write one record; the next item follows; progress counts."""
    ws = small.copy(tmp_path / "ws")
    app = labeller(monkeypatch, ws.root, "quality-keep-drop", "ana", "web@v1")
    first = app.caption[0].value
    app.button(key="choice-keep").click().run()
    app.button(key="choice-drop").click().run()
    app.button(key="skip").click().run()
    app.button(key="undo").click().run()
    assert not app.exception, app.exception
    saved = records(ws.root, "web@v1", "quality-keep-drop")
    assert [r["action"] for r in saved] == ["label", "label", "skip", "undo"]
    assert [r["label"] for r in saved[:2]] == ["keep", "drop"]
    assert saved[0]["item_id"] in first and saved[0]["annotator"] == "ana"
    assert saved[3]["undoes"] == saved[2]["id"]
    assert "ana: 2 labelled, 0 skipped, 12 left of 14" in app.get("progress")[0].proto.text
    # a fresh session (a reload) starts at the item after the two labelled
    again = labeller(monkeypatch, ws.root, "quality-keep-drop", "ana", "web@v1")
    assert saved[2]["item_id"] in again.caption[0].value


def test_two_annotators_at_once_lose_nothing(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sessions labelling the same items in turn: every click is a record, and agreement
    compares them (kappa for the pair, alpha over both)."""
    ws = small.copy(tmp_path / "ws")
    ana = labeller(monkeypatch, ws.root, "quality-keep-drop", "ana", "web@v1")
    bo = labeller(monkeypatch, ws.root, "quality-keep-drop", "bo", "web@v1")
    for value_a, value_b in [
        ("keep", "keep"),
        ("drop", "drop"),
        ("keep", "drop"),
        ("keep", "keep"),
    ]:
        ana.button(key=f"choice-{value_a}").click().run()
        bo.button(key=f"choice-{value_b}").click().run()
    saved = records(ws.root, "web@v1", "quality-keep-drop")
    assert len(saved) == 8 and {r["annotator"] for r in saved} == {"ana", "bo"}
    ana.run()
    pairs = next(f.value for f in ana.dataframe if "kappa" in f.value.columns)
    assert pairs["items"][0] == 4 and pairs["kappa"][0] == pytest.approx(0.5)
    assert any("alpha" in m.label for m in ana.metric)


def test_pairwise_shows_both_answers_and_exports_a_preference_set(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A and B side by side in a recorded order; the export is a preference dataset."""
    ws = small.copy(tmp_path / "ws")
    app = labeller(monkeypatch, ws.root, "pairwise", "ana", "pairs@v1")
    assert {"**A**", "**B**"} <= {m.value for m in app.markdown}
    app.button(key="choice-A").click().run()
    app.button(key="choice-B").click().run()
    saved = records(ws.root, "pairs@v1", "pairwise")
    assert all(r["order"] in ("chosen", "rejected") and r["preferred"] for r in saved)
    app.text_input(key="export-name").input("pairs-human").run()
    app.button(key="export").click().run()
    assert not app.exception, app.exception
    manifest = json.loads(
        (ws.root / "datasets" / "pairs-human" / "v1" / "manifest.json").read_text()
    )
    assert manifest["counts"]["kept"] == 2
    assert manifest["parents"][0]["name"] == "pairs"


def test_corrupt_record_is_one_message_and_labelling_goes_on(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A truncated record file is named on the page; the page still labels."""
    ws = small.copy(tmp_path / "ws")
    app = labeller(monkeypatch, ws.root, "quality-keep-drop", "ana", "web@v1")
    app.button(key="choice-keep").click().run()
    folder = ws.root / "labels" / "web" / "v1" / "quality-keep-drop"
    (folder / "00000000000000000001-broken.json").write_text('{"id": "x", "item_')
    app.run()
    assert any("00000000000000000001-broken.json" in w.value for w in app.warning)
    app.button(key="choice-drop").click().run()
    assert not app.exception, app.exception
    assert len(records_ok(folder)) == 2


def records_ok(folder: Path) -> list[Path]:
    """Record files that parse."""
    found = []
    for path in folder.glob("*.json"):
        try:
            json.loads(path.read_text())
        except ValueError:
            continue
        found.append(path)
    return found


def test_label_page_needs_an_annotator_and_a_suitable_dataset(
    small: Small, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No annotator: a prompt, no buttons; an answer-rating task lists only instruction sets."""
    app = open_page(monkeypatch, small.root, "label")
    assert "Type your name as annotator to start." in texts(app)
    app.selectbox(key="task").set_value("answer-rating").run()
    assert app.selectbox(key="label-dataset").options == ["instruct@v1"]


def test_task_annotator_and_dataset_live_in_the_url(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Choices are written to the URL; a new session (a reload) on that URL starts from them,
    and a task the catalog does not have falls back to the first."""
    ws = small.copy(tmp_path / "ws")
    app = labeller(monkeypatch, ws.root, "quality-1to5", "ana", "web@v1")
    assert dict(app.query_params) == {
        "dataset": "web@v1",
        "task": "quality-1to5",
        "annotator": "ana",
    }
    again = open_page(monkeypatch, ws.root, "label", **dict(app.query_params))
    assert again.selectbox(key="task").value == "quality-1to5"
    assert again.text_input(key="annotator").value == "ana"
    assert "ana: 0 labelled" in again.get("progress")[0].proto.text
    unknown = open_page(monkeypatch, ws.root, "label", task="no-such-task", annotator="ana")
    assert unknown.selectbox(key="task").value == "answer-rating"
    assert unknown.query_params["task"] == "answer-rating"


def test_the_item_shows_its_record_and_model_suggestions(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beside the document: its id, source file and split, and the language identifier's
    suggestion; the other columns are folded away."""
    ws = small.copy(tmp_path / "ws")
    app = labeller(monkeypatch, ws.root, "quality-keep-drop", "ana", "web@v1")
    shown = texts(app)
    assert "**Record**" in shown and "- split: `kept`" in shown and "- source_file:" in shown
    assert "**Model suggestions**" in shown and "- language: `en`" in shown
    assert any(e.label.endswith("more columns") for e in app.expander)


def test_disagreements_show_each_annotators_label(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two annotators who differ on the second item: only that item is listed, with both
    labels."""
    ws = small.copy(tmp_path / "ws")
    ana = labeller(monkeypatch, ws.root, "quality-keep-drop", "ana", "web@v1")
    bo = labeller(monkeypatch, ws.root, "quality-keep-drop", "bo", "web@v1")
    for value_a, value_b in [("keep", "keep"), ("keep", "drop")]:
        ana.button(key=f"choice-{value_a}").click().run()
        bo.button(key=f"choice-{value_b}").click().run()
    ana.run()
    table = next(f.value for f in ana.dataframe if "item_id" in f.value.columns)
    second = records(ws.root, "web@v1", "quality-keep-drop")[2]["item_id"]
    assert table.drop(columns="text").to_dict("records") == [
        {"item_id": second, "ana": "keep", "bo": "drop"}
    ]


def test_export_previews_then_counts_and_offers_a_download(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before writing: the first rows with their class, and the counts; after: the counts the
    manifests record and a download per written dataset, kept through a rerun."""
    ws = small.copy(tmp_path / "ws")
    app = labeller(monkeypatch, ws.root, "quality-keep-drop", "ana", "web@v1")
    app.button(key="choice-keep").click().run()
    app.button(key="choice-drop").click().run()
    preview = next(f.value for f in app.dataframe if "class" in f.value.columns)
    assert preview["class"].tolist() == ["keep", "drop"]
    assert not ws.ws.versions("web-quality-keep-drop-keep")
    app.button(key="export").click().run()
    assert not app.exception, app.exception
    app.run()
    counts = next(f.value for f in app.dataframe if "items_labelled" in f.value.columns)
    assert counts.to_dict("records")[0] | {"split": 0} == {
        "items_labelled": 2,
        "keep": 1,
        "drop": 1,
        "split": 0,
        "unknown_items": 0,
    }
    downloads = [d.proto.label for d in app.get("download_button")]
    assert downloads == [
        "Download web-quality-keep-drop-keep@v1 (JSON lines)",
        "Download web-quality-keep-drop-drop@v1 (JSON lines)",
    ]
    data = jsonl(ws.ws.dataset("web-quality-keep-drop-keep"))()
    (row,) = [json.loads(line) for line in data.splitlines()]
    assert row["id"] == records(ws.root, "web@v1", "quality-keep-drop")[0]["item_id"]
