"""fastText quality classifiers: train one on positive and negative sources, load it, score text.

As GPT-3, Llama 3 and DCLM did: a bag of words and word bigrams (and, on request, character
n-grams), one linear layer, trained to tell curated text (the positives) from raw web text
(the negatives), or the kept rows of one labelled file from those whose label marks them
for removal (toxic comments, say). A held-out, seeded, stratified fraction measures it; the
model file and a JSON card beside it say what it is. Shipped models live in
`catalogs/models/` and are found by name.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import math
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

from winnow.catalogs import catalog_dirs
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

MODEL_SUFFIXES = (".ftz", ".bin")
"""The file names a shipped model may have in a catalog's `models/` folder."""

LOSSES = ("softmax", "ova", "hs")
"""fastText's losses for two classes: softmax, one-vs-all (independent sigmoids) and
hierarchical softmax."""

AUTOTUNE_SHARE = 0.1
"""The share of each class's training part that autotune validates on (never the held-out part)."""


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


def find_model(name: str | Path) -> Path | None:
    """A model file: the path itself, else NAME(.ftz|.bin) in a catalog `models/` folder."""
    file = Path(name).expanduser()
    if file.is_file():
        return file
    if file.name != str(name) or not file.name:
        return None
    for folder in catalog_dirs("models"):
        for suffix in ("", *MODEL_SUFFIXES):
            candidate = folder / f"{file.name}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def load_model(path: str | Path) -> Any:
    """The fastText model at `path` (or shipped under that name in catalogs/models/), cached
    per process; a missing file is a WinnowError."""
    file = find_model(path)
    if file is None:
        raise WinnowError(
            f"quality model '{path}' is not a file; train one with 'winnow curate quality train "
            "--positive SRC --negative SRC --output MODEL', fix the path, or name a model of "
            "catalogs/models/ (e.g. korean-toxicity)."
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
    minn: int = 0
    maxn: int = 0
    loss: str = "softmax"
    autotune_seconds: int = 0
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
        for name in ("minn", "maxn", "autotune_seconds"):
            if getattr(self, name) < 0:
                raise WinnowError(f"--{name.replace('_', '-')} must be 0 or more.")
        if self.loss not in LOSSES:
            raise WinnowError(f"--loss {self.loss} is not one of {', '.join(LOSSES)}.")
        if self.minn > self.maxn:
            raise WinnowError(
                f"--minn {self.minn} is above --maxn {self.maxn}; character n-grams run from "
                "minn to maxn characters, so use e.g. --minn 1 --maxn 3 (0 and 0 turn them off)."
            )


@dataclass
class ClassSet:
    """One side's documents after cleaning, with counts of what was set aside and why."""

    texts: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)


def _usable(texts: list[str], counts: dict[str, int], side: str, hint: str) -> list[str]:
    """The non-empty, de-duplicated texts of one side, counting what was set aside."""
    non_empty = [t for t in texts if t]
    counts["empty"] = len(texts) - len(non_empty)
    unique = list(dict.fromkeys(non_empty))
    counts["duplicates"] = len(non_empty) - len(unique)
    if not unique:
        raise WinnowError(
            f"the {side} set has no usable text ({counts['read']} rows read, "
            f"{counts['unreadable']} unreadable, {counts['empty']} empty); {hint}"
        )
    return unique


def _source_record(spec: SourceSpec, rows: int) -> dict[str, Any]:
    """What the card says about one source it read."""
    return {
        "source": spec.name,
        "files": spec.files() or [spec.hub_id],
        "text_field": spec.text_field,
        "fingerprint": spec.fingerprint(),
        "rows": rows,
    }


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
        sources.append(_source_record(spec, rows))
    hint = f"give --{side} sources with text, or set --{side}-field to the field that holds it."
    return ClassSet(_usable(texts, counts, side, hint), counts, sources)


def _label_column(columns: list[str], spec: SourceSpec, label_field: str) -> str:
    """The docs column holding `label_field` (a field named id or text is kept as *_original)."""
    if label_field == spec.text_field:
        raise WinnowError(
            f"--label-field '{label_field}' is also the text field; name the field that holds "
            "the labels (e.g. --label-field hate) and the text with --text-field."
        )
    for name in (label_field, f"{label_field}_original"):
        if name in columns and name not in ("id", "text", "source_file", "__line"):
            return name
    fields = ", ".join(c for c in columns if c not in ("id", "source_file", "__line"))
    raise WinnowError(
        f"{spec.name}: has no field '{label_field}' to read labels from; its fields are: "
        f"{fields}. Set --label-field to one of them."
    )


def _fresh_counts() -> dict[str, int]:
    """The counts every class of a labelled source starts from."""
    return {"read": 0, "unreadable": 0, "empty": 0, "duplicates": 0, "unlabelled": 0}


def _field_rows(
    spec: SourceSpec, field: str, counts: dict[str, int]
) -> tuple[list[tuple[str, str | None]], int]:
    """Each readable row's normalized text and its `field` as a string, and the row count;
    unreadable rows are added to `counts`."""
    values: list[tuple[str, str | None]] = []
    rows = 0
    for batch in iter_documents(spec):
        counts["unreadable"] += batch.quarantine.height
        rows += batch.docs.height
        if not batch.docs.height:
            continue
        column = _label_column(batch.docs.columns, spec, field)
        labels = batch.docs.get_column(column).cast(pl.Utf8).to_list()
        texts = normalize_texts(batch.docs.get_column("text")).to_list()
        values += zip(texts, labels, strict=True)
    return values, rows


def read_labelled(
    spec: SourceSpec,
    label_field: str,
    negative_labels: list[str],
    positive_labels: list[str] | None = None,
) -> tuple[ClassSet, ClassSet, dict[str, int]]:
    """Read one labelled source into the kept (positive) and removed (negative) classes.

    A row whose label is in `negative_labels` is a negative; with `positive_labels` only
    those labels are positives (others are counted and left out), else every other label is.
    Returns both classes and the row count of each label seen.
    """
    negatives = [n.strip() for n in negative_labels if n.strip()]
    if not negatives:
        raise WinnowError("--negative-labels is empty; name the labels to remove, e.g. hate.")
    wanted = [p.strip() for p in positive_labels or [] if p.strip()] or None
    pos_texts: list[str] = []
    neg_texts: list[str] = []
    seen: dict[str, int] = {}
    pos_counts, neg_counts = _fresh_counts(), _fresh_counts()
    values, rows = _field_rows(spec, label_field, pos_counts)
    for text, value in values:
        label = (value or "").strip()
        if not label:
            pos_counts["unlabelled"] += 1
            continue
        seen[label] = seen.get(label, 0) + 1
        if label in negatives:
            neg_texts.append(text)
        elif wanted is None or label in wanted:
            pos_texts.append(text)
    if not rows:
        raise WinnowError(f"{spec.name}: has no readable rows; check the file and --text-field.")
    names = ", ".join(sorted(seen)) or "none"
    for label in negatives + (wanted or []):
        if label not in seen:
            raise WinnowError(
                f"{spec.name}: no row has {label_field} '{label}'; the labels found are: "
                f"{names}. Fix --negative-labels or --positive-labels."
            )
    pos_counts["read"], neg_counts["read"] = len(pos_texts), len(neg_texts)
    pos_counts["left_out"] = sum(seen.values()) - len(pos_texts) - len(neg_texts)
    neg_counts["left_out"] = 0
    hint = f"check --label-field {label_field} and the labels given."
    source = {**_source_record(spec, rows), "label_field": label_field, "labels": seen}
    pos = ClassSet(_usable(pos_texts, pos_counts, POSITIVE, hint), pos_counts, [source])
    neg = ClassSet(_usable(neg_texts, neg_counts, NEGATIVE, hint), neg_counts, [source])
    return pos, neg, seen


def read_scored(
    spec: SourceSpec, score_field: str, keep_at: float
) -> tuple[ClassSet, ClassSet, dict[str, float]]:
    """Read one source with a numeric score per row (an annotation dataset's `score`, say):
    rows scoring `keep_at` or more are the kept (positive) class, the rest the removed one.

    Returns both classes and each usable text's score (the first one seen for a text that
    repeats); rows with no number are counted as unlabelled and left out.
    """
    pos_texts: list[str] = []
    neg_texts: list[str] = []
    scores: dict[str, float] = {}
    pos_counts, neg_counts = _fresh_counts(), _fresh_counts()
    seen: dict[str, int] = {}
    values, rows = _field_rows(spec, score_field, pos_counts)
    for text, raw in values:
        try:
            value = float((raw or "").strip())
        except ValueError:
            value = math.nan
        if value != value:  # null, not a number, or NaN
            pos_counts["unlabelled"] += 1
            continue
        seen[f"{value:g}"] = seen.get(f"{value:g}", 0) + 1
        scores.setdefault(text, value)
        (pos_texts if value >= keep_at else neg_texts).append(text)
    if not rows:
        raise WinnowError(f"{spec.name}: has no readable rows; check the source and --text-field.")
    if not seen:
        raise WinnowError(
            f"{spec.name}: field '{score_field}' holds no numbers in {rows} rows; set "
            "--score-field (or --label-field) to the field with each row's numeric score."
        )
    low, high = min(float(k) for k in seen), max(float(k) for k in seen)
    if not pos_texts or not neg_texts:
        side = "at or above" if not pos_texts else "below"
        raise WinnowError(
            f"{spec.name}: no row scores {side} --keep-at {keep_at:g} ({score_field} runs from "
            f"{low:g} to {high:g}), so one class is empty; set --keep-at above {low:g} and at "
            f"most {high:g}."
        )
    pos_counts["read"], neg_counts["read"] = len(pos_texts), len(neg_texts)
    hint = f"check --keep-at {keep_at:g} and the field {score_field}."
    source = {**_source_record(spec, rows), "score_field": score_field, "scores": seen}
    pos = ClassSet(_usable(pos_texts, pos_counts, POSITIVE, hint), pos_counts, [source])
    neg = ClassSet(_usable(neg_texts, neg_counts, NEGATIVE, hint), neg_counts, [source])
    return pos, neg, scores


def split(
    texts: list[str], fraction: float, rng: random.Random, side: str, hint: str = ""
) -> tuple[list, list]:
    """Shuffle one class and cut off its held-out share (at least one document each way)."""
    if len(texts) < 2:
        raise WinnowError(
            f"the {side} set has {len(texts)} usable document; a held-out split needs at least "
            f"2, so add {hint or f'--{side} data'}."
        )
    shuffled = texts[:]
    rng.shuffle(shuffled)
    cut = min(max(1, round(len(shuffled) * fraction)), len(shuffled) - 1)
    return shuffled[cut:], shuffled[:cut]


def metrics(
    scores: np.ndarray, truth: np.ndarray, threshold: float = 0.5, removed: bool = False
) -> dict[str, float]:
    """Precision, recall, F1 and accuracy of the positive class at `threshold`; with `removed`,
    of the negative class (what a filter at `threshold` drops: a score below it)."""
    predicted = scores >= threshold
    if removed:
        predicted, truth = ~predicted, ~truth
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


EFFECTIVE = ("epoch", "lr", "wordNgrams", "dim", "bucket", "minCount", "minn", "maxn", "loss")
"""The fastText settings read back from the trained model (autotune may have changed them)."""


def _effective(model: Any) -> dict[str, Any]:
    """The settings the trained model was made with, as fastText reports them."""
    values = {}
    for name in EFFECTIVE:
        value = getattr(model, name, None)
        values[name] = (
            value if isinstance(value, int | float | str) or value is None else str(value)
        )
    return values


@dataclass
class Splits:
    """Each class cut into training, autotune-validation and held-out parts."""

    train: dict[str, list[str]]
    validate: dict[str, list[str]]
    test: dict[str, list[str]]


def split_classes(
    pos: ClassSet, neg: ClassSet, config: TrainConfig, hint: dict[str, str] | None = None
) -> Splits:
    """Seeded, stratified split of both classes (the same seed gives the same parts): the
    held-out share first, then autotune's share carved from the training part, then balance."""
    rng = random.Random(config.seed)
    hints = hint or {}
    train, validate, test = {}, {}, {}
    for side, cls in ((POSITIVE, pos), (NEGATIVE, neg)):
        train[side], test[side] = split(cls.texts, config.holdout, rng, side, hints.get(side, ""))
        cls.counts["usable"], cls.counts["held_out"] = len(cls.texts), len(test[side])
    for side, cls in ((POSITIVE, pos), (NEGATIVE, neg)):
        validate[side] = []
        if config.autotune_seconds:
            train[side], validate[side] = split(train[side], AUTOTUNE_SHARE, rng, side)
        cls.counts["autotune_validation"] = len(validate[side])
    if config.balance:
        size = min(len(train[POSITIVE]), len(train[NEGATIVE]))
        for side in (POSITIVE, NEGATIVE):
            if len(train[side]) > size:
                train[side] = rng.sample(train[side], size)
    for side, cls in ((POSITIVE, pos), (NEGATIVE, neg)):
        cls.counts["train"] = len(train[side])
        rest = cls.counts["usable"] - cls.counts["held_out"] - cls.counts["autotune_validation"]
        cls.counts["dropped_to_balance"] = rest - len(train[side])
    return Splits(train, validate, test)


def train_quality_model(
    positive_specs: list[SourceSpec],
    negative_specs: list[SourceSpec],
    output: Path,
    config: TrainConfig,
) -> TrainResult:
    """Train on positive and negative sources, evaluate on the held-out split, optionally
    quantize, and write MODEL + MODEL.json."""
    config.check()
    pos = read_side(positive_specs, POSITIVE)
    neg = read_side(negative_specs, NEGATIVE)
    return train_classes(pos, neg, output, config, target=POSITIVE)


def train_labelled_model(
    spec: SourceSpec,
    label_field: str,
    negative_labels: list[str],
    output: Path,
    config: TrainConfig,
    positive_labels: list[str] | None = None,
) -> TrainResult:
    """Train on one labelled source: rows labelled with `negative_labels` are what a filter
    removes, the rest (or `positive_labels`) what it keeps; measured on the removal."""
    config.check()
    pos, neg, seen = read_labelled(spec, label_field, negative_labels, positive_labels)
    extra = {
        "labelled": {
            "label_field": label_field,
            "negative_labels": [n.strip() for n in negative_labels if n.strip()],
            "positive_labels": positive_labels
            or sorted(set(seen) - {n.strip() for n in negative_labels}),
            "rows_per_label": seen,
        }
    }
    hint = "labelled rows to the file"
    return train_classes(
        pos,
        neg,
        output,
        config,
        target=NEGATIVE,
        extra=extra,
        hint={POSITIVE: hint, NEGATIVE: hint},
    )


def train_scored_model(
    spec: SourceSpec, score_field: str, keep_at: float, output: Path, config: TrainConfig
) -> TrainResult:
    """Train on one source with a numeric score per row (an annotation dataset): rows scoring
    `keep_at` or more are kept, the rest removed, as FineWeb-Edu's binary classifier used 3."""
    config.check()
    pos, neg, _ = read_scored(spec, score_field, keep_at)
    extra = {"scored": {"score_field": score_field, "keep_at": keep_at}}
    hint = "scored rows to the source"
    return train_classes(
        pos,
        neg,
        output,
        config,
        target=POSITIVE,
        extra=extra,
        hint={POSITIVE: hint, NEGATIVE: hint},
    )


def train_classes(
    pos: ClassSet,
    neg: ClassSet,
    output: Path,
    config: TrainConfig,
    target: str = POSITIVE,
    extra: dict[str, Any] | None = None,
    hint: dict[str, str] | None = None,
) -> TrainResult:
    """Split, train (or autotune), evaluate, optionally quantize, and write MODEL + MODEL.json.

    `target` is the class whose held-out F1 decides whether the quantized model is kept and
    that autotune maximizes: the kept class for a quality filter, the removed one for a
    toxicity filter.
    """
    import fasttext

    config.check()
    both = set(pos.texts) & set(neg.texts)
    for side in (pos, neg):
        side.counts["in_both_sets"] = len(both)
        side.texts = [t for t in side.texts if t not in both]
    parts = split_classes(pos, neg, config, hint)
    test_texts = parts.test[POSITIVE] + parts.test[NEGATIVE]
    truth = np.array([True] * len(parts.test[POSITIVE]) + [False] * len(parts.test[NEGATIVE]))
    label = full_label(POSITIVE)
    removed = target == NEGATIVE
    params: dict[str, Any] = {
        "epoch": config.epochs,
        "lr": config.lr,
        "wordNgrams": config.word_ngrams,
        "dim": config.dim,
        "bucket": config.bucket,
        "minCount": config.min_count,
        "minn": config.minn,
        "maxn": config.maxn,
        "loss": config.loss,
        "thread": 1,
        "seed": config.seed,
        "verbose": 0,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="winnow-quality-") as tmp:
        train_file = Path(tmp) / "train.txt"
        _write_training_file(train_file, parts.train[POSITIVE], parts.train[NEGATIVE], config.seed)
        if config.autotune_seconds:
            valid_file = Path(tmp) / "autotune.txt"
            _write_training_file(
                valid_file, parts.validate[POSITIVE], parts.validate[NEGATIVE], config.seed
            )
            params |= {
                "autotuneValidationFile": str(valid_file),
                "autotuneDuration": config.autotune_seconds,
                "autotuneMetric": f"f1:{full_label(target)}",
            }
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
        effective = _effective(model)
        scored = label_probability(model, test_texts, label)
        full = metrics(scored, truth)
        full_removed = metrics(scored, truth, removed=True)
        kept, kept_removed = full, full_removed
        quantized_metrics = quantized_removed = None
        if config.quantize:
            full_file = Path(tmp) / "full.bin"
            model.save_model(str(full_file))
            with zeroed_allocations():
                model.quantize(input=str(train_file), qnorm=True, retrain=False, cutoff=20_000)
            scored = label_probability(model, test_texts, label)
            quantized_metrics = metrics(scored, truth)
            quantized_removed = metrics(scored, truth, removed=True)
            new, old = (quantized_removed, full_removed) if removed else (quantized_metrics, full)
            if new["f1"] >= old["f1"] - QUANTIZE_TOLERANCE:
                kept, kept_removed = quantized_metrics, quantized_removed
            else:
                model = fasttext.load_model(str(full_file))
            seconds = time.perf_counter() - started
        staged = output.with_name(f".{output.name}.{os.getpid()}.tmp")
        model.save_model(str(staged))
        os.replace(staged, output)
    recorded = {k: v for k, v in params.items() if k != "autotuneValidationFile"}
    card = {
        "kind": "winnow quality classifier (fastText)",
        "label": POSITIVE,
        "labels": [POSITIVE, NEGATIVE],
        "target": target,
        "metrics": kept,
        "metrics_full": full,
        "metrics_quantized": quantized_metrics,
        "metrics_removed": kept_removed,
        "metrics_removed_full": full_removed,
        "metrics_removed_quantized": quantized_removed,
        "quantized": kept is quantized_metrics,
        "classes": {POSITIVE: pos.counts, NEGATIVE: neg.counts},
        "sources": {POSITIVE: pos.sources, NEGATIVE: neg.sources},
        "parameters": {**asdict(config), "fasttext": recorded, "fasttext_effective": effective},
        "seed": config.seed,
        "fasttext_version": fasttext_version(),
        "size_bytes": output.stat().st_size,
        "training_seconds": round(seconds, 3),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **(extra or {}),
    }
    write_json(card, card_path(output))
    return TrainResult(output, card, pl.DataFrame({"text": test_texts, "positive": truth}))


def card_path(model: Path) -> Path:
    """Where the model card of a model file lives: MODEL + '.json'."""
    return model.with_name(model.name + ".json")
