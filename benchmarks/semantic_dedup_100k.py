"""Whole runs over 100,000 real-text documents, as a user starts them: `winnow curate run` with
`semantic_dedup` alone and with `minhash_dedup` alone, each in a fresh workspace; wall seconds,
CPU seconds, peak RSS and rows removed.

The documents are `semantic_dedup.py`'s: one to three real web paragraphs each, one word
dropped. Run: PYTHONPATH=. .venv/bin/python benchmarks/semantic_dedup_100k.py [--docs N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.semantic_dedup import hundred_k

RECIPES = {
    "minhash_dedup": "steps:\n  - step: minhash_dedup\n",
    "semantic_dedup": "steps:\n  - step: semantic_dedup\n",
}


def run(name: str, recipe: Path, source: Path, root: Path) -> dict:
    """One `winnow curate run` in a fresh workspace: wall, CPU and peak RSS of the child."""
    winnow = Path(sys.executable).with_name("winnow")
    args = [str(winnow), "curate", "run", str(recipe), "--source", str(source)]
    args += ["--output", name, "-w", str(root / name)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"{name} failed: {done.stderr[-2000:]}")
    manifest = json.loads(next((root / name).glob("datasets/*/v1/manifest.json")).read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "step": name,
        "docs": manifest["counts"]["input"],
        "removed": manifest["counts"]["rejected"],
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "docs_per_s": round(manifest["counts"]["input"] / wall, 1),
        "peak_rss_mb": round(after.ru_maxrss / 1024),
        "step_s": manifest["steps"][0]["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="semdedup-100k-") as folder:
        root = Path(folder)
        source = root / "docs.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for i, text in enumerate(hundred_k()[: args.docs]):
                handle.write(json.dumps({"id": str(i), "text": text}) + "\n")
        results = []
        for name, steps in RECIPES.items():
            recipe = root / f"{name}.yaml"
            recipe.write_text(steps, encoding="utf-8")
            results.append(run(name, recipe, source, root))
            print(json.dumps(results[-1]), flush=True)
    minhash, semantic = results
    print(f"semantic / minhash wall: {semantic['wall_s'] / minhash['wall_s']:.0f}x")


if __name__ == "__main__":
    main()
