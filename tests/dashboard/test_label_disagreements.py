"""The Label page's Disagreements tab shows what was judged: each disagreed item's real text,
shortened in the table beside each annotator's label and in full once opened, a pair's chosen
and rejected answers as the labels name them."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.dashboard.helpers import labeller, texts
from tests.workspaces import Small
from winnow.labels.disagreements import PREVIEW
from winnow.labels.items import a_side, as_messages
from winnow.workspace import Workspace


def kept(ws: Workspace, dataset: str) -> list[dict]:
    """The kept rows of a dataset's latest version, in dataset order."""
    return pl.read_parquet(ws.dataset(dataset).split_glob("kept")).to_dicts()


def test_disagreed_documents_show_their_text(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ana and Bo differ on the second and third documents: the table lists both with their
    text cut to a line beside each label, and the open item is the real document in full."""
    ws = small.copy(tmp_path / "ws")
    ana = labeller(monkeypatch, ws.root, "quality-keep-drop", "ana", "web@v1")
    bo = labeller(monkeypatch, ws.root, "quality-keep-drop", "bo", "web@v1")
    for value_a, value_b in [("keep", "keep"), ("keep", "drop"), ("drop", "keep")]:
        ana.button(key=f"choice-{value_a}").click().run()
        bo.button(key=f"choice-{value_b}").click().run()
    ana.run()
    assert not ana.exception, ana.exception
    rows = kept(ws.ws, "web")
    second, third = rows[1], rows[2]
    table = next(f.value for f in ana.dataframe if "item_id" in f.value.columns)
    assert list(table.columns) == ["item_id", "text", "ana", "bo"]
    shown = {r["item_id"]: r for r in table.to_dict("records")}
    assert shown.keys() == {second["id"], third["id"]}
    assert (shown[second["id"]]["ana"], shown[second["id"]]["bo"]) == ("keep", "drop")
    for row in (second, third):
        cut = shown[row["id"]]["text"]
        assert len(cut) <= PREVIEW and "\n" not in cut
        assert " ".join(row["text"].split()).startswith(cut.rstrip("…"))
    opened = ana.selectbox(key="disagreement-open")
    assert opened.options[:2] == [
        f"{second['id']} · ana: keep · bo: drop",
        f"{third['id']} · ana: drop · bo: keep",
    ]
    assert opened.value == second["id"]
    assert second["text"] in [t.value for t in ana.text]
    opened.set_value(third["id"]).run()
    assert third["text"] in [t.value for t in ana.text]
    assert "**ana: drop · bo: keep**" in texts(ana) and "- split: `kept`" in texts(ana)


def test_disagreed_pairs_show_the_prompt_and_both_sides(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ana and Bo prefer different sides of the first pair: it opens with its prompt, then its
    chosen and rejected answers under those names, which is what the table's labels say."""
    ws = small.copy(tmp_path / "ws")
    pair = kept(ws.ws, "pairs")[0]
    ana = labeller(monkeypatch, ws.root, "pairwise", "ana", "pairs@v1")
    ana.button(key="choice-A").click().run()
    preferred = a_side(pair["id"], "ana")
    bo = labeller(monkeypatch, ws.root, "pairwise", "bo", "pairs@v1")
    bo.button(key="choice-B" if a_side(pair["id"], "bo") == preferred else "choice-A").click().run()
    ana.run()
    assert not ana.exception, ana.exception
    table = next(f.value for f in ana.dataframe if "item_id" in f.value.columns)
    other = "rejected" if preferred == "chosen" else "chosen"
    assert table.to_dict("records")[0] | {"text": ""} == {
        "item_id": pair["id"],
        "text": "",
        "ana": preferred,
        "bo": other,
    }
    shown = [t.value for t in ana.text]
    assert as_messages(pair["prompt"])[-1]["content"] in shown
    assert as_messages(pair["chosen"])[-1]["content"] in shown
    assert as_messages(pair["rejected"])[-1]["content"] in shown
    assert {"**chosen**", "**rejected**"} <= {m.value for m in ana.markdown}
