"""The Datasets page: manifest, lineage links, charts, rows with search, the document view with
a duplicate beside its original, an unreadable dataset shown as one message, and the warning
for a step that removed nearly everything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dashboard.helpers import open_page, texts
from tests.workspaces import Small
from winnow.curate.recipes import recipe_from_entries
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.dashboard import marks
from winnow.dashboard.common import PAGES


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
    app.query_params["row"] = row["id"]
    app.run()
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
    targets = {link.proto.page for link in app.get("page_link")}
    assert targets == set(PAGES) - {"home"}


def test_a_link_to_another_dataset_switches_the_page(
    small: Small, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same page with another `dataset=` opens it (a keyed selectbox kept the old one);
    a choice by hand goes into the URL."""
    app = open_page(monkeypatch, small.root, "datasets", dataset="web@v1")
    app.query_params["dataset"] = "instruct@v1"
    app.run()
    assert app.selectbox(key="dataset").value == "instruct@v1"
    assert {m.label: m.value for m in app.metric}["kind"] == "instruct"
    app.selectbox(key="dataset").set_value("pairs@v1").run()
    assert app.query_params["dataset"] == "pairs@v1"


def test_an_open_row_is_in_the_url_with_its_reason_in_numbers(
    small: Small, monkeypatch: pytest.MonkeyPatch
) -> None:
    """row= opens the row (a reload or a shared link); the removal shows the measured value
    against the recipe's threshold; a search's matches are marked in the text."""
    app = open_page(
        monkeypatch,
        small.root,
        "datasets",
        dataset="web@v1",
        split="rejected",
        row="demo-boiler-short",
    )
    assert not app.exception, app.exception
    assert app.radio(key="split").value == "rejected"
    [error] = [e.value for e in app.error]
    assert error == ("removed by **gopher_repetition**: top_2_gram — top_2_gram_frac 0.42 > 0.20")
    assert app.query_params["row"] == "demo-boiler-short"
    app.text_input(key="search-rejected").input("SUBSCRIBE").run()
    assert "to <mark>subscribe</mark>!" in app.get("html")[0].proto.body
    app.radio(key="split").set_value("kept").run()
    assert "row" not in app.query_params


def test_a_near_duplicate_shows_its_similarity_and_a_word_diff(
    small: Small, monkeypatch: pytest.MonkeyPatch
) -> None:
    """demo-near-bees: Jaccard similarity with demo-bees above minhash's 0.80, and a diff."""
    app = open_page(
        monkeypatch,
        small.root,
        "datasets",
        dataset="web@v1",
        split="rejected",
        row="demo-near-bees",
    )
    assert not app.exception, app.exception
    assert "**Jaccard similarity 0.84**" in texts(app)
    assert "at 0.80 or more" in texts(app)
    diff = app.get("html")[0].proto.body
    assert "<del" in diff and "<ins" in diff


def test_column_statistics_and_charts(small: Small, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each column's min, mean, max, nulls and histogram, text columns' top values; counts on
    whole-number ticks, step names whole, counts on the funnel's bars."""
    app = open_page(monkeypatch, small.root, "datasets", dataset="web@v1")
    [table] = [d.value for d in app.dataframe if "histogram" in d.value.columns]
    stats = table.set_index("column")
    assert stats.loc["language", "top values"].startswith("en (")
    assert stats.loc["language_score", "nulls"] == 0
    assert sum(stats.loc["language_score", "histogram"]) == 14
    assert stats.loc["text", "measure"] == "length"
    funnel = json.loads(app.get("vega_lite_chart")[0].proto.spec)
    layers = funnel["layer"]
    assert {layer["mark"]["type"] for layer in layers} == {"bar", "text"}
    axis = layers[0]["encoding"]
    assert axis["x"]["axis"]["format"] == "d" and axis["y"]["axis"]["labelLimit"] == 0
    assert axis["x"]["title"] == "rows kept after the step"


def test_marks_escape_and_diff() -> None:
    """Markup in a row stays text; the diff strikes the words that changed."""
    shown = marks.highlighted("<b>hi</b> Hi", "hi")
    assert (
        "&lt;<mark>b</mark>&gt;" not in shown
        and "<mark>hi</mark>&lt;/b&gt; <mark>Hi</mark>" in shown
    )
    diff = marks.word_diff("the old cat", "the new cat")
    assert ">old</del>" in diff and ">new</ins>" in diff and "the " in diff
