"""Korean toxicity filter: Winnow's trained model against plain fastText, on one held-out split.

Both sides learn from the same training part of ../shared/data/korean/hate_speech_train.tsv
(kocohub/korean-hate-speech; `hate` and `offensive` comments are to be removed, `none` kept)
and are measured on the same seeded, stratified 20% held out by Winnow's split (seed 0):
precision, recall and F1 of removing hate+offensive.

- winnow: `train_labelled_model` with the settings of the shipped
  catalogs/models/korean-toxicity.ftz (see its README), quantized; the shipped file itself
  is scored on the split too.
- fastText: `fasttext.train_supervised` with fastText's defaults plus character n-grams
  (`--minn`/`--maxn`, 2 and 4 unless told), the baseline the issue names.

    .venv/bin/python benchmarks/korean_toxicity.py [--minn 2 --maxn 4] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from winnow.curate.quality_model import (
    NEGATIVE,
    POSITIVE,
    PREFIX,
    TrainConfig,
    label_probability,
    load_model,
    metrics,
    read_labelled,
    split_classes,
    train_labelled_model,
    zeroed_allocations,
)
from winnow.curate.sources import resolve_source

TSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "korean" / "hate_speech_train.tsv"
SHIPPED = dict(
    holdout=0.2, epochs=25, lr=0.2, word_ngrams=1, dim=32, bucket=200_000, min_count=1,
    minn=1, maxn=3, balance=False,
)  # fmt: skip
"""The settings of catalogs/models/korean-toxicity.ftz (its README has the command)."""


def removal(model: object, texts: list[str], truth_kept: np.ndarray) -> dict[str, float]:
    """Precision, recall, F1 of removing the negative class at 0.5."""
    scores = label_probability(model, texts, PREFIX + POSITIVE)
    return metrics(scores, truth_kept, removed=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--minn", type=int, default=2)
    parser.add_argument("--maxn", type=int, default=4)
    args = parser.parse_args()
    import fasttext

    config = TrainConfig(**SHIPPED, seed=args.seed)
    spec = resolve_source(str(TSV), text_field="comments")
    kept, removed, _ = read_labelled(spec, "hate", ["hate", "offensive"])
    parts = split_classes(kept, removed, config)
    test = parts.test[POSITIVE] + parts.test[NEGATIVE]
    truth = np.array([True] * len(parts.test[POSITIVE]) + [False] * len(parts.test[NEGATIVE]))
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = train_labelled_model(
            spec, "hate", ["hate", "offensive"], Path(tmp) / "winnow.ftz", config
        )
        seconds = time.perf_counter() - start
        assert result.held_out["text"].to_list() == test
        model = load_model(result.path)
        size = result.path.stat().st_size
        rows["winnow (trained now)"] = (removal(model, test, truth), seconds, size)
        shipped = Path(__file__).resolve().parents[1] / "catalogs/models/korean-toxicity.ftz"
        if shipped.is_file():
            rows["winnow (shipped file)"] = (
                removal(load_model(shipped), test, truth),
                0.0,
                shipped.stat().st_size,
            )
        lines = [f"{PREFIX}{POSITIVE} {t}" for t in parts.train[POSITIVE]]
        lines += [f"{PREFIX}{NEGATIVE} {t}" for t in parts.train[NEGATIVE]]
        random.Random(args.seed).shuffle(lines)
        train_file = Path(tmp) / "train.txt"
        train_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        start = time.perf_counter()
        with zeroed_allocations():
            plain = fasttext.train_supervised(
                input=str(train_file), minn=args.minn, maxn=args.maxn, seed=args.seed, verbose=0
            )
        seconds = time.perf_counter() - start
        plain_file = Path(tmp) / "plain.bin"
        plain.save_model(str(plain_file))
        rows[f"fastText defaults, minn {args.minn} maxn {args.maxn}"] = (
            removal(plain, test, truth),
            seconds,
            plain_file.stat().st_size,
        )
    print(
        f"held out: {len(test)} comments ({len(parts.test[NEGATIVE])} hate/offensive, "
        f"{len(parts.test[POSITIVE])} none); trained on {len(lines)}; seed {args.seed}"
    )
    print(f"{'model':42} {'precision':>9} {'recall':>7} {'F1':>6} {'train s':>8} {'MB':>8}")
    for name, (got, secs, nbytes) in rows.items():
        print(
            f"{name:42} {got['precision']:9.3f} {got['recall']:7.3f} {got['f1']:6.3f} "
            f"{secs:8.1f} {nbytes / 1e6:8.2f}"
        )
    print(json.dumps({k: v[0] for k, v in rows.items()}))


if __name__ == "__main__":
    main()
