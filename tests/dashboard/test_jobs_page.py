"""The Jobs page: a curation job started from the form runs as its own process, shows in the
history with its log, and a bad parameter is one message with nothing started."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard.helpers import open_page
from tests.jobs.conftest import wait_for
from tests.workspaces import Small
from winnow.jobs import list_jobs
from winnow.jobs.logs import log_tail


def test_start_a_curation_job_and_follow_it(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start `demo` on the web dataset from the form; it completes in its own process, the
    history lists it, and its detail shows the log."""
    ws = small.copy(tmp_path / "ws").ws
    app = open_page(monkeypatch, ws.root, "jobs")
    app.selectbox(key="job-recipe").set_value("demo")
    app.selectbox(key="job-source").set_value("web")
    app.text_input(key="job-output").input("web-again")
    app.button[0].click().run()
    assert not app.exception, app.exception
    assert any("started" in s.value for s in app.success)
    (job,) = list_jobs(ws)
    finished = wait_for(job, lambda j: j.status == "completed", "completed")
    assert ws.dataset("web-again").manifest["counts"]["kept"] == 14
    app.run()
    table = app.dataframe[0].value
    assert table["status"][0] == "completed" and table["id"][0] == finished.id
    command = app.caption[0].value
    assert command == " ".join(finished.record["argv"][2:])
    assert command.startswith("winnow curate run demo") and "--output web-again" in command
    log = app.code[0].value
    assert log.strip("\n") == log_tail(finished, 40).strip("\n")
    assert "web-again@v1: steps" in log and "normalize" in log


def test_bad_parameter_is_one_message_and_starts_nothing(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source outside the workspace is refused on the page; no job folder is written."""
    ws = small.copy(tmp_path / "ws").ws
    app = open_page(monkeypatch, ws.root, "jobs")
    app.selectbox(key="job-recipe").set_value("demo")
    app.text_input(key="job-source-path").input("../../etc/passwd")
    app.text_input(key="job-output").input("escape")
    app.button[0].click().run()
    assert not app.exception, app.exception
    assert any("source" in e.value for e in app.error)
    assert not list_jobs(ws)
