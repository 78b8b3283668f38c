"""Jobs as real processes: a curation job that completes, one that fails with winnow's own
error, a cancel, a supervisor killed outright, and the records a reader reconciles."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import typer

from tests.jobs.conftest import wait_for, wait_gone
from winnow.commands import jobs as jobs_command
from winnow.console import console
from winnow.files import read_json
from winnow.jobs import JobSpec, cancel, get_job, launch, log_tail, progress, read_job
from winnow.jobs.store import SUPERVISOR, create_job, update_job
from winnow.workspace import Workspace

SLOW = {"recipe": "demo", "source": "shared-korean-comments", "output": "ko"}
"""The demo recipe over 33,893 Korean comments: several seconds, long enough to interrupt."""


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run `winnow jobs ARGS` through a local app (the page author registers the real one)."""
    console.width = 240
    command = typer.main.get_command(jobs_command.app)
    command.main(list(args), prog_name="winnow jobs", standalone_mode=False)
    return " ".join(capsys.readouterr().out.split())


def test_curation_job_completes(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    """Started from the command line, the job runs detached, writes its dataset and log, and
    is listed as completed."""
    out = cli(
        capsys, "start", "curate", "-p", "recipe=demo", "-p", "source=web", "-p",
        "output=web-again", "-w", str(ws.root),
    )  # fmt: skip
    job_id = out.split()[2].rstrip(":")
    job = wait_for(get_job(ws, job_id), lambda j: j.finished, "finished")
    assert job.status == "completed", job.error
    assert job.record["returncode"] == 0 and job.error is None
    assert [v.version for v in ws.versions("web-again")] == ["v1"]
    assert "written to" in log_tail(job) and progress(job) == 1.0
    assert job.elapsed is not None and job.elapsed > 0
    listed = cli(capsys, "list", "-w", str(ws.root))
    assert job_id in listed and "completed" in listed and "output=web-again" in listed
    assert "completed, 100%" in cli(capsys, "log", job_id, "--lines", "5", "-w", str(ws.root))
    assert "nothing to cancel" in cli(capsys, "cancel", job_id, "-w", str(ws.root))
    wait_gone(job.record["pid"])


def test_failing_job_shows_winnows_error(ws: Workspace) -> None:
    """A command that stops with winnow's `error:` line fails with that sentence."""
    (ws.root / "raw" / "empty").mkdir(parents=True)
    spec = JobSpec("curate", {"recipe": "demo", "source": "raw/empty", "output": "nothing"})
    job = wait_for(launch(ws, spec), lambda j: j.finished, "finished")
    assert job.status == "failed" and job.record["returncode"] == 2
    assert job.error is not None and job.error.startswith(f"folder {ws.root / 'raw' / 'empty'}")
    assert job.error.endswith("or pass --format to read other extensions.")
    assert read_json(job.path / "job.json")["error"] == job.error


def test_cancel_stops_the_process_group(ws: Workspace) -> None:
    """Cancel reaches the running command; the job is recorded as cancelled and no process of
    it is left."""
    job = launch(ws, JobSpec("curate", SLOW))
    job = wait_for(job, lambda j: j.record["child_pid"] is not None, "started")
    assert "is stopping" in cancel(job)
    job = wait_for(job, lambda j: j.finished, "finished")
    assert job.status == "cancelled" and job.record["returncode"] == -signal.SIGTERM
    wait_gone(job.record["pid"])
    wait_gone(job.record["child_pid"])
    assert ws.versions("ko") == []
    assert "already ended (cancelled)" in cancel(job)


def test_killed_supervisor_shows_failed(ws: Workspace) -> None:
    """A supervisor killed outright is found dead by the next reader, recorded as failed, and
    its command goes with it."""
    job = launch(ws, JobSpec("curate", SLOW))
    job = wait_for(job, lambda j: j.record["child_pid"] is not None, "started")
    pid = job.record["pid"]
    os.kill(pid, signal.SIGKILL)
    job = wait_for(job, lambda j: j.finished, "finished")
    assert job.status == "failed" and job.error == f"the job's process died (pid {pid})"
    assert read_json(job.path / "job.json")["status"] == "failed"
    wait_gone(job.record["child_pid"])


def test_cancel_before_the_command_starts(ws: Workspace) -> None:
    """A job cancelled while queued never starts its command."""
    job = create_job(ws, JobSpec("curate", SLOW))
    assert "before its command starts" in cancel(job)
    subprocess.run([sys.executable, "-m", SUPERVISOR, str(job.path)], check=True)
    job = wait_for(job, lambda j: j.finished, "finished")
    assert job.status == "cancelled" and job.record["child_pid"] is None
    assert not job.log_path.exists()


def test_reused_pid_is_not_the_supervisor(ws: Workspace) -> None:
    """A running record whose pid now belongs to another process (here, pytest) is failed."""
    job = create_job(ws, JobSpec("curate", SLOW))
    update_job(job.path, status="running", pid=os.getpid())
    found = read_job(job.path)
    assert found.status == "failed"
    assert found.error == f"the job's process died (pid {os.getpid()})"


def test_queued_job_that_never_started(ws: Workspace) -> None:
    """A job queued for long with no supervisor is failed, pointing at supervisor.log."""
    job = create_job(ws, JobSpec("curate", SLOW))
    old = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="milliseconds")
    update_job(job.path, created_at=old)
    found = read_job(job.path)
    assert found.status == "failed" and "never started" in str(found.error)
    assert read_job(create_job(ws, JobSpec("curate", SLOW)).path).status == "queued"
