"""Peak memory of curating a 2 GB JSONL corpus with web-en: must stay within 4 GB RSS.

Builds the corpus from the real web documents in ../shared/data/web (each copy gets a new
id and a numbered first line so that exact dedup does not collapse it), runs
`winnow curate run web-en` in a child process, and samples the child's RSS every 50 ms.

    .venv/bin/python benchmarks/memory_2gb.py [--gigabytes 2] [--keep]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

SHARED_WEB = Path(__file__).resolve().parents[2] / "shared" / "data" / "web"


def seed_documents() -> list[dict]:
    """The real web documents the corpus is built from."""
    docs = []
    with gzip.open(next(SHARED_WEB.glob("CC-MAIN-*.jsonl.gz")), "rt", encoding="utf-8") as fh:
        docs += [json.loads(line) for line in fh]
    with (SHARED_WEB / "c4_demo.jsonl").open(encoding="utf-8") as fh:
        docs += [json.loads(line) for line in fh]
    return [{"text": d["text"]} for d in docs]


def build_corpus(path: Path, target_bytes: int) -> int:
    """Write copies of the seed documents until the file reaches `target_bytes`."""
    seeds = seed_documents()
    written = rows = 0
    with path.open("w", encoding="utf-8") as out:
        while written < target_bytes:
            for doc in seeds:
                line = json.dumps(
                    {"id": f"doc-{rows}", "text": f"Copy {rows} of the sample.\n{doc['text']}"}
                )
                out.write(line + "\n")
                written += len(line.encode("utf-8")) + 1
                rows += 1
    return rows


def peak_rss(args: list[str]) -> tuple[int, float, int]:
    """Run a command; return its peak RSS in bytes (children included), seconds, exit code."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    handle = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            rss = handle.memory_info().rss + sum(
                c.memory_info().rss for c in handle.children(recursive=True)
            )
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    if proc.returncode:
        sys.stderr.write(proc.stderr.read().decode(errors="replace"))
    return peak, time.perf_counter() - started, proc.returncode


def main() -> None:
    """Build the corpus, curate it, print peak RSS against the 4 GB bound."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--keep", action="store_true", help="Keep the corpus and workspace.")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="winnow-mem-"))
    corpus = folder / "corpus.jsonl"
    rows = build_corpus(corpus, int(args.gigabytes * 1024**3))
    size = corpus.stat().st_size
    winnow = Path(sys.executable).with_name("winnow")
    command = [
        str(winnow),
        "curate",
        "run",
        "web-en",
        "--source",
        str(corpus),
        "--output",
        "mem",
        "--workspace",
        str(folder / "ws"),
    ]
    peak, seconds, code = peak_rss(command)
    print(f"corpus: {size / 1024**3:.2f} GiB, {rows:,} documents")
    print(
        f"winnow curate run web-en: exit {code}, {seconds:.0f} s, "
        f"{size / 1024**2 / seconds:.1f} MiB/s, peak RSS {peak / 1024**3:.2f} GiB "
        f"({'within' if peak <= 4 * 1024**3 else 'OVER'} the 4 GiB bound)"
    )
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
