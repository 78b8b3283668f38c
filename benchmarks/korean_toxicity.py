"""Korean toxicity filter: Winnow's trained model against plain fastText, on one held-out split.

Every model learns from the same training part of ../shared/data/korean/hate_speech_train.tsv
(kocohub/korean-hate-speech; `hate` and `offensive` comments are to be removed, `none` kept)
and is measured on the same seeded, stratified 20% held out by Winnow's split (seed 0):
precision, recall and F1 of removing hate+offensive.

- winnow: `train_labelled_model` with the settings of the shipped
  catalogs/models/korean-toxicity.ftz (see its README), quantized, at 0.5 and at the
  threshold chosen by 5-fold cross-validation on the training part (the held-out part
  chooses nothing); the shipped file itself is scored on the split too.
- fastText: `fasttext.train_supervised` with its default supervised settings, and with its
  defaults plus character n-grams (`--minn`/`--maxn`, 2 and 4 unless told).
- scikit-learn: TF-IDF of character 2-5-grams and a logistic regression (C=1), a bag of
  n-grams that is not fastText, at 0.5.
- removing every comment, the floor any filter must beat.

With `--preparations` it also prints the cross-validated F1 of the shipped settings on text
prepared three ways before fastText sees it (Hangul decomposed into jamo; runs of a
character cut to two and punctuation split off words; both), none of which the shipped
model uses.

    .venv/bin/python benchmarks/korean_toxicity.py [--minn 2 --maxn 4] [--seed 0] [--preparations]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    holdout=0.2, epochs=10, lr=0.2, word_ngrams=1, dim=32, bucket=200_000, min_count=1,
    minn=1, maxn=3, loss="ova", balance=False,
)  # fmt: skip
"""The settings of catalogs/models/korean-toxicity.ftz (its README has the command)."""
THRESHOLDS = np.round(np.arange(0.30, 0.701, 0.05), 2)
"""The thresholds cross-validation chooses from."""
FOLDS = 5


def squash_punct(text: str) -> str:
    """Runs of three or more of one character cut to two, punctuation split off words."""
    return re.sub(r"([^\w\s]+)", r" \1 ", re.sub(r"(.)\1{2,}", r"\1\1", text))


PREPARATIONS: dict[str, Callable[[str], str]] = {
    "none (shipped)": lambda t: t,
    "jamo (NFD), char 2-5-grams": lambda t: unicodedata.normalize("NFD", t),
    "squash runs + split punctuation": squash_punct,
    "squash + punctuation + jamo, char 2-5-grams": lambda t: unicodedata.normalize(
        "NFD", squash_punct(t)
    ),
}


def fasttext_params(config: TrainConfig) -> dict[str, Any]:
    """The fastText arguments Winnow trains with for `config`."""
    return {
        "epoch": config.epochs, "lr": config.lr, "wordNgrams": config.word_ngrams,
        "dim": config.dim, "bucket": config.bucket, "minCount": config.min_count,
        "minn": config.minn, "maxn": config.maxn, "loss": config.loss, "thread": 1,
        "seed": config.seed, "verbose": 0,
    }  # fmt: skip


def train(rows: list[tuple[str, bool]], params: dict[str, Any], folder: Path) -> Any:
    """A fastText model on (text, kept) rows, in seeded order."""
    import fasttext

    lines = [f"{PREFIX}{POSITIVE if kept else NEGATIVE} {text}" for text, kept in rows]
    random.Random(params.get("seed", 0)).shuffle(lines)
    path = folder / "train.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with zeroed_allocations():
        return fasttext.train_supervised(input=str(path), **params)


def cross_validate(
    rows: list[tuple[str, bool]], params: dict[str, Any], prepare: Callable[[str], str]
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold P(kept) and truth over the training rows, FOLDS folds."""
    scores, truth = np.zeros(len(rows)), np.array([kept for _, kept in rows])
    with tempfile.TemporaryDirectory() as tmp:
        for fold in range(FOLDS):
            inside = [(prepare(t), k) for i, (t, k) in enumerate(rows) if i % FOLDS != fold]
            model = train(inside, params, Path(tmp))
            index = np.arange(fold, len(rows), FOLDS)
            texts = [prepare(rows[i][0]) for i in index]
            scores[index] = label_probability(model, texts, PREFIX + POSITIVE)
    return scores, truth


def best_threshold(scores: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """The threshold of THRESHOLDS with the best F1 of removal, and that F1."""
    f1s = [metrics(scores, truth, float(t), removed=True)["f1"] for t in THRESHOLDS]
    best = int(np.argmax(f1s))
    return float(THRESHOLDS[best]), f1s[best]


def tfidf_scores(rows: list[tuple[str, bool]], test: list[str]) -> np.ndarray:
    """P(kept) from scikit-learn's TF-IDF of character 2-5-grams (within words) and a
    logistic regression: a second, non-fastText bag of n-grams, to see where such models top
    out on this split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
    )
    features = vectorizer.fit_transform([text for text, _ in rows])
    model = LogisticRegression(C=1.0, max_iter=2000).fit(features, [k for _, k in rows])
    kept_column = list(model.classes_).index(True)
    return model.predict_proba(vectorizer.transform(test))[:, kept_column]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--minn", type=int, default=2)
    parser.add_argument("--maxn", type=int, default=4)
    parser.add_argument("--preparations", action="store_true")
    args = parser.parse_args()

    config = TrainConfig(**SHIPPED, seed=args.seed)
    spec = resolve_source(str(TSV), text_field="comments")
    kept, removed, _ = read_labelled(spec, "hate", ["hate", "offensive"])
    parts = split_classes(kept, removed, config)
    test = parts.test[POSITIVE] + parts.test[NEGATIVE]
    truth = np.array([True] * len(parts.test[POSITIVE]) + [False] * len(parts.test[NEGATIVE]))
    rows_train = [(t, True) for t in parts.train[POSITIVE]]
    rows_train += [(t, False) for t in parts.train[NEGATIVE]]
    random.Random(args.seed).shuffle(rows_train)
    params = fasttext_params(config)
    threshold, cv_f1 = best_threshold(*cross_validate(rows_train, params, lambda t: t))
    rows: dict[str, tuple[dict[str, float], float, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = train_labelled_model(
            spec, "hate", ["hate", "offensive"], Path(tmp) / "winnow.ftz", config
        )
        seconds = time.perf_counter() - start
        assert result.held_out["text"].to_list() == test
        size = result.path.stat().st_size
        scores = label_probability(load_model(result.path), test, PREFIX + POSITIVE)
        rows["winnow (trained now), at 0.5"] = (metrics(scores, truth, removed=True), seconds, size)
        rows[f"winnow (trained now), at {threshold} (CV)"] = (
            metrics(scores, truth, threshold, removed=True), seconds, size,
        )  # fmt: skip
        shipped = Path(__file__).resolve().parents[1] / "catalogs/models/korean-toxicity.ftz"
        if shipped.is_file():
            scores = label_probability(load_model(shipped), test, PREFIX + POSITIVE)
            for at in (0.5, threshold):
                rows[f"winnow (shipped file), at {at}"] = (
                    metrics(scores, truth, at, removed=True), 0.0, shipped.stat().st_size,
                )  # fmt: skip
        plain = {"defaults": {}, f"defaults, minn {args.minn} maxn {args.maxn}": {
            "minn": args.minn, "maxn": args.maxn}}  # fmt: skip
        for name, extra in plain.items():
            start = time.perf_counter()
            model = train(rows_train, {"seed": args.seed, "verbose": 0, **extra}, Path(tmp))
            seconds = time.perf_counter() - start
            model_file = Path(tmp) / "plain.bin"
            model.save_model(str(model_file))
            scores = label_probability(model, test, PREFIX + POSITIVE)
            rows[f"fastText {name}"] = (
                metrics(scores, truth, removed=True), seconds, model_file.stat().st_size,
            )  # fmt: skip
    start = time.perf_counter()
    scores = tfidf_scores(rows_train, test)
    rows["tf-idf char 2-5-grams + logistic regression"] = (
        metrics(scores, truth, removed=True), time.perf_counter() - start, 0,
    )  # fmt: skip
    rows["remove every comment"] = (metrics(np.zeros(len(test)), truth, removed=True), 0.0, 0)
    print(
        f"held out: {len(test)} comments ({len(parts.test[NEGATIVE])} hate/offensive, "
        f"{len(parts.test[POSITIVE])} none); trained on {len(rows_train)}; seed {args.seed}; "
        f"{FOLDS}-fold CV on the training part chose threshold {threshold} (CV F1 {cv_f1:.3f})"
    )
    print(f"{'model':44} {'precision':>9} {'recall':>7} {'F1':>6} {'train s':>8} {'MB':>8}")
    for name, (got, secs, nbytes) in rows.items():
        print(
            f"{name:44} {got['precision']:9.3f} {got['recall']:7.3f} {got['f1']:6.3f} "
            f"{secs:8.1f} {nbytes / 1e6:8.2f}"
        )
    print(json.dumps({k: v[0] for k, v in rows.items()}))
    if args.preparations:
        print(f"\n{FOLDS}-fold CV on the training part, shipped settings (F1 at 0.5, best):")
        for name, prepare in PREPARATIONS.items():
            char = {"minn": 2, "maxn": 5} if "2-5" in name else {}
            scores, kept_truth = cross_validate(rows_train, params | char, prepare)
            at_half = metrics(scores, kept_truth, removed=True)["f1"]
            best = best_threshold(scores, kept_truth)
            print(f"  {name:44} {at_half:.3f}  {best[1]:.3f} at {best[0]}")


if __name__ == "__main__":
    main()
