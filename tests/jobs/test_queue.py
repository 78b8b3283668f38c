"""The job queue and a cancel's clean-up as real processes: a job over the limit waits as
queued and starts when the slot frees; a job cancelled while queued never runs; a cancelled
curation job's own staging folder goes, while an older one and another live run's stay."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.jobs.conftest import wait_for
from winnow.errors import WinnowError
from winnow.jobs import JobSpec, cancel, launch, read_job
from winnow.jobs.queue import MAX_JOBS_ENV, SETTING, default_limit, max_jobs, set_max_jobs
from winnow.jobs.staging import clean_staging
from winnow.jobs.store import create_job
from winnow.workspace import Workspace

SLOW = {"recipe": "demo", "source": "shared-korean-comments", "output": "ko"}
"""Several seconds of curation: long enough to hold the only slot or to be cancelled."""

TINY = {"recipe": "demo", "source": "web", "output": "web-again"}
"""Fourteen rows: a job that completes in a few seconds."""


def test_a_job_over_the_limit_waits_queued_then_runs(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one slot, the second job stays queued (its supervisor waiting, no command) while
    the first runs, and starts by itself once the first is cancelled."""
    monkeypatch.setenv(MAX_JOBS_ENV, "1")
    first = wait_for(launch(ws, JobSpec("curate", SLOW)), lambda j: j.status == "running", "up")
    second = wait_for(
        launch(ws, JobSpec("curate", TINY)), lambda j: j.record["pid"] is not None, "waiting"
    )
    time.sleep(1.0)
    second = read_job(second.path)
    assert second.status == "queued" and second.record["child_pid"] is None
    assert second.time("started_at") is None and not second.log_path.exists()
    cancel(first)
    second = wait_for(second, lambda j: j.finished, "finished")
    assert second.status == "completed", second.error
    first = read_job(first.path)
    assert first.status == "cancelled"
    assert second.time("started_at") >= first.time("finished_at")


def test_cancel_while_queued_never_runs_the_command(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queued job cancelled while it waits ends cancelled without a log or a child."""
    monkeypatch.setenv(MAX_JOBS_ENV, "1")
    running = wait_for(launch(ws, JobSpec("curate", SLOW)), lambda j: j.status == "running", "up")
    queued = wait_for(
        launch(ws, JobSpec("curate", TINY)), lambda j: j.record["pid"] is not None, "waiting"
    )
    assert "before its command starts" in cancel(queued)
    queued = wait_for(queued, lambda j: j.finished, "finished")
    assert queued.status == "cancelled" and queued.record["child_pid"] is None
    assert not queued.log_path.exists()
    cancel(running)
    wait_for(running, lambda j: j.finished, "finished")


def test_cancel_removes_only_the_jobs_own_staging_folder(ws: Workspace) -> None:
    """The staging folder the cancelled run made is gone; one left by an earlier run (which
    `curate run` could resume) is untouched, and no version was written."""
    earlier = ws.datasets_dir / "ko" / ".staging-earlier"
    earlier.mkdir(parents=True)
    (earlier / "read.json").write_text("{}")
    job = launch(ws, JobSpec("curate", SLOW))
    folder = ws.datasets_dir / "ko"
    wait_for(job, lambda j: len(list(folder.glob(".staging-*"))) == 2, "staging")
    cancel(job)
    job = wait_for(job, lambda j: j.finished, "finished")
    assert job.status == "cancelled"
    (own,) = job.record["cleaned"]
    assert not (folder / own).exists() and own.startswith(str(folder / ".staging-"))
    assert sorted(p.name for p in folder.iterdir()) == [".staging-earlier"]
    assert (earlier / "read.json").read_text() == "{}"


def test_staging_of_another_live_run_is_left(ws: Workspace) -> None:
    """Nothing is removed while another job is queued for the same dataset, or while a live
    process curates into it."""
    folder = ws.datasets_dir / "ko" / ".staging-abc"
    folder.mkdir(parents=True)
    record = {"kind": "curate", "params": SLOW, "staging_before": []}
    other = create_job(ws, JobSpec("curate", SLOW))
    assert clean_staging(ws, "20260101-000000-0000", record) == []
    cancel(other)
    subprocess.run([sys.executable, "-m", "winnow.jobs.supervise", str(other.path)], check=True)
    wait_for(other, lambda j: j.finished, "finished")
    argv = [sys.executable, "-c", "import time; time.sleep(60)", "curate", "--output", "ko"]
    with subprocess.Popen(argv) as live:
        try:
            while b"curate" not in Path(f"/proc/{live.pid}/cmdline").read_bytes():
                time.sleep(0.01)  # the new program's arguments appear a moment after exec
            assert clean_staging(ws, "20260101-000000-0000", record) == []
        finally:
            live.kill()
    assert folder.is_dir()
    assert clean_staging(ws, "20260101-000000-0000", record) == [str(folder)]


def test_the_limit_comes_from_the_page_then_the_environment_then_the_cores(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's setting wins over WINNOW_MAX_JOBS, which wins over cores / job size."""
    monkeypatch.delenv(MAX_JOBS_ENV, raising=False)
    assert max_jobs(ws) == (default_limit(), max_jobs(ws)[1]) and default_limit() >= 1
    monkeypatch.setenv(MAX_JOBS_ENV, "3")
    assert max_jobs(ws) == (3, MAX_JOBS_ENV)
    set_max_jobs(ws, 5)
    assert max_jobs(ws) == (5, SETTING)
    set_max_jobs(ws, None)
    monkeypatch.setenv(MAX_JOBS_ENV, "none")
    with pytest.raises(WinnowError, match=MAX_JOBS_ENV):
        max_jobs(ws)
    with pytest.raises(WinnowError, match="1 or more"):
        set_max_jobs(ws, 0)
