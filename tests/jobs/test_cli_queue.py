"""`winnow jobs list` and `winnow jobs limit` on real queued jobs: with one slot the second and
third jobs show as queued #1 and #2 under the running first, the last line gives the limit
and where it comes from, and raising the limit from the command starts the next in line."""

from __future__ import annotations

import pytest

from tests.cli_helpers import run_cli
from tests.jobs.conftest import wait_for
from winnow.files import read_json
from winnow.jobs import Job, JobSpec, cancel, launch, read_job
from winnow.jobs.queue import MAX_JOBS_ENV, SETTING, SETTINGS
from winnow.jobs.store import jobs_dir
from winnow.workspace import Workspace

SLOW = {"recipe": "demo", "source": "shared-korean-comments", "output": "ko"}
"""Several seconds of curation: long enough to hold the only slot."""


def waiting_job(ws: Workspace, output: str) -> Job:
    """A fourteen-row curation job whose supervisor is up and waiting in the queue."""
    spec = JobSpec("curate", {"recipe": "demo", "source": "web", "output": output})
    return wait_for(launch(ws, spec), lambda j: j.record["pid"] is not None, "waiting")


def status_of(listed: str, job: Job) -> str:
    """The status cell of a job's row in `winnow jobs list` output joined on one line."""
    return listed.split(job.id, 1)[1].split("│")[1].strip()


def test_list_shows_the_queue_and_limit_raises_it(
    ws: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """WINNOW_MAX_JOBS=1: one job runs and two wait in order; `limit 2` (the Jobs page's
    setting) starts the first in line; `limit --reset` goes back to the environment."""
    monkeypatch.setenv(MAX_JOBS_ENV, "1")
    where = ("-w", str(ws.root))
    first = wait_for(launch(ws, JobSpec("curate", SLOW)), lambda j: j.status == "running", "up")
    second, third = waiting_job(ws, "web-second"), waiting_job(ws, "web-third")
    code, listed = run_cli(capsys, "jobs", "list", *where)
    assert code == 0, listed
    assert [status_of(listed, j) for j in (first, second, third)] == [
        "running",
        "queued #1",
        "queued #2",
    ]
    assert listed.endswith("1 running, 2 queued; at most 1 job at once (WINNOW_MAX_JOBS)")
    assert run_cli(capsys, "jobs", "log", second.id, *where)[1].endswith(f"{second.id}: queued #1")

    code, said = run_cli(capsys, "jobs", "limit", "2", *where)
    assert code == 0 and said == f"at most 2 jobs at once ({SETTING})"
    assert read_json(jobs_dir(ws) / SETTINGS) == {"max_jobs": 2}
    second = wait_for(second, lambda j: j.status != "queued", "started")
    assert second.time("started_at") is not None and read_job(first.path).status == "running"

    code, said = run_cli(capsys, "jobs", "limit", "--reset", *where)
    assert code == 0 and said == "at most 1 job at once (WINNOW_MAX_JOBS)"
    assert not (jobs_dir(ws) / SETTINGS).exists()
    for job in (third, second, first):
        cancel(job)
    for job in (first, second, third):
        wait_for(job, lambda j: j.finished, "finished")


def test_an_empty_workspace_still_shows_the_limit(
    ws: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No jobs: a sentence and the limit line; a limit and --reset together are refused."""
    monkeypatch.setenv(MAX_JOBS_ENV, "3")
    code, listed = run_cli(capsys, "jobs", "list", "-w", str(ws.root))
    assert code == 0
    assert listed == "No jobs yet. 0 running, 0 queued; at most 3 jobs at once (WINNOW_MAX_JOBS)"
    code, said = run_cli(capsys, "jobs", "limit", "2", "--reset", "-w", str(ws.root))
    assert code == 2 and "not both" in said
    assert not (jobs_dir(ws) / SETTINGS).exists()
