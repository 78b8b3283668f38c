"""The process that runs one job, `python -m winnow.jobs.supervise JOBDIR`: started detached
by launch(), it waits for the job's turn in the queue, runs the job's argv as a child with its
output in log.txt, passes a cancel on to it, and records in job.json how the job ended."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from winnow.files import read_json
from winnow.jobs.logs import error_from_log
from winnow.jobs.queue import wait_for_slot
from winnow.jobs.staging import clean_staging, output_dir, staging_names
from winnow.jobs.store import CANCEL_FILE, now, update_job
from winnow.workspace import Workspace

GRACE = 10.0
"""Seconds a cancelled command gets to stop before its process group is killed."""

PR_SET_PDEATHSIG = 1
"""Linux prctl option: the signal a process gets when its parent dies."""


@dataclass
class State:
    """The running command and when a cancel arrived."""

    child: subprocess.Popen[bytes] | None = None
    cancelled_at: float | None = None


def command_env() -> dict[str, str]:
    """The environment of the command: output unbuffered, wide and without colour, so the log
    reads as it happens and as plain text."""
    env = dict(os.environ)
    env.update(PYTHONUNBUFFERED="1", COLUMNS="200", TERM="dumb", NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    return env


def die_with_parent() -> None:
    """In the command's process before exec: get SIGTERM when the supervisor dies, even by
    SIGKILL, so no job runs on unwatched (Linux; elsewhere a no-op)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def forward(state: State, sig: int) -> None:
    """Signal the command's whole process group (its workers too)."""
    if state.child is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(state.child.pid, sig)


def wait(child: subprocess.Popen[bytes], state: State) -> int:
    """Wait for the command; one cancelled and still running after GRACE is killed."""
    while True:
        try:
            return child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            if state.cancelled_at is not None and time.monotonic() - state.cancelled_at > GRACE:
                forward(state, signal.SIGKILL)


def group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process is left in a process group."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def end_group(state: State) -> None:
    """Kill what is left of a cancelled command's process group and wait (up to GRACE) until
    it is gone, so that nothing writes into its staging folder while that is removed."""
    if state.child is None:
        return
    forward(state, signal.SIGKILL)
    deadline = time.monotonic() + GRACE
    while group_alive(state.child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def run_command(
    path: Path, record: dict[str, Any], state: State, stopped: Callable[[], bool]
) -> int:
    """Start the job's command with its output in log.txt and wait for it; a curation job first
    records the staging folders already in its dataset, which a cancel must leave alone."""
    folder = output_dir(Workspace(path.parent.parent), record)
    if folder is not None:
        update_job(path, staging_before=staging_names(folder))
    with (path / "log.txt").open("ab") as log:
        child = state.child = subprocess.Popen(
            record["argv"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=command_env(),
            close_fds=True,
            process_group=0,
            preexec_fn=die_with_parent,
        )
    update_job(path, child_pid=child.pid)
    if stopped():  # cancelled while the command started
        forward(state, signal.SIGTERM)
    return wait(child, state)


def supervise(path: Path) -> None:
    """Wait for a slot in the queue (unless cancelled already), record running, run the
    command, record how it ended; a cancelled curation job's staging folder is removed."""
    state = State()

    def on_term(signum: int, frame: FrameType | None) -> None:
        if state.cancelled_at is None:
            state.cancelled_at = time.monotonic()
        forward(state, signal.SIGTERM)

    def stopped() -> bool:
        if state.cancelled_at is None and (path / CANCEL_FILE).exists():
            state.cancelled_at = time.monotonic()
        return state.cancelled_at is not None

    signal.signal(signal.SIGTERM, on_term)
    record = update_job(path, pid=os.getpid())
    returncode = None
    cleaned: list[str] = []
    if not stopped() and wait_for_slot(path, stopped):
        returncode = run_command(path, record, state, stopped)
        if state.cancelled_at is not None and returncode != 0:
            end_group(state)
            cleaned = clean_staging(
                Workspace(path.parent.parent), path.name, read_json(path / "job.json")
            )
    if state.cancelled_at is not None and returncode != 0:
        ended = {"status": "cancelled", "cleaned": cleaned}
    elif returncode == 0:
        ended = {"status": "completed"}
    else:
        ended = {"status": "failed", "error": error_from_log(path / "log.txt", returncode)}
    update_job(path, returncode=returncode, finished_at=now(), **ended)


def detach() -> None:
    """Fork and let the parent exit at once, so the launcher reaps it straight away and the
    supervisor leads its own session, which cancel() signals as a group."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()


def main() -> None:
    """Supervise the job folder given as the only argument; a failure of the supervisor itself
    is recorded as the job's error."""
    path = Path(sys.argv[1])
    detach()
    try:
        supervise(path)
    except BaseException as exc:
        error = f"the job's supervisor failed: {type(exc).__name__}: {exc}"
        update_job(path, status="failed", error=error, finished_at=now())
        raise


if __name__ == "__main__":
    main()
