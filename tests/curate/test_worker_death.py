"""`curate run --workers N` killed with SIGKILL: its pool workers die with it instead of writing
on unwatched, and the run resumes to the same dataset (issue 18)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from winnow.curate.recipes import load_recipe
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.workspace import Workspace

CC_FILE = "web/CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
GONE_WITHIN = 20.0
"""Seconds the workers get to disappear after their parent is killed (they take well under
one; the bound only keeps a broken build from hanging the test)."""


def children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def pool_workers(pid: int) -> list[int]:
    """The spawned pool workers among a process's children."""
    found = []
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            found.append(child)
    return found


def test_workers_die_with_a_killed_parent_and_the_run_resumes(
    workspace: Path, shared_data: Path
) -> None:
    source = str(shared_data / CC_FILE)
    options = RunOptions(batch_rows=10)
    clean = run_recipe(
        Workspace(workspace / "clean"), load_recipe("web-en"), resolve_source(source), "cc", options
    )
    home = workspace / "killed"
    args = [
        sys.executable, "-m", "winnow", "curate", "run", "web-en", "--source", source,
        "--output", "cc", "--batch-rows", "10", "--workers", "2", "--workspace", str(home),
    ]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        workers: list[int] = []
        while time.monotonic() < deadline and proc.poll() is None:
            workers = pool_workers(proc.pid)
            done = list(home.glob("datasets/cc/.staging-*/s0/done-rows/*.json"))
            if len(workers) == 2 and len(done) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None and len(workers) == 2, "the run ended before it was killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert Workspace(home).versions("cc") == []
    deadline = time.monotonic() + GONE_WITHIN
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [w for w in workers if alive(w)]
    for pid in left:  # do not leave them running past a failure
        os.kill(pid, signal.SIGKILL)
    assert left == [], f"workers {left} outlived their parent by {GONE_WITHIN:.0f} s"
    subprocess.run(args, check=True, capture_output=True)
    resumed = Workspace(home).dataset("cc")
    assert resumed.manifest["fingerprint"] == clean.manifest["fingerprint"]
    assert resumed.manifest["execution"]["resumed_shards"] >= 2
