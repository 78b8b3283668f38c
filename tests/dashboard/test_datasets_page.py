"""The Datasets page: manifest, lineage links, charts, rows with search, the document view with
a duplicate beside its original, an unreadable dataset shown as one message, and the warning
for a step that removed nearly everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard.helpers import open_page, texts
from tests.workspaces import Small
from winnow.curate.recipes import recipe_from_entries
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source


def test_overview_charts_and_lineage(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counts from the manifest, the funnel and reasons charted, and a child dataset linked
    from its parent and back."""
    ws = small.copy(tmp_path / "ws").ws
    recipe = recipe_from_entries("child", [{"step": "normalize"}], "a child of web")
    run_recipe(ws, recipe, resolve_source("web", workspace=ws), "web-child", RunOptions())
    app = open_page(monkeypatch, ws.root, "datasets", dataset="web@v1")
    assert not app.exception, app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["kept"] == "14" and metrics["rejected"] == "13" and metrics["quarantined"] == "2"
    assert len(app.get("vega_lite_chart")) >= 3
    links = {(link.proto.label, link.proto.query_string) for link in app.get("page_link")}
    assert ("web-child@v1", "dataset=web-child%40v1") in links
    child = open_page(monkeypatch, ws.root, "datasets", dataset="web-child@v1")
    back = {(x.proto.label, x.proto.query_string) for x in child.get("page_link")}
    assert ("web@v1", "dataset=web%40v1") in back


def test_a_step_that_removed_nearly_everything_is_a_warning(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: the page warns, naming the step, its top reason and the share; a dataset
    without such a step shows no warning."""
    ws = small.copy(tmp_path / "ws").ws
    entries = [{"step": "c4", "min_num_sentences": 1000}]
    recipe = recipe_from_entries("strict", entries, "too strict")
    run_recipe(ws, recipe, resolve_source("web", workspace=ws), "web-strict", RunOptions())
    app = open_page(monkeypatch, ws.root, "datasets", dataset="web-strict@v1")
    assert not app.exception, app.exception
    [warning] = [w.value for w in app.warning]
    assert warning.startswith("step 1 (c4) removed 100.0% of the 14 rows that reached it")
    assert "top reason too_few_sentences: 14 rows" in warning
    assert "winnow data head web-strict@v1 --split rejected" in warning
    calm = open_page(monkeypatch, ws.root, "datasets", dataset="web@v1")
    assert not calm.warning


def test_browse_search_and_open_a_duplicate(small: Small, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rejected rows page; a search narrows them; a duplicate opens beside its original."""
    app = open_page(monkeypatch, small.root, "datasets", dataset="web@v1")
    app.radio(key="split").set_value("rejected").run()
    assert len(app.dataframe[0].value) == 13
    app.multiselect(key="values-rejected-reason").set_value(["duplicate"]).run()
    table = app.dataframe[0].value
    assert len(table) == 3 and set(table["step"]) == {"exact_dedup"}
    row = table.iloc[0]
    app.selectbox(key="open-rejected").set_value(row["id"]).run()
    assert not app.exception, app.exception
    shown = texts(app)
    assert "removed by **exact_dedup**: duplicate" in shown
    assert f"**Duplicates** `{row['duplicate_of']}` in web@v1" in shown
    sides = [t.value for t in app.text]
    assert sides[0].split() == sides[1].split()
    app.text_input(key="search-rejected").input("zzzz-nowhere").run()
    assert "No rows match." in texts(app)


def test_unreadable_dataset_is_one_message(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A corrupt shard shows an error naming the dataset; the overview still shows."""
    ws = small.copy(tmp_path / "ws").ws
    shard = next((ws.dataset("web").path / "kept").glob("*.parquet"))
    shard.write_bytes(b"PAR1 broken")
    app = open_page(monkeypatch, ws.root, "datasets", dataset="web@v1")
    assert not app.exception, app.exception
    assert any("web@v1" in e.value for e in app.error)
    assert {m.label for m in app.metric} >= {"kept", "rejected"}


def test_unknown_dataset_in_the_link_opens_the_first(
    small: Small, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query parameter naming no dataset (or a path) is never opened."""
    app = open_page(monkeypatch, small.root, "datasets", dataset="../../etc")
    assert not app.exception, app.exception
    assert app.selectbox(key="dataset").value in {"web@v1", "instruct@v1", "pairs@v1"}


def test_home_counts_the_workspace(small: Small, monkeypatch: pytest.MonkeyPatch) -> None:
    """The home page counts versions and runs and links to every page."""
    app = open_page(monkeypatch, small.root, "home")
    assert not app.exception, app.exception
    assert {m.label: m.value for m in app.metric}["dataset versions"] == "3"
    assert len(app.get("page_link")) == 4
