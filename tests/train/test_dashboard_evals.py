"""The dashboard's Evals page on the lab's two eval runs and its training runs."""

from __future__ import annotations

import pytest

from tests.dashboard.helpers import open_page, texts
from tests.train.conftest import Lab


def test_evals_page_compares_runs_and_traces_the_model(
    scored: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both runs in the table with deltas and their paired tests, the few-shot difference
    warned, flips of each 0/1 metric listed per document, the model traced to its training
    dataset, and the base run's loss curve."""
    app = open_page(monkeypatch, scored.root, "evals", run="ev-a")
    app.multiselect(key="runs").set_value(["ev-a", "ev-b"]).run()
    assert not app.exception, app.exception
    compact = app.dataframe[0].value  # fits the window (p: Holm-adjusted); the rest is below
    assert list(compact.columns) == [
        "task", "metric", "run", "baseline", "score", "delta", "p", "significant"
    ]  # fmt: skip
    table = next(f.value for f in app.dataframe if "value:ev-a" in f.value.columns)
    tested = {f"{c}:ev-b" for c in ("delta", "low", "high", "p", "p_adjusted", "significant")}
    assert {"value:ev-a", "value:ev-b"} | tested <= set(table.columns)
    arc = table[(table["task"] == "winnow_arc_easy") & (table["metric"] == "acc")].iloc[0]
    assert arc["test:ev-b"] == "mcnemar" and arc["documents:ev-b"] == 8
    assert arc["low:ev-b"] <= arc["delta:ev-b"] <= arc["high:ev-b"]
    assert "winnow_arc_easy" in set(table["task"])
    shown = texts(app)
    assert "differs: num_fewshot" in shown
    assert "ev-a [limit 8], ev-b [limit 8]: scored on a subset of each task (--limit)" in shown
    best = next(f.value for f in app.dataframe if "best run" in f.value.columns)
    assert set(best["best run"]) <= {"ev-a", "ev-b", "tie"} and len(best)
    assert not set(best["metric"]) & {"answered_yes", "truth_yes"}
    assert f"run {scored.base} (pretrain) trained on:" in shown
    links = {(link.proto.label, link.proto.query_string) for link in app.get("page_link")}
    assert (f"{scored.text}@v1", f"dataset={scored.text}%40v1") in links
    frames = [frame.value for frame in app.dataframe]
    counts = next(f for f in frames if {"gained", "lost"} <= set(f.columns))
    listed = next(f for f in frames if "change" in f.columns)
    task = app.selectbox(key="flip-task").value
    metric, _ = app.selectbox(key="flip-metric").value
    assert set(counts[counts["task"] == "winnow_arc_easy"]["metric"]) == {"acc", "acc_norm"}
    row = counts[(counts["task"] == task) & (counts["metric"] == metric)].iloc[0]
    assert len(listed) == row["gained"] + row["lost"]
    assert set(listed["change"]) <= {"gained", "lost"}
    assert all(listed["question"].str.len() > 0) and all(listed["answer"].str.len() > 0)
    assert app.multiselect(key="loss-runs").value
    assert app.get("vega_lite_chart")


def test_evals_page_shows_a_broken_run_and_keeps_working(
    scored: Lab, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """An eval run whose scores file is corrupt gets one message; the other still shows."""
    import shutil

    root = tmp_path_factory.mktemp("broken") / "workspace"
    shutil.copytree(scored.root, root)
    (root / "runs" / "ev-b" / "scores.parquet").write_bytes(b"not parquet")
    app = open_page(monkeypatch, root, "evals")
    app.multiselect(key="runs").set_value(["ev-a", "ev-b"]).run()
    assert not app.exception, app.exception
    assert any("eval run ev-b" in e.value for e in app.error)
    assert any("value:ev-a" in f.value.columns for f in app.dataframe)
