"""The Jobs page: a curation job started from the form runs as its own process, shows in the
history with its log and is opened at once (also in the URL); the table and the detail read one
state; a bad parameter is one message with nothing started; the limit of jobs at once is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard.helpers import open_page
from tests.jobs.conftest import wait_for
from tests.workspaces import Small
from winnow.files import read_json
from winnow.jobs import JobSpec, list_jobs, read_job
from winnow.jobs.logs import log_tail
from winnow.jobs.queue import SETTINGS
from winnow.jobs.store import create_job, jobs_dir, now, update_job
from winnow.workspace import Workspace

TINY = {"recipe": "demo", "source": "web", "output": "web-again"}
"""Fourteen rows: done in seconds."""


def finished_job(ws: Workspace) -> str:
    """A completed job's record (no process), so the page has a job open before a new one."""
    job = create_job(ws, JobSpec("curate", TINY | {"output": "earlier"}))
    update_job(job.path, status="completed", started_at=now(), finished_at=now(), returncode=0)
    return job.id


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
    command = next(c.value for c in app.caption if c.value.startswith("winnow"))
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


def test_a_started_job_is_opened_and_its_table_row_matches_its_detail(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an older job open, Start opens the new one (selectbox and `job=` in the URL) with its
    Cancel button; once it ends, its table row and its detail show the same status."""
    ws = small.copy(tmp_path / "ws").ws
    older = finished_job(ws)
    app = open_page(monkeypatch, ws.root, "jobs")
    assert app.selectbox(key="job-open").value == older
    app.selectbox(key="job-recipe").set_value("demo")
    app.selectbox(key="job-source").set_value("web")
    app.text_input(key="job-output").input("web-again")
    app.button[0].click().run()
    assert not app.exception, app.exception
    new = next(j for j in list_jobs(ws) if j.id != older)
    assert app.selectbox(key="job-open").value == new.id
    assert app.query_params["job"] == new.id
    assert app.button(key=f"cancel-{new.id}") is not None
    wait_for(new, lambda j: j.finished, "finished")
    app.run()
    table = app.dataframe[0].value
    status = dict(zip(table["id"], table["status"], strict=True))[new.id]
    shown = next(m.value for m in app.markdown if m.value.startswith(f"**{new.id}**"))
    assert shown.endswith(f"**{status}**") and status == read_job(new.path).status


def test_a_job_in_the_url_is_opened(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/jobs?job=ID` opens that job, not the newest."""
    ws = small.copy(tmp_path / "ws").ws
    older = finished_job(ws)
    finished_job(ws)
    app = open_page(monkeypatch, ws.root, "jobs", job=older)
    assert not app.exception, app.exception
    assert app.selectbox(key="job-open").value == older
    assert any(m.value.startswith(f"**{older}**") for m in app.markdown)


def test_the_limit_of_jobs_at_once_is_kept_for_the_supervisors(
    small: Small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changing "Jobs at once" writes the workspace's queue setting the supervisors read."""
    ws = small.copy(tmp_path / "ws").ws
    app = open_page(monkeypatch, ws.root, "jobs")
    app.number_input(key="job-limit").set_value(3).run()
    assert not app.exception, app.exception
    assert read_json(jobs_dir(ws) / SETTINGS) == {"max_jobs": 3}
