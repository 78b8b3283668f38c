"""The job queue: at most a limit of a workspace's jobs run at once; the others wait as queued
and start, oldest first, as slots free. Each job's own detached supervisor waits for its turn
(under a file lock, so two never take the last slot), so the queue needs no dashboard: it goes
on through a page reload and after the dashboard stops; a machine restart ends every waiting
supervisor, and readers then record those jobs as failed."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from winnow.errors import WinnowError
from winnow.jobs.store import CANCEL_FILE, Job, jobs_dir, list_jobs, now, update_job

if TYPE_CHECKING:
    from winnow.workspace import Workspace

MAX_JOBS_ENV = "WINNOW_MAX_JOBS"
"""Environment variable that sets the limit when the page has not."""

JOB_CORES = 2
"""Cores one job is taken to keep busy (a curation run reads while a worker filters; training
and evals use several threads); the default limit is the machine's cores over this, at least 1."""

SETTINGS = "queue.json"
"""File in WORKSPACE/jobs/ holding the limit set on the Jobs page or by `winnow jobs limit`."""

SETTING = "set on the Jobs page or by 'winnow jobs limit'"
"""Where a limit kept in SETTINGS is said to come from."""

POLL = 0.5
"""Seconds a queued job's supervisor waits between looks at the queue."""


def default_limit() -> int:
    """The machine's cores over JOB_CORES, at least 1."""
    return max(1, (os.cpu_count() or 1) // JOB_CORES)


def max_jobs(ws: Workspace) -> tuple[int, str]:
    """The limit and where it comes from: the workspace's setting, then WINNOW_MAX_JOBS, then
    the machine's cores."""
    from winnow.files import read_json

    path = jobs_dir(ws) / SETTINGS
    if path.is_file():
        return int(read_json(path)["max_jobs"]), SETTING
    value = os.environ.get(MAX_JOBS_ENV, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise WinnowError(
                f"{MAX_JOBS_ENV} is '{value}'; set it to a whole number of 1 or more."
            )
        return int(value), MAX_JOBS_ENV
    return default_limit(), f"{os.cpu_count()} cores / {JOB_CORES} per job"


def set_max_jobs(ws: Workspace, limit: int | None) -> None:
    """Keep a limit for every later look at the queue, the Jobs page's and the command's
    alike (None goes back to WINNOW_MAX_JOBS or the cores)."""
    from winnow.files import write_json

    path = jobs_dir(ws) / SETTINGS
    if limit is None:
        path.unlink(missing_ok=True)
        return
    if limit < 1:
        raise WinnowError(f"at most {limit} jobs at once would start none; use 1 or more.")
    jobs_dir(ws).mkdir(parents=True, exist_ok=True)
    write_json({"max_jobs": int(limit)}, path)


@contextmanager
def queue_lock(ws: Workspace) -> Iterator[None]:
    """Hold the workspace's queue lock (released by the kernel if the holder dies)."""
    jobs_dir(ws).mkdir(parents=True, exist_ok=True)
    with (jobs_dir(ws) / ".queue.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def waiting(jobs: list[Job]) -> list[Job]:
    """Queued jobs not cancelled, oldest first: the order they start in."""
    queued = [j for j in jobs if j.status == "queued" and not (j.path / CANCEL_FILE).exists()]
    return sorted(queued, key=lambda j: (j.record["created_at"], j.id))


def may_start(ws: Workspace, job_id: str) -> bool:
    """Whether this queued job is among the oldest that fit in the free slots."""
    jobs = list_jobs(ws)
    free = max_jobs(ws)[0] - sum(j.status == "running" for j in jobs)
    return job_id in [j.id for j in waiting(jobs)[: max(free, 0)]]


def wait_for_slot(path: Path, stopped: Callable[[], bool]) -> bool:
    """Wait until the job may run and record it running (True), or until it is cancelled
    while it waits (False)."""
    from winnow.workspace import Workspace

    ws = Workspace(path.parent.parent)
    while not stopped():
        with queue_lock(ws):
            if may_start(ws, path.name):
                update_job(path, status="running", started_at=now())
                return True
        time.sleep(POLL)
    return False


def places(jobs: list[Job]) -> dict[str, int]:
    """Each waiting job's place in line, 1 for the next to start."""
    return {job.id: place for place, job in enumerate(waiting(jobs), start=1)}


def shown_status(job: Job, line: dict[str, int]) -> str:
    """A job's status for lists: a waiting job with its place in line (from places()), and a
    queued job cancelled before its supervisor has recorded it."""
    if job.status != "queued":
        return job.status
    return f"queued #{line[job.id]}" if job.id in line else "queued, cancelling"


def limit_line(ws: Workspace) -> str:
    """The limit and where it comes from, in words."""
    limit, origin = max_jobs(ws)
    return f"at most {limit} job{'s' if limit != 1 else ''} at once ({origin})"


def queue_state(ws: Workspace, jobs: list[Job]) -> str:
    """One line about the queue, for the page and `winnow jobs list`: running and waiting jobs
    against the limit."""
    running = sum(j.status == "running" for j in jobs)
    return f"{running} running, {len(waiting(jobs))} queued; {limit_line(ws)}"
