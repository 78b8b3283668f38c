"""Jobs on disk: WORKSPACE/jobs/<id>/ holds job.json (what runs, its status and times), log.txt
(the command's output) and supervisor.log. The supervisor writes job.json while the job lives;
a reader that finds the supervisor gone records the job as failed, so a job whose process died
never shows as running forever."""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winnow.errors import WinnowError
from winnow.jobs.specs import JobSpec

if TYPE_CHECKING:
    from winnow.workspace import Workspace

JOB_ID = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{4}")
"""A job id: its UTC start to the second, then 4 random hex digits; sorts by time."""

ACTIVE = ("queued", "running")
FINAL = ("completed", "failed", "cancelled")
"""Job statuses: a job is queued until its supervisor has a slot in the queue (jobs.queue),
then running, then one of FINAL."""

SUPERVISOR = "winnow.jobs.supervise"
"""The module run as each job's supervisor process."""

CANCEL_FILE = "cancel"
"""Created by cancel(); a supervisor that finds it does not start the command."""

START_TIMEOUT = 60.0
"""Seconds a queued job may wait for its supervisor before it is recorded as failed."""


def now() -> str:
    """The time in ISO form, UTC, to the millisecond (job.json's times sort as text)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def jobs_dir(ws: Workspace) -> Path:
    """Where a workspace's jobs live."""
    return ws.root / "jobs"


@dataclass(frozen=True)
class Job:
    """One job's folder and its record as read (and reconciled) from job.json."""

    path: Path
    record: dict[str, Any]

    @property
    def id(self) -> str:
        """The job's id, its folder's name."""
        return self.path.name

    @property
    def kind(self) -> str:
        """curate, train or evaluate."""
        return str(self.record["kind"])

    @property
    def params(self) -> dict[str, Any]:
        """The parameters the job was started with."""
        return dict(self.record["params"])

    @property
    def status(self) -> str:
        """queued, running, completed, failed or cancelled."""
        return str(self.record["status"])

    @property
    def error(self) -> str | None:
        """Why a failed job failed, in one line."""
        return self.record.get("error")

    @property
    def finished(self) -> bool:
        """Whether the job has ended, well or not."""
        return self.status in FINAL

    @property
    def log_path(self) -> Path:
        """The command's stdout and stderr."""
        return self.path / "log.txt"

    @property
    def workspace(self) -> Workspace:
        """The workspace the job belongs to."""
        from winnow.workspace import Workspace

        return Workspace(self.path.parent.parent)

    @property
    def summary(self) -> str:
        """The kind and parameters in one line, for lists."""
        return " ".join([self.kind, *(f"{k}={v}" for k, v in self.params.items())])

    def time(self, key: str) -> datetime | None:
        """created_at, started_at or finished_at as a datetime, None when not reached."""
        value = self.record.get(key)
        return datetime.fromisoformat(value) if value else None

    @property
    def elapsed(self) -> float | None:
        """Seconds the job has run (until it finished), None before it starts."""
        started = self.time("started_at")
        if started is None:
            return None
        return ((self.time("finished_at") or datetime.now(UTC)) - started).total_seconds()


def new_folder(ws: Workspace) -> Path:
    """A new job folder whose name is a fresh id."""
    while True:
        job_id = f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(2)}"
        path = jobs_dir(ws) / job_id
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue


def create_job(ws: Workspace, spec: JobSpec) -> Job:
    """Check the spec, then write the queued job; nothing is written for a bad spec."""
    from winnow.files import write_json

    argv = spec.argv(ws)
    path = new_folder(ws)
    record = {
        "id": path.name,
        "kind": spec.kind,
        "params": spec.given(),
        "argv": argv,
        "status": "queued",
        "created_at": now(),
        "started_at": None,
        "finished_at": None,
        "pid": None,
        "child_pid": None,
        "returncode": None,
        "error": None,
    }
    write_json(record, path / "job.json")
    return Job(path, record)


def update_job(path: Path, **fields: Any) -> dict[str, Any]:
    """Change fields of job.json atomically; only one process writes at a time (see module)."""
    from winnow.files import read_json, write_json

    record = read_json(path / "job.json")
    record.update(fields)
    write_json(record, path / "job.json")
    return record


def is_supervisor(pid: int, path: Path) -> bool:
    """Whether pid is alive and is this job's supervisor (not a process that reused the pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        parts = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return not Path("/proc").is_dir()
    return SUPERVISOR.encode() in parts and any(p.endswith(path.name.encode()) for p in parts)


def alive(record: dict[str, Any], path: Path) -> bool:
    """Whether an active job's supervisor is running, or may still be starting."""
    if record.get("pid") is None:
        created = datetime.fromisoformat(record["created_at"])
        return (datetime.now(UTC) - created).total_seconds() < START_TIMEOUT
    return is_supervisor(int(record["pid"]), path)


def read_job(path: Path) -> Job:
    """A job as it stands; a queued or running job whose supervisor is gone is recorded as
    failed (read again first, since the supervisor may have just finished)."""
    from winnow.files import read_json

    record = read_json(path / "job.json")
    if record["status"] in ACTIVE and not alive(record, path):
        record = read_json(path / "job.json")
        if record["status"] in ACTIVE:
            pid = record.get("pid")
            error = (
                f"the job's process died (pid {pid})"
                if pid is not None
                else f"the job's process never started; see {path / 'supervisor.log'}"
            )
            record = update_job(path, status="failed", error=error, finished_at=now())
    return Job(path, record)


def list_jobs(ws: Workspace) -> list[Job]:
    """Every job of the workspace, newest first."""
    folder = jobs_dir(ws)
    if not folder.is_dir():
        return []
    found = [
        read_job(p)
        for p in folder.iterdir()
        if JOB_ID.fullmatch(p.name) and (p / "job.json").is_file()
    ]
    return sorted(found, key=lambda j: (j.record["created_at"], j.id), reverse=True)


def get_job(ws: Workspace, job_id: str) -> Job:
    """The job with this id, checked so that an id can never name another folder."""
    path = jobs_dir(ws) / job_id
    if not JOB_ID.fullmatch(job_id) or not (path / "job.json").is_file():
        raise WinnowError(
            f"job '{job_id}' is not in {jobs_dir(ws)}; ids look like 20260101-120000-1a2b, "
            "see 'winnow jobs list'."
        )
    return read_job(path)
