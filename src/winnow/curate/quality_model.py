"""fastText quality classifiers: train one on positive and negative sources, load it, score text.

As GPT-3, Llama 3 and DCLM did: a bag of words and word bigrams, one linear layer, trained
to tell curated text (the positives) from raw web text (the negatives). A held-out, seeded,
stratified fraction measures it; the model file and a JSON card beside it say what it is.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import os
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from winnow.curate.sources import SourceSpec, iter_documents
from winnow.errors import WinnowError
from winnow.files import write_json

POSITIVE = "positive"
NEGATIVE = "negative"
"""The labels the trainer writes (`__label__positive`, `__label__negative`)."""

PREFIX = "__label__"
M_PERTURB = -6
"""glibc's mallopt option that fills each allocation with a byte (0xff here gives zeros)."""

QUANTIZE_TOLERANCE = 0.01
"""Keep the quantized model when its held-out F1 is at most this much below the full one's."""


def normalize_texts(texts: pl.Series) -> pl.Series:
    """Lowercase, fold whitespace runs (newlines included) to one space, trim: one doc, one line."""
    return texts.fill_null("").str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()


@lru_cache(maxsize=1)
def _mallopt() -> Any:
    """glibc's mallopt, or None where the C library has none (macOS, Windows)."""
    try:
        return ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return None


@contextmanager
def zeroed_allocations() -> Iterator[None]:
    """Make glibc hand out zeroed memory while fastText trains or quantizes.

    The fasttext wheel leaves its input matrix uninitialized and randomizes only a tenth of it
    per thread, so heap garbage from earlier work in the process leaks into the weights: the
    same data then trains differently run to run and often diverges to NaN. Zero-filled
    allocations give upstream fastText's behaviour (the rest starts at zero) and make training
    reproducible.
    """
    mallopt = _mallopt()
    if mallopt is None:
        yield
        return
    mallopt(M_PERTURB, 0xFF)
    try:
        yield
    finally:
        mallopt(M_PERTURB, 0)


def fasttext_version() -> str:
    """The installed distribution that provides the `fasttext` module, with its version."""
    for dist in importlib.metadata.packages_distributions().get("fasttext", []):
        return f"{dist} {importlib.metadata.version(dist)}"
    return "unknown"


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> Any:
    """Load a fastText model once per path and modification time (a retrained file reloads)."""
    import fasttext

    try:
        return fasttext.load_model(path)
    except ValueError as exc:
        raise WinnowError(
            f"{path} is not a fastText model ({exc}); train one with "
            "'winnow curate quality train' or give a fastText .bin/.ftz file."
        ) from exc


def load_model(path: str | Path) -> Any:
    """The fastText model at `path`, cached per process; a missing file is a WinnowError."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise WinnowError(
            f"quality model '{path}' is not a file; train one with 'winnow curate quality train "
            "--positive SRC --negative SRC --output MODEL' or fix the path."
        )
    return _load(str(file.resolve()), file.stat().st_mtime_ns)


def full_label(label: str) -> str:
    """`positive` or `__label__positive` as fastText spells it."""
    return label if label.startswith(PREFIX) else PREFIX + label


def check_label(model: Any, label: str, where: str) -> str:
    """The model's spelling of `label`, or a WinnowError listing the labels it does have."""
    wanted = full_label(label)
    labels = list(model.get_labels())
    if wanted not in labels:
        names = ", ".join(name.removeprefix(PREFIX) for name in labels)
        raise WinnowError(f"{where}: the model has no label '{label}'; its labels are: {names}.")
    return wanted


def label_probability(model: Any, texts: list[str], label: str) -> np.ndarray:
    """Probability of `label` for each normalized, non-empty text, in one predict call."""
    if not texts:
        return np.zeros(0, dtype=np.float64)
    labels, probs = model.predict(texts, k=-1)
    names = np.asarray(labels)
    values = np.asarray(probs, dtype=np.float64)
    return np.clip((values * (names == label)).sum(axis=1), 0.0, 1.0)


def score_texts(model: Any, texts: pl.Series, label: str) -> np.ndarray:
    """Probability of `label` per raw text; texts with no words score 0 (nothing to judge)."""
    flat = normalize_texts(texts)
    has_words = (flat.str.len_chars() > 0).to_numpy()
    scores = np.zeros(len(flat), dtype=np.float64)
    scores[has_words] = label_probability(model, flat.filter(has_words).to_list(), label)
    return scores


@dataclass
class TrainConfig:
    """The knobs of one training run, all recorded in the model card."""

    holdout: float = 0.1
    seed: int = 0
    epochs: int = 10
    lr: float = 0.5
    word_ngrams: int = 2
    dim: int = 16
    bucket: int = 200_000
    min_count: int = 2
    balance: bool = True
    quantize: bool = True

    def check(self) -> None:
        """Refuse settings fastText would crash on or that leave nothing to evaluate."""
        if not 0.0 < self.holdout < 1.0:
            raise WinnowError(f"--holdout {self.holdout} must be between 0 and 1; use e.g. 0.1.")
        for name in ("epochs", "word_ngrams", "dim", "bucket", "min_count"):
            if getattr(self, name) < 1:
                raise WinnowError(f"--{name.replace('_', '-')} must be at least 1.")
        if self.lr <= 0:
            raise WinnowError(f"--lr {self.lr} must be above 0; use e.g. 0.5.")


@dataclass
class ClassSet:
    """One side's documents after cleaning, with counts of what was set aside and why."""

    texts: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)


def read_side(specs: list[SourceSpec], side: str) -> ClassSet:
    """Read every source of one side into normalized, de-duplicated texts."""
    texts: list[str] = []
    counts = {"read": 0, "unreadable": 0, "empty": 0, "duplicates": 0}
    sources = []
    for spec in specs:
        rows = 0
        for batch in iter_documents(spec):
            counts["unreadable"] += batch.quarantine.height
            rows += batch.docs.height
            texts.extend(normalize_texts(batch.docs.get_column("text")).to_list())
        counts["read"] += rows
        sources.append(
            {
                "source": spec.name,
                "files": spec.files() or [spec.hub_id],
                "text_field": spec.text_field,
                "fingerprint": spec.fingerprint(),
                "rows": rows,
            }
        )
    non_empty = [t for t in texts if t]
    counts["empty"] = len(texts) - len(non_empty)
    unique = list(dict.fromkeys(non_empty))
    counts["duplicates"] = len(non_empty) - len(unique)
    if not unique:
        raise WinnowError(
            f"the {side} set has no usable text ({counts['read']} rows read, "
            f"{counts['unreadable']} unreadable, {counts['empty']} empty); give --{side} "
            f"sources with text, or set --{side}-field to the field that holds it."
        )
    return ClassSet(unique, counts, sources)


def split(texts: list[str], fraction: float, rng: random.Random, side: str) -> tuple[list, list]:
    """Shuffle one class and cut off its held-out share (at least one document each way)."""
    if len(texts) < 2:
        raise WinnowError(
            f"the {side} set has {len(texts)} usable document; a held-out split needs at least "
            f"2, so add --{side} data."
        )
    shuffled = texts[:]
    rng.shuffle(shuffled)
    cut = min(max(1, round(len(shuffled) * fraction)), len(shuffled) - 1)
    return shuffled[cut:], shuffled[:cut]


def metrics(scores: np.ndarray, truth: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Precision, recall, F1 and accuracy of the positive class at `threshold`."""
    predicted = scores >= threshold
    tp = int((predicted & truth).sum())
    fp = int((predicted & ~truth).sum())
    fn = int((~predicted & truth).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "accuracy": round(float((predicted == truth).mean()), 4),
        "threshold": threshold,
        "held_out": int(truth.size),
    }


@dataclass
class TrainResult:
    """What training produced: the model, its card, and the held-out texts it was measured on."""

    path: Path
    card: dict[str, Any]
    held_out: pl.DataFrame


def _write_training_file(path: Path, positive: list[str], negative: list[str], seed: int) -> None:
    """One `__label__X text` line per document, classes interleaved in seeded order."""
    lines = [f"{PREFIX}{POSITIVE} {t}" for t in positive]
    lines += [f"{PREFIX}{NEGATIVE} {t}" for t in negative]
    random.Random(seed).shuffle(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def train_quality_model(
    positive_specs: list[SourceSpec],
    negative_specs: list[SourceSpec],
    output: Path,
    config: TrainConfig,
) -> TrainResult:
    """Train, evaluate on the held-out split, optionally quantize, and write MODEL + MODEL.json."""
    import fasttext

    config.check()
    pos = read_side(positive_specs, POSITIVE)
    neg = read_side(negative_specs, NEGATIVE)
    both = set(pos.texts) & set(neg.texts)
    for side in (pos, neg):
        side.counts["in_both_sets"] = len(both)
        side.texts = [t for t in side.texts if t not in both]
    rng = random.Random(config.seed)
    pos_train, pos_test = split(pos.texts, config.holdout, rng, POSITIVE)
    neg_train, neg_test = split(neg.texts, config.holdout, rng, NEGATIVE)
    pos.counts["usable"], neg.counts["usable"] = len(pos.texts), len(neg.texts)
    pos.counts["held_out"], neg.counts["held_out"] = len(pos_test), len(neg_test)
    if config.balance:
        size = min(len(pos_train), len(neg_train))
        pos_train = rng.sample(pos_train, size) if len(pos_train) > size else pos_train
        neg_train = rng.sample(neg_train, size) if len(neg_train) > size else neg_train
    pos.counts["train"], neg.counts["train"] = len(pos_train), len(neg_train)
    pos.counts["dropped_to_balance"] = pos.counts["usable"] - len(pos_test) - len(pos_train)
    neg.counts["dropped_to_balance"] = neg.counts["usable"] - len(neg_test) - len(neg_train)

    test_texts = pos_test + neg_test
    truth = np.array([True] * len(pos_test) + [False] * len(neg_test))
    label = full_label(POSITIVE)
    params = {
        "epoch": config.epochs,
        "lr": config.lr,
        "wordNgrams": config.word_ngrams,
        "dim": config.dim,
        "bucket": config.bucket,
        "minCount": config.min_count,
        "loss": "softmax",
        "thread": 1,
        "seed": config.seed,
        "verbose": 0,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="winnow-quality-") as tmp:
        train_file = Path(tmp) / "train.txt"
        _write_training_file(train_file, pos_train, neg_train, config.seed)
        started = time.perf_counter()
        try:
            with zeroed_allocations():
                model = fasttext.train_supervised(input=str(train_file), **params)
        except RuntimeError as exc:
            raise WinnowError(
                f"fastText training diverged ({exc}) at --lr {config.lr}; lower it (e.g. 0.1) "
                "or train for more --epochs instead."
            ) from exc
        seconds = time.perf_counter() - started
        full = metrics(label_probability(model, test_texts, label), truth)
        kept, quantized_metrics = full, None
        if config.quantize:
            full_file = Path(tmp) / "full.bin"
            model.save_model(str(full_file))
            with zeroed_allocations():
                model.quantize(input=str(train_file), qnorm=True, retrain=False, cutoff=20_000)
            quantized_metrics = metrics(label_probability(model, test_texts, label), truth)
            if quantized_metrics["f1"] >= full["f1"] - QUANTIZE_TOLERANCE:
                kept = quantized_metrics
            else:
                model = fasttext.load_model(str(full_file))
            seconds = time.perf_counter() - started
        staged = output.with_name(f".{output.name}.{os.getpid()}.tmp")
        model.save_model(str(staged))
        os.replace(staged, output)
    card = {
        "kind": "winnow quality classifier (fastText)",
        "label": POSITIVE,
        "labels": [POSITIVE, NEGATIVE],
        "metrics": kept,
        "metrics_full": full,
        "metrics_quantized": quantized_metrics,
        "quantized": kept is quantized_metrics,
        "classes": {POSITIVE: pos.counts, NEGATIVE: neg.counts},
        "sources": {POSITIVE: pos.sources, NEGATIVE: neg.sources},
        "parameters": {**asdict(config), "fasttext": params},
        "seed": config.seed,
        "fasttext_version": fasttext_version(),
        "size_bytes": output.stat().st_size,
        "training_seconds": round(seconds, 3),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_json(card, card_path(output))
    return TrainResult(output, card, pl.DataFrame({"text": test_texts, "positive": truth}))


def card_path(model: Path) -> Path:
    """Where the model card of a model file lives: MODEL + '.json'."""
    return model.with_name(model.name + ".json")
