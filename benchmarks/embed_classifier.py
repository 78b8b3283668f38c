"""Embedding quality classifier (issue 25): held-out precision/recall against fastText on the
same split, and the embed_classifier step's documents per second on the CPU.

Data (real, from ../shared/data): kept = C4 (c4_demo.jsonl, 300 cleaned web documents),
removed = raw Common Crawl pages (CC-MAIN-...-00140.jsonl.gz, 697 rows). Both trainers read
them through the same code and hold out the same seeded 20% of each class (the embedding
trainer carves its threshold-choosing validation part from the training part only, so the
held-out part is identical; the script checks it). Then the step scores ~2,000 real documents
(Wikipedia paragraphs, Common Crawl pages, C4) on the CPU, batch_size 64, one shard.

Run: PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/embed_classifier.py
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from winnow.curate.embed_model import EmbedConfig, from_sources, train_embed_model  # noqa: E402
from winnow.curate.quality_model import TrainConfig, train_classes  # noqa: E402
from winnow.curate.sources import resolve_source  # noqa: E402
from winnow.curate.steps.embed_classifier import EmbedClassifier  # noqa: E402
from winnow.curate.steps.quality_classifier import QualityClassifier  # noqa: E402
from winnow.embed.encoder import load_encoder  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
C4 = SHARED / "web" / "c4_demo.jsonl"
CC = SHARED / "web" / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
WIKI = SHARED / "web" / "wiki_demo.txt"
HOLDOUT, SEED, DOCS = 0.2, 0, 2000


def memoize(encoder) -> None:  # noqa: ANN001
    """Embed each distinct text once across the trainings (the heads share the vectors)."""
    original, memo = encoder.encode, {}

    def encode(texts: list[str], batch_size: int = 64) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in memo))
        if missing:
            memo.update(zip(missing, original(missing, batch_size), strict=True))
        return np.stack([memo[t] for t in texts]) if texts else original([], batch_size)

    encoder.encode = encode


def score_docs() -> list[str]:
    """~2,000 real documents: Wikipedia paragraphs, then Common Crawl pages, then C4."""
    lines = WIKI.read_text(encoding="utf-8").splitlines()
    wiki = [p for line in lines for p in re.split(r"(?<=[a-z]\.)(?=[A-Z])", line) if len(p) > 300]
    cc = pl.read_ndjson(CC)["text"].to_list()
    c4 = pl.read_ndjson(C4)["text"].to_list()
    return (wiki + cc + c4)[:DOCS]


def row(name: str, m: dict) -> str:
    """One markdown row of held-out scores."""
    return (
        f"| {name} | {m['threshold']:g} | {m['precision']:.3f} | {m['recall']:.3f} | "
        f"{m['f1']:.3f} | {m['accuracy']:.3f} | {m['held_out']} |"
    )


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="embed-bench-"))
    labels = from_sources([resolve_source(str(C4))], [resolve_source(str(CC))])
    memoize(load_encoder("minilm", "auto"))
    started = time.perf_counter()
    linear = train_embed_model(
        copy.deepcopy(labels), tmp / "linear", EmbedConfig(holdout=HOLDOUT, seed=SEED)
    )
    linear_seconds = time.perf_counter() - started
    mlp = train_embed_model(
        copy.deepcopy(labels), tmp / "mlp", EmbedConfig(holdout=HOLDOUT, seed=SEED, head="mlp")
    )
    fast = train_classes(
        copy.deepcopy(labels.pos),
        copy.deepcopy(labels.neg),
        tmp / "fasttext.bin",
        TrainConfig(holdout=HOLDOUT, seed=SEED),
    )
    same = sorted(fast.held_out["text"].to_list()) == sorted(linear.held_out["text"].to_list())
    print(f"same held-out documents: {same} ({linear.held_out.height})")
    print("| model | threshold | precision | recall | F1 | accuracy | held out |")
    print("|---|---|---|---|---|---|---|")
    print(row("fastText (bigrams, dim 16, quantized)", fast.card["metrics"]))
    at_half = next(r for r in linear.card["thresholds"] if r["threshold"] == 0.5)
    print(row("minilm + linear head, at 0.5", at_half))
    print(row("minilm + linear head, chosen threshold", linear.card["metrics"]))
    at_half = next(r for r in mlp.card["thresholds"] if r["threshold"] == 0.5)
    print(row("minilm + mlp head, at 0.5", at_half))
    print(row("minilm + mlp head, chosen threshold", mlp.card["metrics"]))
    print(
        f"training: linear {linear_seconds:.1f} s wall (embedding "
        f"{linear.card['embed_seconds']:.1f} s of {sum(linear.card['classes'][s]['usable'] for s in ('positive', 'negative'))} docs, "  # noqa: E501
        f"head {linear.card['fit_seconds']:.2f} s); mlp head {mlp.card['fit_seconds']:.2f} s; "
        f"fastText {fast.card['training_seconds']:.1f} s"
    )

    docs = score_docs()
    frame = pl.DataFrame({"id": [str(i) for i in range(len(docs))], "text": docs})
    chars = frame["text"].str.len_chars()
    step = EmbedClassifier(model=str(tmp / "linear"), batch_size=64, device="cpu")
    load_encoder("minilm", "cpu").encode(["warm up"])
    started = time.perf_counter()
    scored = step.score(frame)
    seconds = time.perf_counter() - started
    tally = step.tally(scored)
    kept = int((scored["embed_score"] >= step.threshold).sum())
    fast_step = QualityClassifier(model=str(tmp / "fasttext.bin"))
    started = time.perf_counter()
    fast_step.score(frame)
    fast_seconds = time.perf_counter() - started
    print(
        f"embed_classifier on {len(docs):,} docs (mean {chars.mean():.0f} chars, minilm reads "
        f"256 tokens), cpu, batch_size 64, torch threads {__import__('torch').get_num_threads()}: "
        f"{seconds:.1f} s = {len(docs) / seconds:.1f} docs/s (tally {json.dumps(tally)}; "
        f"kept {kept:,} at {step.threshold:g})"
    )
    print(
        f"quality_classifier (fastText) on the same docs: {fast_seconds:.2f} s = "
        f"{len(docs) / fast_seconds:,.0f} docs/s"
    )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
