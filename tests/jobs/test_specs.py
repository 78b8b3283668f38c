"""Job specs: every parameter checked before a process starts, argv never a shell string, paths
kept inside the workspace or the data root."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from winnow.errors import WinnowError
from winnow.files import write_json
from winnow.jobs import JobSpec, available, launch, list_jobs
from winnow.jobs.store import jobs_dir
from winnow.workspace import Workspace

CURATE = {"recipe": "demo", "source": "web", "output": "web-clean"}


def fake_run(ws: Workspace, name: str, method: str = "sft") -> None:
    """A run folder with a finished model/, enough for the checks (nothing loads it)."""
    (ws.root / "runs" / name / "model").mkdir(parents=True)
    write_json({"name": name, "method": method}, ws.root / "runs" / name / "run.json")


def argv(ws: Workspace, kind: str, **params: object) -> list[str]:
    """The winnow arguments of a spec, checked against the interpreter and workspace ends."""
    full = JobSpec(kind, params).argv(ws)  # type: ignore[arg-type]
    assert full[:3] == [sys.executable, "-m", "winnow"]
    assert full[-2:] == ["--workspace", str(ws.root)]
    return full[3:-2]


def test_curate_sources(ws: Workspace, shared_data: Path) -> None:
    """A dataset, a catalog source, and paths inside the workspace or data root (absolute)."""
    assert argv(ws, "curate", **CURATE) == [
        "curate",
        "run",
        "demo",
        "--source",
        "web",
        "--output",
        "web-clean",
    ]
    assert argv(ws, "curate", **{**CURATE, "source": "web@v1"})[4] == "web@v1"
    assert argv(ws, "curate", **{**CURATE, "source": "web-sample"})[4] == "web-sample"
    (ws.root / "raw").mkdir()
    (ws.root / "raw" / "a.jsonl").write_text('{"text": "hi"}\n', encoding="utf-8")
    inside = argv(ws, "curate", **{**CURATE, "source": "raw/a.jsonl"})[4]
    assert inside == os.path.realpath(ws.root / "raw" / "a.jsonl")
    data = shared_data / "web"
    assert argv(ws, "curate", **{**CURATE, "source": str(data)})[4] == os.path.realpath(data)


def test_train_and_evaluate_argv(ws: Workspace) -> None:
    """Parameters map to the real options; numbers are normalised; empty fields are skipped."""
    fake_run(ws, "sft1")
    fake_run(ws, "rm", "reward")
    assert argv(
        ws,
        "train",
        method="pretrain",
        data="web",
        output="base",
        config="pretrain-tiny",
        max_steps="20",
        epochs="",
        learning_rate=1e-3,
        base="",
    ) == [
        "train",
        "pretrain",
        "--data",
        "web",
        "--output",
        "base",
        "--config",
        "pretrain-tiny",
        "--max-steps",
        "20",
        "--learning-rate",
        "0.001",
    ]
    by_epochs = argv(ws, "train", method="sft", data="instruct", output="e", epochs="0.5")
    assert by_epochs == ["train", "sft", "--data", "instruct", "--output", "e", "--epochs", "0.5"]
    sample = argv(
        ws, "train", method="sample", data="instruct", output="bon", base="sft1", reward="rm", n=4
    )
    assert sample == [
        "train",
        "sample",
        "--prompts",
        "instruct",
        "--output",
        "bon",
        "--policy",
        "sft1",
        "--reward",
        "rm",
        "--n",
        "4",
    ]
    assert argv(ws, "evaluate", model="sft1", suite="core", limit="0.5") == [
        "evaluate",
        "--model",
        "sft1",
        "--suite",
        "core",
        "--limit",
        "0.5",
    ]
    tasks = argv(ws, "evaluate", model="sft1", tasks="winnow_arc_easy, winnow_piqa", limit=20)
    assert tasks[3:] == ["--tasks", "winnow_arc_easy,winnow_piqa", "--limit", "20"]


BAD = [
    ("curate", {**CURATE, "source": "../../etc/passwd"}, "source", "inside the workspace"),
    ("curate", {**CURATE, "source": "/etc/passwd"}, "source", "inside the workspace"),
    ("curate", {**CURATE, "source": "link/passwd"}, "source", "inside the workspace"),
    ("curate", {**CURATE, "source": "raw/*.jsonl"}, "source", "not a glob"),
    ("curate", {**CURATE, "source": "HuggingFaceFW/fineweb"}, "source", "existing file"),
    ("curate", {**CURATE, "recipe": "nope"}, "recipe", "one of the recipes"),
    ("curate", {**CURATE, "recipe": "../demo"}, "recipe", "one of the recipes"),
    ("curate", {**CURATE, "output": "../x"}, "output", "a name of letters"),
    ("curate", {**CURATE, "output": "--help"}, "output", "a name of letters"),
    ("curate", {**CURATE, "output": "a;rm -rf ~"}, "output", "a name of letters"),
    ("curate", {"recipe": "demo", "source": "web"}, "output", "is missing"),
    ("curate", {**CURATE, "strict": "1"}, "strict", "not one a curate run job takes"),
    (
        "train",
        {"method": "pretrain", "data": "web", "output": "b", "max_steps": "ten"},
        "max_steps",
        "whole number",
    ),
    (
        "train",
        {"method": "pretrain", "data": "web", "output": "b", "max_steps": 1.5},
        "max_steps",
        "whole number",
    ),
    (
        "train",
        {"method": "pretrain", "data": "web", "output": "b", "max_steps": "0"},
        "max_steps",
        "whole number",
    ),
    (
        "train",
        {"method": "sft", "data": "web", "output": "b", "learning_rate": "fast"},
        "learning_rate",
        "above 0",
    ),
    (
        "train",
        {"method": "sft", "data": "web", "output": "b", "config": "pretrain-tiny"},
        "config",
        "entries for sft",
    ),
    ("train", {"method": "sft", "data": "web@v7", "output": "b"}, "data", "a version of 'web'"),
    ("train", {"method": "sft", "data": "nothing", "output": "b"}, "data", "a dataset of"),
    (
        "train",
        {"method": "sft", "data": "web", "output": "b", "base": "/tmp/model"},
        "base",
        "a run with a model",
    ),
    ("train", {"method": "magic", "data": "web", "output": "b"}, "method", "training methods"),
    ("train", {"data": "web", "output": "b"}, "method", "is missing"),
    ("evaluate", {"model": "ghost", "suite": "core"}, "model", "a run with a model"),
    ("evaluate", {"model": "m", "suite": "everything"}, "suite", "eval suites"),
    ("evaluate", {"model": "m", "tasks": "winnow_arc_easy,import os"}, "tasks", "drop 'import"),
    ("evaluate", {"model": "m", "suite": "core", "tasks": "winnow_piqa"}, "suite", "exactly one"),
    ("evaluate", {"model": "m", "suite": "core", "limit": "-1"}, "limit", "documents per task"),
    ("evaluate", {"model": "m", "suite": "core", "output": "m"}, "output", "a new run name"),
    ("shell", {"command": "ls"}, "kind", "job kinds"),
]


@pytest.mark.parametrize(("kind", "params", "key", "expected"), BAD)
def test_invalid_starts_nothing(
    ws: Workspace, kind: str, params: dict[str, object], key: str, expected: str
) -> None:
    """A bad value is one sentence naming the parameter and what was expected; no job folder
    is written and no process starts."""
    fake_run(ws, "m")
    (ws.root / "raw").mkdir()
    (ws.root / "link").symlink_to("/etc")
    with pytest.raises(WinnowError, match=f"parameter[s]? '{key}'") as caught:
        launch(ws, JobSpec(kind, params))  # type: ignore[arg-type]
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message and message.endswith(".")
    assert list_jobs(ws) == []
    assert not jobs_dir(ws).exists()


def test_parse_key_values() -> None:
    """`--param key=value` pairs; a pair without '=' is refused with an example."""
    spec = JobSpec.parse("curate", ["recipe=demo", "source=web", "output=a=b"])
    assert spec.params == {"recipe": "demo", "source": "web", "output": "a=b"}
    with pytest.raises(WinnowError, match="--param 'recipe' is not KEY=VALUE"):
        JobSpec.parse("curate", ["recipe"])


def test_available(ws: Workspace) -> None:
    """What the page can offer comes from the catalogs and the workspace."""
    fake_run(ws, "sft1")
    (ws.root / "runs" / "broken").mkdir()
    offer = available(ws)
    assert "demo" in offer.recipes and "web-sample" in offer.sources
    assert offer.datasets == {"instruct": ["v1"], "pairs": ["v1"], "web": ["v1"]}
    assert offer.job_configs["pretrain-tiny"] == "pretrain"
    assert "core" in offer.suites and "winnow_arc_easy" in offer.tasks
    assert offer.models == ["sft1"] and offer.runs == ["sft1"]
    assert "sample" in offer.methods
