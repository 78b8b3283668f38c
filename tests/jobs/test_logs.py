"""Reading a job's log: the tail as a terminal shows it, the error of a failed command, and
progress from tqdm bars or a training run's metrics."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from winnow.files import write_json
from winnow.jobs import Job, progress
from winnow.jobs.logs import BLOCK, error_from_log, tail


def job(root: Path, kind: str = "curate", status: str = "running", **params: str) -> Job:
    """A job record in a workspace folder, without a process behind it."""
    path = root / "jobs" / "20260101-120000-abcd"
    path.mkdir(parents=True)
    return Job(path, {"kind": kind, "params": params, "status": status})


def test_tail_reads_the_end(tmp_path: Path) -> None:
    """The last lines of a log much longer than a block; nothing for a missing file."""
    log = tmp_path / "log.txt"
    log.write_text("".join(f"line {i}\n" for i in range(5 * BLOCK)), encoding="utf-8")
    assert tail(log, 3) == [f"line {i}" for i in range(5 * BLOCK - 3, 5 * BLOCK)]
    assert len(tail(log, 2000)) == 2000
    assert tail(tmp_path / "none.txt") == []


def test_tail_shows_bars_as_a_terminal_would(tmp_path: Path) -> None:
    """Carriage-return redraws collapse to the latest state; colour escapes are dropped; a
    last line without a newline is kept."""
    log = tmp_path / "log.txt"
    log.write_bytes(b"start\r\n 10%|#  |\r 55%|#####|\n\x1b[31mred\x1b[0m\npartial")
    assert tail(log, 10) == ["start", " 55%|#####|", "red", "partial"]


def test_error_is_winnows_line_joined(tmp_path: Path) -> None:
    """winnow's `error:` message, wrapped by the terminal, comes back as one line."""
    log = tmp_path / "log.txt"
    log.write_text("reading\nerror: source 'x' is not an existing\nfile; pick one.\n")
    assert error_from_log(log, 2) == "source 'x' is not an existing file; pick one."


def test_error_falls_back_to_last_line_and_signal(tmp_path: Path) -> None:
    """Without an `error:` line: the traceback's last line; a signal is named; silence too."""
    log = tmp_path / "log.txt"
    log.write_text('Traceback (most recent call last):\n  File "x"\nValueError: bad\n\n')
    assert error_from_log(log, 1) == "ValueError: bad"
    assert error_from_log(log, -signal.SIGKILL) == (
        "the command was killed by SIGKILL (last output: ValueError: bad)"
    )
    log.write_text("")
    assert error_from_log(log, 3) == "the command exited with code 3 and printed nothing"


def test_progress_from_tqdm(tmp_path: Path) -> None:
    """The last tqdm percentage of the log; None when the log tells nothing; 1 once done."""
    running = job(tmp_path)
    assert progress(running) is None
    running.log_path.write_text("loading\nRequests:  40%|####      | 4/10\r 70%|#######   |\n")
    assert progress(running) == 0.7
    assert progress(Job(running.path, {**running.record, "status": "completed"})) == 1.0


def test_progress_of_training_from_metrics(tmp_path: Path) -> None:
    """A train job's progress is its run's last logged step over max_steps, or over the steps
    it plans when it trains by epochs."""
    training = job(tmp_path, "train", output="base")
    run = tmp_path / "runs" / "base"
    write_json({"config": {"max_steps": 200}}, run / "run.json")
    assert progress(training) is None
    rows = [{"step": 25, "loss": 3.2}, {"step": 50, "loss": 2.9}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert progress(training) == 0.25
    planned = {"config": {"max_steps": None, "epochs": 1.0}, "planned_steps": 100}
    write_json(planned, run / "run.json")
    assert progress(training) == 0.5
