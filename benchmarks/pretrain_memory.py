"""Peak memory of pretraining on a 2 GB kept corpus: must stay under 3 GB RSS, whatever the size.

Builds the corpus from the real web documents in ../shared/data/web (as memory_2gb.py does),
curates it with a one-step recipe (normalize) into a dataset, then runs `winnow train
pretrain --base tiny` twice in child processes: the first trains the tiny tokenizer,
tokenizes the whole dataset into packed token shards with `--workers` processes and trains
`--steps` steps; the second (a new run on the same data) reuses the shards. The RSS of each
child and all its processes is sampled every 50 ms.

    .venv/bin/python benchmarks/pretrain_memory.py [--gigabytes 2] [--workers 2] [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from memory_2gb import build_corpus, peak_rss

BOUND = 3 * 1024**3
"""The issue's bound on a pretraining run's peak RSS."""


def main() -> None:
    """Build and curate the corpus, pretrain twice, print peak RSS and where the time went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2, help="tokenizing processes")
    parser.add_argument("--steps", type=int, default=20, help="training steps of each run")
    parser.add_argument("--keep", action="store_true", help="Keep the corpus and workspace.")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="winnow-pretrain-mem-"))
    corpus = folder / "corpus.jsonl"
    rows = build_corpus(corpus, int(args.gigabytes * 1024**3))
    size = corpus.stat().st_size
    recipe = folder / "light.yaml"
    recipe.write_text("steps:\n  - step: normalize\n", encoding="utf-8")
    winnow = str(Path(sys.executable).with_name("winnow"))
    ws = ["--workspace", str(folder / "ws")]
    curate = [winnow, "curate", "run", str(recipe), "--source", str(corpus), "--output", "big"]
    peak, seconds, code = peak_rss([*curate, *ws])
    corpus.unlink()
    kept = folder / "ws" / "datasets" / "big" / "v1" / "kept"
    kept_bytes = sum(p.stat().st_size for p in kept.glob("*.parquet"))
    print(f"corpus: {size / 1024**3:.2f} GiB of JSONL, {rows:,} documents")
    print(f"curate (normalize): exit {code}, {seconds:.0f} s, peak RSS {peak / 1024**3:.2f} GiB")
    print(
        f"kept: {kept_bytes / 1024**3:.2f} GiB of zstd Parquet in {len(list(kept.glob('*')))} files"
    )
    for output in ("first", "second"):
        command = [winnow, "train", "pretrain", "--base", "tiny", "--data", "big"]
        command += ["--output", output, "--max-steps", str(args.steps), "--batch-size", "8"]
        command += ["--workers", str(args.workers), *ws]
        peak, seconds, code = peak_rss(command)
        record = json.loads((folder / "ws" / "runs" / output / "run.json").read_text())
        cache = record["data"]["token_shards"]
        print(
            f"pretrain {output}: exit {code}, {seconds:.0f} s, peak RSS {peak / 1024**3:.2f} GiB "
            f"({'within' if peak <= BOUND else 'OVER'} the 3 GiB bound); token shards "
            f"{'reused' if cache['reused'] else 'built'} in {cache['seconds']:.0f} s: "
            f"{cache['documents']:,} documents, {cache['tokens']:,} tokens; "
            f"{record['data']['train_blocks']:,} training blocks, "
            f"train loss {record['results']['train_loss']:.3f}"
        )
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
