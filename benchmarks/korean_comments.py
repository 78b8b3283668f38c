"""What the shipped `comments-ko` recipe does to short Korean text, and how its near-duplicate
settings fare on KLUE STS sentence pairs.

Runs `winnow curate run comments-ko` (a child process each, a fresh workspace) on the news
comments (a comment per line), the hate-speech comments (the `comments` column) and
ChatbotData's questions (the `Q` column), and prints per file the rows reaching each step,
those it removed by reason, and the rows kept. Then it judges each of the 519 KLUE STS dev
pairs (../shared/data/korean/klue-sts-v1.1_dev.json) on its own with `minhash_dedup` (the
recipe's settings and the step's defaults): a pair is joined when the step removes one of
the two. Precision and recall are given against KLUE's binary paraphrase label (score 3 or
more) and against near-identical meaning (score 4.5 or more).

    .venv/bin/python benchmarks/korean_comments.py [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from winnow.curate.dedup.minhash.minhash_dedup import MinhashDedup
from winnow.curate.recipes import load_recipe

KOREAN = Path(__file__).resolve().parents[2] / "shared" / "data" / "korean"
FILES = [
    ("news_comments.txt.gz", ["--text-mode", "line"]),
    ("hate_speech_train.tsv", ["--text-field", "comments"]),
    ("ChatbotData.csv", ["--text-field", "Q"]),
]
KLUE = KOREAN / "klue-sts-v1.1_dev.json"


def curate(workspace: Path, name: str, options: list[str]) -> tuple[dict[str, Any], float]:
    """Run comments-ko on one file in a child process; its manifest and wall seconds."""
    output = name.split(".")[0].replace("_", "-").lower()
    command = [
        str(Path(sys.executable).with_name("winnow")), "curate", "run", "comments-ko",
        "--source", str(KOREAN / name), "--output", output, *options,
        "--workspace", str(workspace),
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    path = workspace / "datasets" / output / "v1" / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")), seconds


def print_run(name: str, manifest: dict[str, Any], seconds: float) -> None:
    """One Markdown table: rows in, removed (by reason) and out, step by step."""
    counts = manifest["counts"]
    print(f"\n{name}: read {counts['input']:,}, kept {counts['kept']:,} ({seconds:.1f} s)")
    if manifest.get("warnings"):
        print("warnings: " + " ".join(manifest["warnings"]))
    print("\n| step | in | removed (reason: rows) | out |\n|---|---:|---|---:|")
    for step in manifest["steps"]:
        removed = ", ".join(f"{r}: {n:,}" for r, n in step.get("removed", {}).items()) or "–"
        print(f"| {step['step']} | {step['in']:,} | {removed} | {step['out']:,} |")


def joined_pairs(step: MinhashDedup, first: list[str], second: list[str]) -> np.ndarray:
    """Whether `step`, run on each pair alone, removes one of its two sentences."""
    joined = []
    for a, b in zip(first, second, strict=True):
        frame = pl.DataFrame({"id": ["a", "b"], "text": [a, b]})
        keys = step.score(frame).with_columns(
            pl.lit(0).alias("__shard"), pl.int_range(2).alias("__row")
        )
        joined.append(step.decide(keys)["reason"].is_not_null().any())
    return np.array(joined)


def klue() -> None:
    """Precision and recall of near-duplicate joins on KLUE STS dev pairs."""
    pairs = json.loads(KLUE.read_text(encoding="utf-8"))
    first = [p["sentence1"] for p in pairs]
    second = [p["sentence2"] for p in pairs]
    score = np.array([p["labels"]["label"] for p in pairs])
    truths = {
        "paraphrase (binary label)": np.array([p["labels"]["binary-label"] == 1 for p in pairs]),
        "near-identical (score >= 4.5)": score >= 4.5,
    }
    recipe = next(s for s in load_recipe("comments-ko").steps if s.name == "minhash_dedup")
    settings = {
        "comments-ko (syllable 3-grams, 0.8)": recipe,
        "syllable 3-grams, 0.5": MinhashDedup(korean="syllables", char_n=3, threshold=0.5),
        "minhash_dedup defaults (word 5-grams, 0.8)": MinhashDedup(),
    }
    print(f"\nKLUE STS dev: {len(pairs)} pairs, each judged alone")
    print("\n| settings | truth | positives | joined | precision | recall |")
    print("|---|---|---:|---:|---:|---:|")
    for name, step in settings.items():
        joined = joined_pairs(step, first, second)
        for truth_name, truth in truths.items():
            hits = int((joined & truth).sum())
            precision = f"{hits / joined.sum():.2f}" if joined.sum() else "–"
            print(
                f"| {name} | {truth_name} | {int(truth.sum())} | {int(joined.sum())} "
                f"| {precision} | {hits / truth.sum():.3f} |"
            )


def main() -> None:
    """Curate each file with comments-ko, then the KLUE pairs; print Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the workspace")
    args = parser.parse_args()
    workspace = Path(tempfile.mkdtemp(prefix="winnow-comments-"))
    for name, options in FILES:
        print_run(name, *curate(workspace, name, options))
    klue()
    if args.keep:
        print(f"\nworkspace: {workspace}")
    else:
        shutil.rmtree(workspace)


if __name__ == "__main__":
    main()
