"""Reading a job's log as a terminal would show it: the last lines (read from the end, so a
long training log costs the same as a short one), the error a failed command printed, and how
far the job has got."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

from winnow.jobs.store import Job

BLOCK = 8192
"""Bytes read at a time from the end of a log."""

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
"""Colour and cursor escapes some tools print even to a file."""

TQDM = re.compile(r"(\d{1,3})%\|")
"""tqdm's percentage, as in ` 45%|████▌     | 45/100`."""


def tail(path: Path, lines: int = 40) -> list[str]:
    """The last lines of a file; a progress bar redrawn with carriage returns shows as its
    latest state."""
    if lines < 1 or not path.is_file():
        return []
    with path.open("rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        data = b""
        while end > 0 and data.count(b"\n") <= lines:
            step = min(BLOCK, end)
            end -= step
            handle.seek(end)
            data = handle.read(step) + data
    text = ANSI.sub("", data.decode("utf-8", errors="replace"))
    shown = [line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n")]
    if end > 0:
        shown = shown[1:]
    if shown and not shown[-1]:
        shown.pop()
    return shown[-lines:]


def log_tail(job: Job, lines: int = 40) -> str:
    """The end of a job's log as one text."""
    return "\n".join(tail(job.log_path, lines))


def error_from_log(path: Path, returncode: int) -> str:
    """Why a command failed: winnow's own `error: ...` message (joined when the terminal width
    wrapped it), else its last line, naming the signal that killed it if one did."""
    lines = tail(path, 60)
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].startswith("error:"):
            words = " ".join(lines[index:]).split()
            return " ".join(words[1:])
    last = next((line.strip() for line in reversed(lines) if line.strip()), "")
    if returncode < 0:
        killed = f"the command was killed by {signal.Signals(-returncode).name}"
        return f"{killed} (last output: {last})" if last else killed
    return last or f"the command exited with code {returncode} and printed nothing"


def train_progress(job: Job) -> float | None:
    """A training job's last logged step over the steps its run plans (or its max_steps)."""
    from winnow.files import read_json

    run = job.workspace.root / "runs" / str(job.params.get("output")) / "run.json"
    metrics = run.with_name("metrics.jsonl")
    last = tail(metrics, 1)
    if not run.is_file() or not last:
        return None
    record = read_json(run)
    max_steps = record.get("planned_steps") or record.get("config", {}).get("max_steps")
    step = json.loads(last[0]).get("step")
    if not max_steps or step is None:
        return None
    return min(1.0, max(0.0, step / max_steps))


def log_progress(job: Job) -> float | None:
    """The last tqdm percentage in the log."""
    for line in reversed(tail(job.log_path, 20)):
        found = TQDM.findall(line)
        if found:
            return min(100, int(found[-1])) / 100
    return None


def progress(job: Job) -> float | None:
    """How far the job has got, 0 to 1, or None when nothing tells: 1 once completed; for
    training, steps logged over max_steps; else the last tqdm bar of the log."""
    if job.status == "completed":
        return 1.0
    if job.kind == "train":
        found = train_progress(job)
        if found is not None:
            return found
    return log_progress(job)
