"""`winnow labels`: tasks, show, agreement and export as a user runs them."""

from __future__ import annotations

import re

import pytest

from tests.cli_helpers import run_cli as run_with_tables
from tests.labels.conftest import keep_drop_store, store_of
from winnow.labels.items import load_items
from winnow.workspace import Workspace


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run `winnow ARGS`, its output with table rules blanked and spaces folded."""
    code, out = run_with_tables(capsys, *args)
    return code, " ".join(re.sub("[\u2500-\u257f]", " ", out).split())


def test_tasks_lists_the_catalog(capsys: pytest.CaptureFixture[str]):
    code, out = run_cli(capsys, "labels", "tasks")
    assert code == 0
    assert "quality-keep-drop" in out and "1=keep, 2=drop" in out
    assert "pairwise" in out and "1=A, 2=B, 3=tie" in out


def test_show_counts_each_annotator_and_names_a_corrupt_file(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
):
    store = keep_drop_store(ws)
    store.undo("carol")
    broken = store.files()[0]
    broken.write_text('{"id": "cut', encoding="utf-8")
    code, out = run_cli(
        capsys, "labels", "show", "web", "-t", "quality-keep-drop", "-w", str(ws.root)
    )
    assert code == 0, out
    assert f"problem: {broken}: unreadable" in out
    assert "web@v1 quality-keep-drop: 14 items" in out
    assert "alice 13 0 0 13 13 (93%)" in out
    assert "bob 14 0 0 14 14 (100%)" in out
    assert "carol 0 0 1 2 0 (0%)" in out


def test_show_on_a_fresh_project_says_so(ws: Workspace, capsys: pytest.CaptureFixture[str]):
    code, out = run_cli(
        capsys, "labels", "show", "instruct", "-t", "answer-rating", "-w", str(ws.root)
    )
    assert (code, out) == (0, "no labels yet for instruct@v1 answer-rating (10 items)")


def test_agreement_prints_kappa_per_pair_and_alpha(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
):
    keep_drop_store(ws)
    code, out = run_cli(
        capsys, "labels", "agreement", "web@v1", "--task", "quality-keep-drop", "-w", str(ws.root)
    )
    assert code == 0, out
    assert "alice / bob 14 0.857" in out
    assert "alice / carol 1 1.000 n/a" in out
    assert "Krippendorff's alpha (nominal)" in out and "over 14 items" in out


def test_export_writes_both_sets_and_says_what_to_run_next(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
):
    keep_drop_store(ws)
    code, out = run_cli(
        capsys,
        "labels", "export", "web", "-t", "quality-keep-drop", "--output", "web-labels",
        "-w", str(ws.root),
    )  # fmt: skip
    assert code == 0, out
    assert "decisions: drop 3, items_labelled 14, keep 10, split 1, unknown_items 0" in out
    assert (
        "wrote web-labels-keep@v1 (10 rows)" in out and "wrote web-labels-drop@v1 (3 rows)" in out
    )
    assert "winnow curate quality train --positive web-labels-keep@v1" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["export", "instruct", "-t", "answer-rating", "--output", "x"],
            "error: task 'answer-rating' (rating) has no export; quality and pairwise tasks do",
        ),
        (
            ["show", "web", "-t", "pairwise"],
            "error: web@v1 is a pretraining dataset but task 'pairwise' labels preference",
        ),
        (["show", "nope", "-t", "pairwise"], "error: no dataset 'nope'"),
        (["agreement", "web", "-t", "nope"], "error: no label task 'nope'"),
        (
            ["export", "web", "-t", "quality-keep-drop", "--output", "x"],
            "error: no item of web@v1 has a majority keep or drop label",
        ),
    ],
)
def test_mistakes_are_one_clear_sentence(
    ws: Workspace, capsys: pytest.CaptureFixture[str], args: list[str], message: str
):
    code, out = run_cli(capsys, "labels", *args, "-w", str(ws.root))
    assert code == 2 and out.startswith(message), out


def test_every_command_has_an_example(capsys: pytest.CaptureFixture[str]):
    for command in ("tasks", "show", "agreement", "export"):
        code, out = run_cli(capsys, "labels", command, "--help")
        assert code == 0 and f"Example: winnow labels {command}" in out


def test_a_pairwise_export_from_the_command(ws: Workspace, capsys: pytest.CaptureFixture[str]):
    store = store_of(ws, "pairs", "pairwise")
    for item in load_items(store.version, store.task, "alice")[:4]:
        store.append(item, "alice", "B")
    code, out = run_cli(
        capsys,
        "labels",
        "export",
        "pairs",
        "-t",
        "pairwise",
        "--output",
        "prefs",
        "-w",
        str(ws.root),
    )
    assert code == 0, out
    assert "wrote prefs@v1 (4 rows)" in out
