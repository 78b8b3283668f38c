"""Whole runs as a user runs them, shared by the benchmarks that compare them.

A whole run is one child process, start-up included; its CPU time is the user plus system
time of that child and its children (`resource.getrusage(RUSAGE_CHILDREN)` before and after),
its wall time the clock around it. `fastest` runs each run of a comparison once a round, the
order rotating by one each round, and keeps each run's fastest CPU and fastest wall time.

Speed is given two ways: whole docs/CPU-s, N / cpu(N), which counts start-up once; and
marginal docs/CPU-s, (N - 20) / (cpu(N) - cpu(20)), the rate of each further document once a
run is going, from a run on N documents and one on their first 20.

Run as a script inside benchmarks/.venv-datatrove (this module imports only the standard
library at load), it is datatrove's whole run: a `LocalPipelineExecutor` with one task and one
worker (no multiprocessing pool) over `JsonlReader` (orjson, as datatrove requires for
JSONL; the `id` field carried through), the filters named in FILTERS in turn (a document one
drops is not seen by the next) and `JsonlWriter` (gzip, its default) of the kept documents,
with logs, stats and the completion marker in RUN/logs:

    benchmarks/.venv-datatrove/bin/python benchmarks/whole_runs.py DOCS.jsonl RUN FILTERS_JSON
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
DT_VENV = HERE / ".venv-datatrove"
SMALL = 20
"""Documents in the small run that marginal rates subtract."""

Timing = tuple[float, float]
"""Wall and CPU seconds of one run."""
FilterSpec = tuple[str, dict]
"""A datatrove filter as its class name in `datatrove.pipeline.filters` and keyword arguments."""


def child(command: list[str], env: dict[str, str] | None = None) -> Timing:
    """Run a command to its end: wall and CPU seconds (user + system, its children too)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr.decode(errors='replace')}")
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def fastest(rounds: int, runs: dict[str, Callable[[int], Timing]]) -> dict[str, Timing]:
    """Each run once a round (given the round), starting one later each round; the fastest
    wall and fastest CPU of each, so that no run always goes first on a shared machine."""
    names = list(runs)
    best: dict[str, Timing] = {}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            wall, cpu = runs[name](r)
            previous = best.get(name, (wall, cpu))
            best[name] = (min(wall, previous[0]), min(cpu, previous[1]))
    return best


def winnow_command(recipe: str | Path, source: Path, output: str, workspace: Path) -> list[str]:
    """`winnow curate run` as a user types it, with the winnow installed beside this Python."""
    winnow = str(Path(sys.executable).with_name("winnow"))
    return [winnow, "curate", "run", str(recipe), "--source", str(source), "--output", output,
            "--workspace", str(workspace)]  # fmt: skip


def ensure_datatrove_venv() -> Path:
    """Make benchmarks/.venv-datatrove with the pinned datatrove, or update it when
    requirements-datatrove.txt changed since it was installed."""
    python = DT_VENV / "bin" / "python"
    requirements = HERE / "requirements-datatrove.txt"
    installed = DT_VENV / "installed-requirements.txt"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DT_VENV)], check=True)
    wanted = requirements.read_text(encoding="utf-8")
    if not installed.exists() or installed.read_text(encoding="utf-8") != wanted:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(requirements)], check=True
        )
        installed.write_text(wanted, encoding="utf-8")
    return python


def datatrove_env() -> dict[str, str]:
    """This environment without PYTHONPATH, which may point datatrove's Python at our sources."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def datatrove_command(docs: Path, run: Path, filters: list[FilterSpec]) -> list[str]:
    """datatrove's whole run on a JSONL file, in its virtualenv, as this module's script."""
    python = str(ensure_datatrove_venv())
    return [python, __file__, str(docs), str(run), json.dumps(filters, ensure_ascii=False)]


def datatrove_kept_ids(run: Path) -> set[str]:
    """Ids of the documents a datatrove whole run wrote out."""
    ids = set()
    for path in (run / "kept").glob("*.jsonl*"):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            ids.update(json.loads(line)["id"] for line in handle if line.strip())
    return ids


def datatrove_filter(name: str, options: dict) -> object:
    """One of datatrove's filters by class name (inside its virtualenv)."""
    from datatrove.pipeline import filters

    return getattr(filters, name)(**options)


def datatrove_pipeline(docs: Path, run: Path, filters: list[FilterSpec]) -> None:
    """Inside datatrove's virtualenv: the whole run the module docstring describes."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(docs.parent), glob_pattern=docs.name, id_key="id"),
            *(datatrove_filter(name, options) for name, options in filters),
            JsonlWriter(str(run / "kept")),
        ],
        tasks=1,
        workers=1,
        logging_dir=str(run / "logs"),
    ).run()


def rate(docs: int, seconds: float) -> float | None:
    """Documents per CPU-second, or None when the time is not positive (too noisy to tell)."""
    return docs / seconds if seconds > 0 else None


def shown(value: float | None, ratio: bool = False) -> str:
    """A rate with thousands separators, a ratio as 1.23x, or a dash when unknown."""
    if value is None:
        return "–"
    return f"{value:.2f}x" if ratio else f"{value:,.0f}"


def rate_table(n: int, cpu: dict[str, dict[int, float]], peers: tuple[str, ...]) -> list[str]:
    """Markdown: each side's CPU seconds on n and SMALL documents, its marginal and whole
    docs/CPU-s, then each other side's rates over each peer's (above 1: faster than the peer)."""
    lines = [
        f"| side | docs | CPU s ({n:,} docs) | CPU s ({SMALL} docs) | marginal docs/CPU-s | "
        "whole docs/CPU-s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rates = {}
    for side, seconds in cpu.items():
        rates[side] = (rate(n - SMALL, seconds[n] - seconds[SMALL]), rate(n, seconds[n]))
        lines.append(
            f"| {side} | {n:,} | {seconds[n]:.2f} | {seconds[SMALL]:.2f} | "
            f"{shown(rates[side][0])} | {shown(rates[side][1])} |"
        )
    for side in (s for s in rates if s not in peers):
        for peer in peers:
            ratios = [
                ours / theirs if ours and theirs else None
                for ours, theirs in zip(rates[side], rates[peer], strict=True)
            ]
            lines.append(
                f"| {side} / {peer} | | | | **{shown(ratios[0], True)}** | "
                f"{shown(ratios[1], True)} |"
            )
    return [*lines, ""]


def main() -> None:
    """Worker mode: datatrove's whole run."""
    parser = argparse.ArgumentParser(description="datatrove's whole run: JSONL, filters, JSONL")
    parser.add_argument("docs", type=Path, help="JSONL file with `id` and `text`")
    parser.add_argument("run", type=Path, help="folder for the kept documents and the logs")
    parser.add_argument("filters", type=json.loads, help="JSON list of [class name, options]")
    args = parser.parse_args()
    datatrove_pipeline(args.docs, args.run, args.filters)


if __name__ == "__main__":
    main()
