"""Start-up cost of winnow: CPU and wall seconds of help texts, small curation runs and numba.

Each case runs in a child process, `rounds` times; the table shows the median CPU seconds
(user + system of the child and what it waited for, from `os.wait4`) and the median wall
seconds. The cases:

- help texts: `winnow --help`, `winnow curate --help`, `winnow curate run --help`,
  `winnow train sft --help`, `winnow data --help`;
- `winnow curate run` of the first `--documents` documents of ../shared/data/web/c4_demo.jsonl
  with web-en, demo and a two-step recipe (normalize, exact_dedup), a fresh output name each
  round, with numba's kernels already in the cache (an unmeasured run of each fills it);
- numba's first compile: web-en with an empty NUMBA_CACHE_DIR each round (`--compile-rounds`),
  beside the warm web-en row above.

Everything is written under a temporary folder (the corpus, the workspace, a private numba
cache), removed at the end unless --keep.

    .venv/bin/python benchmarks/startup.py [--rounds 5] [--documents 20] [--compile-rounds 1]
        [--keep]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED_WEB = Path(__file__).resolve().parents[2] / "shared" / "data" / "web"

HELP = (
    ["--help"],
    ["curate", "--help"],
    ["curate", "run", "--help"],
    ["train", "sft", "--help"],
    ["data", "--help"],
)
"""Help texts, each the words after `winnow`."""

TWO_STEPS = """\
name: two-steps
description: Normalize, then remove exact copies; no numba kernel, no model.
steps:
  - step: normalize
  - step: exact_dedup
"""


def winnow_command() -> list[str]:
    """The `winnow` entry point of this interpreter's environment, else `python -m winnow`."""
    script = Path(sys.executable).parent / "winnow"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "winnow"]


def measure(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Run a command to its end; return its CPU seconds (user + system) and wall seconds.

    Stops the benchmark, showing the command's error output, when it fails."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=errors, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            errors.seek(0)
            sys.stderr.write(errors.read().decode(errors="replace"))
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(args)}")
    return usage.ru_utime + usage.ru_stime, wall


def median_of(rounds: list[tuple[float, float]]) -> tuple[float, float]:
    """The median CPU and the median wall seconds of some rounds."""
    return statistics.median(c for c, _ in rounds), statistics.median(w for _, w in rounds)


def main() -> None:
    """Measure every case and print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds per case (median)")
    parser.add_argument("--documents", type=int, default=20, help="documents per run")
    parser.add_argument(
        "--compile-rounds", type=int, default=1, help="web-en runs on an empty numba cache"
    )
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="winnow-startup-"))
    winnow = winnow_command()
    env = {**os.environ, "NUMBA_CACHE_DIR": str(folder / "numba")}
    env.pop("WINNOW_HOME", None)
    source = folder / "docs.jsonl"
    with (SHARED_WEB / "c4_demo.jsonl").open(encoding="utf-8") as fh:
        source.write_text("".join(itertools.islice(fh, args.documents)), encoding="utf-8")
    two_steps = folder / "two-steps.yaml"
    two_steps.write_text(TWO_STEPS, encoding="utf-8")
    workspace = folder / "workspace"
    outputs = iter(range(1_000_000))

    def curate(recipe: str, case_env: dict[str, str]) -> list[str]:
        """A `winnow curate run` of the corpus into a dataset name not used before."""
        return [
            *winnow,
            *("curate", "run", recipe, "--source", str(source)),
            *("--output", f"out{next(outputs)}", "-w", str(workspace)),
        ]

    rows: list[tuple[str, str, int, tuple[float, float]]] = []
    try:
        for words in HELP:
            command = "winnow " + " ".join(words)
            done = [measure([*winnow, *words], env, folder) for _ in range(args.rounds)]
            rows.append(("help", command, args.rounds, median_of(done)))
            print(f"{command}: {rows[-1][3][0]:.2f} CPU-s", file=sys.stderr)

        runs = (("web-en", "web-en"), ("demo", "demo"), ("two steps", str(two_steps)))
        for _, recipe in runs:
            measure(curate(recipe, env), env, folder)  # compiles the kernels into the cache
        for label, recipe in runs:
            done = [measure(curate(recipe, env), env, folder) for _ in range(args.rounds)]
            command = f"winnow curate run {label} ({args.documents} docs, warm numba cache)"
            rows.append(("run", command, args.rounds, median_of(done)))
            print(f"{command}: {rows[-1][3][0]:.2f} CPU-s", file=sys.stderr)

        cold = []
        for n in range(args.compile_rounds):
            fresh = {**env, "NUMBA_CACHE_DIR": str(folder / f"numba-fresh-{n}")}
            cold.append(measure(curate("web-en", fresh), fresh, folder))
        if cold:
            command = f"winnow curate run web-en ({args.documents} docs, empty numba cache)"
            rows.append(("numba", command, len(cold), median_of(cold)))
            print(f"{command}: {rows[-1][3][0]:.2f} CPU-s", file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    print(f"\n{len(os.sched_getaffinity(0))} CPUs, Python {sys.version.split()[0]}\n")
    print("| case | command | rounds | CPU s (median) | wall s (median) |")
    print("|---|---|---:|---:|---:|")
    for kind, command, rounds, (cpu, wall) in rows:
        print(f"| {kind} | `{command}` | {rounds} | {cpu:.2f} | {wall:.2f} |")
    if args.keep:
        print(f"\nkept {folder}")


if __name__ == "__main__":
    main()
