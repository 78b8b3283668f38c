"""Fixtures for the jobs tests: a private copy of the small workspace whose job processes are
killed at teardown, and polling helpers with generous deadlines."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.workspaces import Small
from winnow.jobs import Job, log_tail, read_job
from winnow.jobs.store import jobs_dir
from winnow.jobs.supervise import group_alive
from winnow.workspace import Workspace

DEADLINE = 90.0
"""Seconds a test waits for a job before it fails (they take seconds)."""


def wait_for(job: Job, done: Callable[[Job], bool], what: str) -> Job:
    """Poll the job until `done` holds, failing with its log when the deadline passes."""
    deadline = time.monotonic() + DEADLINE
    while True:
        current = read_job(job.path)
        if done(current):
            return current
        if time.monotonic() > deadline:
            pytest.fail(f"job {job.id} not {what} but {current.status}:\n{log_tail(current)}")
        time.sleep(0.1)


def wait_gone(pgid: int) -> None:
    """Wait until no live process is left in a process group."""
    deadline = time.monotonic() + DEADLINE
    while group_alive(pgid):
        if time.monotonic() > deadline:
            pytest.fail(f"process group {pgid} is still alive")
        time.sleep(0.1)


@pytest.fixture()
def ws(small: Small, tmp_path: Path) -> Iterator[Workspace]:
    """A copy of the small workspace (web, instruct, pairs); job processes left are killed."""
    workspace = small.copy(tmp_path / "ws").ws
    yield workspace
    for record in jobs_dir(workspace).glob("*/job.json"):
        for key in ("pid", "child_pid"):
            pgid = read_job(record.parent).record.get(key)
            if pgid and group_alive(pgid):
                os.killpg(pgid, signal.SIGKILL)
