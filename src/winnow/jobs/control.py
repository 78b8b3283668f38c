"""Starting and cancelling jobs from another process (the dashboard, `winnow jobs`): the job
runs under its own detached supervisor, so it outlives the page that started it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

from winnow.jobs.specs import JobSpec
from winnow.jobs.store import CANCEL_FILE, SUPERVISOR, Job, create_job, now, read_job, update_job

if TYPE_CHECKING:
    from winnow.workspace import Workspace


def launch(ws: Workspace, spec: JobSpec) -> Job:
    """Check the spec, write the queued job and start its supervisor, which runs the job when
    the queue has a slot; a bad spec raises WinnowError and starts nothing."""
    job = create_job(ws, spec)
    with (job.path / "supervisor.log").open("ab") as out:
        starter = subprocess.Popen(
            [sys.executable, "-m", SUPERVISOR, str(job.path)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    code = starter.wait()
    if code != 0:
        error = f"the job's supervisor did not start (exit code {code}); see supervisor.log"
        update_job(job.path, status="failed", error=error, finished_at=now())
    return read_job(job.path)


def cancel(job: Job) -> str:
    """Ask a job to stop (a cancel file, and SIGTERM to its supervisor, which stops the command
    or stops waiting in the queue); returns what was done, and does nothing to a job that has
    already ended."""
    current = read_job(job.path)
    if not current.finished:
        (job.path / CANCEL_FILE).touch()
        current = read_job(job.path)
    if current.finished:
        return f"job {job.id} has already ended ({current.status}); nothing to cancel."
    pid = current.record.get("pid")
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pid), signal.SIGTERM)
    if current.status == "queued":
        return f"job {job.id} is cancelled before its command starts."
    return f"job {job.id} is stopping; it shows as cancelled once its command has ended."
