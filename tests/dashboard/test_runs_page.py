"""The Runs page: a run at its own address, its datasets, base run, later runs and evals as
links, its results, loss curve and config; an eval run linked to its model's run; and the
Datasets page's links from a dataset to the runs trained on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.helpers import open_page, texts
from tests.workspaces import Small


def summary(record: dict[str, Any]) -> dict[str, Any]:
    """What a later run records of this one (winnow.train.runs.run_summary)."""
    return {k: record[k] for k in ("name", "method", "inputs", "base", "status")}


def inputs(ref: str, kind: str) -> list[dict[str, Any]]:
    """A run's inputs as `winnow train` records them."""
    name, version = ref.split("@")
    return [{"name": name, "version": version, "ref": ref, "kind": kind, "rows": 14}]


def write_run(root: Path, record: dict[str, Any], losses: list[float] = ()) -> dict[str, Any]:
    """runs/NAME/run.json, and metrics.jsonl with one logged loss per 5 steps."""
    folder = root / "runs" / record["name"]
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(record))
    lines = [json.dumps({"step": 5 * (i + 1), "loss": v}) for i, v in enumerate(losses)]
    (folder / "metrics.jsonl").write_text("".join(f"{line}\n" for line in lines))
    return record


def plant_runs(root: Path) -> None:
    """base (pretrain on web@v1 from tiny) -> sft (on instruct@v1), and an eval of each."""
    tiny = {"kind": "tiny", "ref": "tiny", "path": "", "gguf_file": None, "run": None}
    base = write_run(
        root,
        {
            "name": "base",
            "method": "pretrain",
            "status": "completed",
            "created_at": "2026-01-01T00:00:00+00:00",
            "finished_at": "2026-01-01T00:01:00+00:00",
            "config": {"max_steps": 30, "learning_rate": 0.0005},
            "inputs": inputs("web@v1", "pretraining"),
            "base": tiny,
            "device": {"name": "cpu", "count": 1},
            "results": {"train_loss": 6.5, "eval_loss": 6.4},
        },
        [6.9, 6.7, 6.5],
    )
    on_base = {"kind": "run", "ref": "base", "path": "runs/base/model", "run": summary(base)}
    sft = write_run(
        root,
        {
            "name": "sft",
            "method": "sft",
            "status": "completed",
            "config": {"max_steps": 10},
            "inputs": inputs("instruct@v1", "instruction"),
            "base": on_base,
            "results": {"train_loss": 2.5},
        },
        [3.0, 2.5],
    )
    for name, model in (("eval-base", on_base), ("eval-sft", {**on_base, "ref": "sft"})):
        run = summary(sft) if name == "eval-sft" else summary(base)
        write_run(
            root,
            {
                "name": name,
                "method": "evaluate",
                "status": "completed",
                "model": {**model, "run": run},
                "tasks": {"arc_easy": {}},
            },
        )


@pytest.fixture()
def with_runs(small: Small, tmp_path: Path) -> Path:
    """A copy of the small workspace with two training runs and two eval runs."""
    root = small.copy(tmp_path / "ws").root
    plant_runs(root)
    return root


def links(app) -> set[tuple[str, str]]:  # noqa: ANN001 - AppTest
    """(label, query string) of every page link."""
    return {(x.proto.label, x.proto.query_string) for x in app.get("page_link")}


def test_a_training_run_links_both_ways(with_runs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sft: its dataset and base run upstream, its eval downstream, results, loss and config."""
    app = open_page(monkeypatch, with_runs, "runs", run="sft")
    assert not app.exception, app.exception
    assert app.selectbox(key="run").value == "sft"
    found = links(app)
    assert ("instruct@v1", "dataset=instruct%40v1") in found
    assert ("run base", "run=base") in found
    assert ("eval eval-sft", "runs=eval-sft") in found
    assert ("eval eval-base", "runs=eval-base") not in found
    assert {m.label: m.value for m in app.metric}["train_loss"] == "2.5"
    assert len(app.get("vega_lite_chart")) == 1
    assert "max_steps" in app.dataframe[0].value["key"].to_list()
    base = open_page(monkeypatch, with_runs, "runs", run="base")
    found = links(base)
    assert ("run sft", "run=sft") in found and ("web@v1", "dataset=web%40v1") in found
    assert "tiny tiny" in texts(base)


def test_an_eval_run_links_to_its_model_and_the_evals_page(
    with_runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """eval-sft: the run it scored, the datasets behind it through the base, the Evals page."""
    app = open_page(monkeypatch, with_runs, "runs", run="eval-sft")
    assert not app.exception, app.exception
    found = links(app)
    assert ("run sft", "run=sft") in found
    assert {"instruct@v1", "web@v1"} <= {label for label, _ in found}
    assert any(q == "runs=eval-sft" and "Evals page" in label for label, q in found)


def test_the_address_switches_the_run(with_runs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A link to the same page with another run opens it; a choice by hand goes in the URL."""
    app = open_page(monkeypatch, with_runs, "runs", run="sft")
    app.query_params["run"] = "base"
    app.run()
    assert app.selectbox(key="run").value == "base"
    app.selectbox(key="run").set_value("eval-base").run()
    assert app.query_params["run"] == "eval-base"
    unknown = open_page(monkeypatch, with_runs, "runs", run="../../etc")
    assert not unknown.exception and unknown.selectbox(key="run").value in {"base", "sft"}


def test_a_dataset_links_to_the_runs_trained_on_it(
    with_runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """web@v1 names run base and, under it, the eval of base's model."""
    app = open_page(monkeypatch, with_runs, "datasets", dataset="web@v1")
    assert not app.exception, app.exception
    found = links(app)
    assert ("run base (pretrain)", "run=base") in found
    assert ("↳ eval eval-base", "runs=eval-base") in found


def test_no_runs_is_one_message(small: Small, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty runs folder says how to make a run."""
    app = open_page(monkeypatch, small.root, "runs")
    assert not app.exception, app.exception
    assert "winnow train pretrain" in texts(app)
