"""The Evals page in Streamlit's AppTest on planted runs: every eval run chosen by default and
written to the URL, `?runs=` preselecting a comparison, the compact comparison table, flipped
documents in words, and loss curves with a legend, one scale per kind of loss and whole-number
step ticks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dashboard.eval_runs import plant_all
from tests.dashboard.helpers import open_page, texts


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    """A workspace holding three eval runs and one training run."""
    plant_all(tmp_path)
    return tmp_path


def frame_with(app, column: str):  # noqa: ANN001, ANN201 - AppTest, pandas
    """The first table on the page that has this column."""
    return next(d.value for d in app.dataframe if column in d.value.columns)


def charts(app) -> list[dict]:  # noqa: ANN001 - AppTest
    """The Vega-Lite specs of the page's charts."""
    return [json.loads(c.proto.spec) for c in app.get("vega_lite_chart")]


def test_every_eval_run_is_compared_by_default_and_goes_into_the_url(
    monkeypatch: pytest.MonkeyPatch, root: Path
) -> None:
    """No `runs=`: all three runs, oldest (the baseline) first, and the URL names them; the
    table has one row per later run with delta, p and verdict, no stderr or interval."""
    app = open_page(monkeypatch, root, "evals")
    assert not app.exception and not app.error
    assert app.multiselect(key="runs").value == ["base", "tuned", "again"]
    assert app.query_params["runs"] == "base,tuned,again"
    table = app.dataframe[0].value
    assert list(table.columns) == [
        "task", "metric", "run", "baseline", "score", "delta", "p", "significant",
    ]  # fmt: skip
    assert table["run"].tolist() == ["tuned", "again"]
    assert table["delta"].round(2).tolist() == [0.45, 0.45] and table["significant"].all()


def test_runs_in_the_url_preselect_the_comparison(
    monkeypatch: pytest.MonkeyPatch, root: Path
) -> None:
    """`?runs=again,base,nosuch` opens again against base; the unknown name is dropped, and a
    new choice is written back."""
    app = open_page(monkeypatch, root, "evals", runs="again,base,nosuch")
    assert app.multiselect(key="runs").value == ["again", "base"]
    assert app.dataframe[0].value["run"].tolist() == ["base"]
    app.multiselect(key="runs").unselect("base").run()
    assert app.query_params["runs"] == "again"
    assert "Choose two eval runs or more" in texts(app)


def test_flips_show_the_question_and_answers_in_words(
    monkeypatch: pytest.MonkeyPatch, root: Path
) -> None:
    """Base against tuned: 10 gained and 1 lost; the flipped documents name the question, the
    right answer and each run's choice as text, not log-likelihoods or a target index."""
    app = open_page(monkeypatch, root, "evals", runs="base,tuned")
    counts = frame_with(app, "gained")
    assert counts[["gained", "lost"]].values.tolist() == [[10, 1]]
    docs = frame_with(app, "question")
    first = docs[docs["doc_id"] == 1].iloc[0]
    assert first["question"].endswith("Which gas do plants take in for photosynthesis?\nAnswer:")
    assert first["answer"] == "carbon dioxide" and first["tuned chose"] == "carbon dioxide"
    assert first["base chose"] == "helium"
    lost = docs[docs["change"] == "lost"].iloc[0]
    assert lost["base chose"] == lost["answer"] != lost["tuned chose"]
    shown = texts(app)
    assert "carbon dioxide — *right answer, tuned chose*" in shown
    assert "helium — *base chose*" in shown and "-1.0" not in shown


def test_charts_say_what_they_show(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Flip counts and training steps get whole-number ticks; training loss and eval loss get a
    chart (a scale) each, with a legend of runs and axis titles."""
    specs = charts(open_page(monkeypatch, root, "evals"))
    losses = {s["title"]: s["encoding"] for s in specs if s.get("title")}
    assert set(losses) == {"training loss", "eval loss"}
    for title, encoding in losses.items():
        assert encoding["x"]["title"] == "training step"
        assert encoding["x"]["axis"]["tickMinStep"] == 1
        assert encoding["y"]["title"].startswith(title)
        assert encoding["color"]["title"] == "training run"
    offset = {"field": "change", "type": "nominal"}
    flips = next(s for s in specs if s.get("encoding", {}).get("xOffset") == offset)
    assert flips["encoding"]["y"]["axis"] == {"format": "d", "tickMinStep": 1}
    assert flips["encoding"]["y"]["title"] == "documents flipped"
