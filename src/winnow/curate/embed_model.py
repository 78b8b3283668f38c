"""Quality classifiers on sentence embeddings, as FineWeb-Edu trained its educational filter.

Each document becomes one unit vector from a sentence encoder (`winnow.embed`, all-MiniLM-L6-v2
by default); a small head learns from those vectors: a linear layer (logistic regression, or
linear regression on a numeric score) or a one-hidden-layer MLP. The classes come from the same
places as the fastText trainer's (`quality_model`): positive and negative sources, one labelled
source with labels to remove, or one source with a numeric score per row and `keep_at` (an
annotation dataset's 0-5 `score`; FineWeb-Edu kept 3 and up). Reading, cleaning, the seeded
stratified split, balancing and the precision/recall arithmetic are `quality_model`'s.

Training carves three parts from each class: held out (measured once, at the end), validation
(a tenth of the rest; the threshold is chosen there, so the held-out numbers are not tuned on)
and training. The model is a folder: `head.safetensors` (the head's weights, no pickle) and
`card.json` (the encoder's name and weights fingerprint, sources, counts, settings, seed,
held-out metrics per threshold, the chosen threshold and the rule that chose it, timings).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import random
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from winnow.curate.quality_model import (
    NEGATIVE,
    POSITIVE,
    ClassSet,
    TrainConfig,
    metrics,
    normalize_texts,
    read_labelled,
    read_scored,
    read_side,
    split_classes,
)
from winnow.curate.sources import SourceSpec
from winnow.errors import WinnowError
from winnow.files import read_json, write_json

KIND = "winnow embedding quality classifier"
FORMAT = 1
"""The folder layout's version; a card with another one is refused."""

WEIGHTS = "head.safetensors"
CARD = "card.json"
HEADS = ("linear", "mlp")
OBJECTIVES = ("classify", "regress")

PROBABILITY_THRESHOLDS = tuple(round(0.1 * i, 1) for i in range(1, 10))
"""The thresholds a classifying head is measured at (probabilities of the kept class)."""

SCORE_STEP = 0.25
"""The spacing of the score cut-offs a regression head is measured at."""

THRESHOLD_RULE = (
    "the threshold with the highest F1 of the kept class on the validation part (a seeded "
    "tenth of the training part, never the held-out part); ties go to the one nearest "
    "{default:g}"
)


@dataclass
class EmbedConfig:
    """The knobs of one training run, all recorded in the card."""

    holdout: float = 0.1
    seed: int = 0
    head: str = "linear"
    objective: str = "classify"
    hidden: int = 256
    steps: int = 0
    """Full-batch optimizer steps; 0 picks per head (100 L-BFGS steps linear, 300 AdamW mlp)."""
    lr: float = 0.0
    """Learning rate; 0 picks per head (1.0 for L-BFGS, 0.003 for AdamW)."""
    weight_decay: float = 1e-3
    balance: bool = True
    max_per_class: int = 0
    """Use at most this many documents of each class (a seeded sample), 0 for all."""
    encoder: str = "minilm"
    batch_size: int = 64
    device: str = "auto"

    def check(self) -> None:
        """Refuse settings that would fail mid-run or leave nothing to measure."""
        if not 0.0 < self.holdout < 1.0:
            raise WinnowError(f"--holdout {self.holdout} must be between 0 and 1; use e.g. 0.1.")
        if self.head not in HEADS:
            raise WinnowError(f"--head {self.head} is not one of {', '.join(HEADS)}.")
        if self.objective not in OBJECTIVES:
            raise WinnowError(
                f"--objective {self.objective} is not one of {', '.join(OBJECTIVES)}."
            )
        for name in ("hidden", "batch_size"):
            if getattr(self, name) < 1:
                raise WinnowError(f"--{name.replace('_', '-')} must be at least 1.")
        for name in ("steps", "max_per_class", "lr", "weight_decay"):
            if getattr(self, name) < 0:
                raise WinnowError(f"--{name.replace('_', '-')} must be 0 or more.")
        if self.device not in ("auto", "cpu", "cuda"):
            raise WinnowError(f"--device {self.device}: use auto, cpu or cuda.")

    def optimizer(self) -> tuple[int, float]:
        """The steps and learning rate in effect (0 picks the head's defaults)."""
        if self.head == "linear":
            return self.steps or 100, self.lr or 1.0
        return self.steps or 300, self.lr or 0.003


@dataclass
class EmbedResult:
    """What training produced: the model folder, its card and the held-out rows it was
    measured on (`text`, `positive`, and `target` for a regression)."""

    path: Path
    card: dict[str, Any]
    held_out: pl.DataFrame


@dataclass
class Labels:
    """The two classes to learn and, for a numeric score, each text's score."""

    pos: ClassSet
    neg: ClassSet
    scores: dict[str, float] | None = None
    keep_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    hint: dict[str, str] = field(default_factory=dict)


def from_sources(positive: list[SourceSpec], negative: list[SourceSpec]) -> Labels:
    """Documents to keep and to drop, read as the fastText trainer reads them."""
    return Labels(read_side(positive, POSITIVE), read_side(negative, NEGATIVE))


def from_labelled(
    spec: SourceSpec,
    label_field: str,
    negative_labels: list[str],
    positive_labels: list[str] | None = None,
) -> Labels:
    """One labelled source: rows with `negative_labels` are removed, the rest kept."""
    pos, neg, seen = read_labelled(spec, label_field, negative_labels, positive_labels)
    negatives = [n.strip() for n in negative_labels if n.strip()]
    extra = {
        "labelled": {
            "label_field": label_field,
            "negative_labels": negatives,
            "positive_labels": positive_labels or sorted(set(seen) - set(negatives)),
            "rows_per_label": seen,
        }
    }
    hint = "labelled rows to the source"
    return Labels(pos, neg, extra=extra, hint={POSITIVE: hint, NEGATIVE: hint})


def from_scored(spec: SourceSpec, score_field: str, keep_at: float) -> Labels:
    """One source with a numeric score per row: `keep_at` and up are kept, the rest removed."""
    pos, neg, scores = read_scored(spec, score_field, keep_at)
    extra = {"scored": {"score_field": score_field, "keep_at": keep_at}}
    hint = "scored rows to the source"
    return Labels(pos, neg, scores, keep_at, extra, {POSITIVE: hint, NEGATIVE: hint})


def _limit(labels: Labels, config: EmbedConfig) -> None:
    """Drop texts in both classes, then keep a seeded sample of at most max_per_class each."""
    both = set(labels.pos.texts) & set(labels.neg.texts)
    rng = random.Random(config.seed)
    for side in (labels.pos, labels.neg):
        side.counts["in_both_sets"] = len(both)
        side.texts = [t for t in side.texts if t not in both]
        over = max(0, len(side.texts) - config.max_per_class) if config.max_per_class else 0
        if over:
            side.texts = rng.sample(side.texts, config.max_per_class)
        side.counts["over_max_per_class"] = over


def fit_head(
    vectors: np.ndarray, targets: np.ndarray, config: EmbedConfig
) -> dict[str, np.ndarray]:
    """Fit the head on `vectors` (float32, one row per document) and return its weights.

    Full-batch, seeded and single-threaded, so the same data and seed give the same weights.
    A linear head is fitted with L-BFGS (logistic loss, or squared error for a regression),
    an MLP (ReLU, one hidden layer) with AdamW; both with an L2 penalty of weight_decay.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        generator = torch.Generator().manual_seed(config.seed)
        x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        y = torch.from_numpy(np.asarray(targets, dtype=np.float32))
        dim = x.shape[1]
        steps, lr = config.optimizer()
        if config.head == "linear":
            params = {"weight": torch.zeros(1, dim), "bias": torch.zeros(1)}
            if config.objective == "regress":
                params["bias"] += float(y.mean())
        else:
            bound1, bound2 = 1 / dim**0.5, 1 / config.hidden**0.5
            params = {
                "hidden.weight": (torch.rand(config.hidden, dim, generator=generator) * 2 - 1)
                * bound1,
                "hidden.bias": (torch.rand(config.hidden, generator=generator) * 2 - 1) * bound1,
                "weight": (torch.rand(1, config.hidden, generator=generator) * 2 - 1) * bound2,
                "bias": torch.full((1,), float(y.mean()) if config.objective == "regress" else 0.0),
            }
        for tensor in params.values():
            tensor.requires_grad_(True)

        def loss_fn() -> torch.Tensor:
            out = _forward_torch(params, x)
            if config.objective == "classify":
                loss = torch.nn.functional.binary_cross_entropy_with_logits(out, y)
            else:
                loss = torch.nn.functional.mse_loss(out, y)
            penalty = sum((p**2).sum() for n, p in params.items() if n.endswith("weight"))
            return loss + config.weight_decay * penalty

        if config.head == "linear":
            optimizer = torch.optim.LBFGS(
                list(params.values()), lr=lr, max_iter=steps, line_search_fn="strong_wolfe"
            )

            def closure() -> torch.Tensor:
                optimizer.zero_grad()
                loss = loss_fn()
                loss.backward()
                return loss

            optimizer.step(closure)
        else:
            optimizer = torch.optim.AdamW(list(params.values()), lr=lr, weight_decay=0.0)
            for _ in range(steps):
                optimizer.zero_grad()
                loss = loss_fn()
                loss.backward()
                optimizer.step()
        if not all(torch.isfinite(p).all() for p in params.values()):
            raise WinnowError(
                f"the {config.head} head diverged at --lr {lr:g}; lower it (e.g. {lr / 10:g})."
            )
        return {name: p.detach().numpy().astype(np.float32) for name, p in params.items()}
    finally:
        torch.set_num_threads(threads)


def _forward_torch(params: dict[str, Any], x: Any) -> Any:
    """The head's raw output (a logit or a score) for each row, in torch."""
    if "hidden.weight" in params:
        x = (x @ params["hidden.weight"].T + params["hidden.bias"]).clamp(min=0)
    return (x @ params["weight"].T + params["bias"])[:, 0]


def head_output(weights: dict[str, np.ndarray], vectors: np.ndarray, objective: str) -> np.ndarray:
    """The head's score per row in numpy: the kept class's probability for a classifier, the
    predicted score for a regression."""
    x = np.asarray(vectors, dtype=np.float32)
    if "hidden.weight" in weights:
        x = np.maximum(x @ weights["hidden.weight"].T + weights["hidden.bias"], 0)
    out = (x @ weights["weight"].T + weights["bias"])[:, 0].astype(np.float64)
    if objective == "classify":
        return 1.0 / (1.0 + np.exp(-np.clip(out, -60, 60)))
    return out


def thresholds_for(objective: str, scores: list[float], keep_at: float | None) -> list[float]:
    """The thresholds measured: probabilities 0.1-0.9, or score cut-offs every 0.25 inside the
    range of the scores trained on (keep_at always among them)."""
    if objective == "classify":
        return list(PROBABILITY_THRESHOLDS)
    low, high = min(scores), max(scores)
    cuts = np.arange(low + SCORE_STEP, high - SCORE_STEP / 2, SCORE_STEP).round(4).tolist()
    return sorted(set(cuts) | {float(keep_at if keep_at is not None else (low + high) / 2)})


def choose_threshold(
    predicted: np.ndarray, truth: np.ndarray, thresholds: list[float], default: float
) -> float:
    """The threshold of highest F1 (kept class) on these rows; ties go to the one nearest
    `default`."""
    best = max(
        thresholds,
        key=lambda t: (metrics(predicted, truth, t)["f1"], -abs(t - default)),
    )
    return float(best)


def threshold_table(
    predicted: np.ndarray, truth: np.ndarray, thresholds: list[float]
) -> list[dict[str, Any]]:
    """Held-out precision, recall and F1 of the kept class, and the share kept, per threshold."""
    rows = []
    for t in thresholds:
        row = metrics(predicted, truth, t)
        row["kept_share"] = round(float((predicted >= t).mean()), 4)
        rows.append(row)
    return rows


def _versions() -> dict[str, str]:
    """The library versions that made the head and the vectors."""
    out = {}
    for name in ("torch", "sentence-transformers", "safetensors"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def train_embed_model(labels: Labels, output: Path, config: EmbedConfig) -> EmbedResult:
    """Split, embed, fit the head, choose the threshold on validation, measure on the
    held-out part, and write OUTPUT/head.safetensors and OUTPUT/card.json."""
    from safetensors.numpy import save_file

    from winnow.embed.encoder import load_encoder

    config.check()
    if config.objective == "regress" and labels.scores is None:
        raise WinnowError(
            "--objective regress fits a numeric score, so it needs one --labelled source with "
            "--score-field and --keep-at; with --positive/--negative or --negative-labels use "
            "--objective classify."
        )
    if output.exists() and not output.is_dir():
        raise WinnowError(
            f"--output {output} is a file; an embedding model is a folder, so name a new or "
            "existing folder (e.g. models/edu-embed)."
        )
    started = time.perf_counter()
    _limit(labels, config)
    split_config = TrainConfig(
        holdout=config.holdout, seed=config.seed, balance=config.balance, autotune_seconds=1
    )  # autotune_seconds only asks split_classes to carve the validation part
    parts = split_classes(labels.pos, labels.neg, split_config, labels.hint or None)
    for side in (labels.pos, labels.neg):
        side.counts["validation"] = side.counts.pop("autotune_validation")
    names = ("train", "validate", "test")
    texts = {
        name: getattr(parts, name)[POSITIVE] + getattr(parts, name)[NEGATIVE] for name in names
    }
    truth = {
        name: np.array(
            [True] * len(getattr(parts, name)[POSITIVE])
            + [False] * len(getattr(parts, name)[NEGATIVE])
        )
        for name in names
    }
    encoder = load_encoder(config.encoder, config.device)
    everything = [t for name in names for t in texts[name]]
    embed_started = time.perf_counter()
    vectors = encoder.encode(everything, batch_size=config.batch_size)
    embed_seconds = time.perf_counter() - embed_started
    cuts = np.cumsum([len(texts[name]) for name in names])[:-1]
    by_part = dict(zip(names, np.split(vectors, cuts), strict=True))
    if config.objective == "regress":
        assert labels.scores is not None
        targets = np.array([labels.scores[t] for t in texts["train"]], dtype=np.float32)
    else:
        targets = truth["train"].astype(np.float32)
    fit_started = time.perf_counter()
    weights = fit_head(by_part["train"], targets, config)
    fit_seconds = time.perf_counter() - fit_started
    predicted = {name: head_output(weights, by_part[name], config.objective) for name in names}
    all_scores = list(labels.scores.values()) if labels.scores else []
    thresholds = thresholds_for(config.objective, all_scores, labels.keep_at)
    default = 0.5 if config.objective == "classify" else float(labels.keep_at or 0)
    chosen = choose_threshold(predicted["validate"], truth["validate"], thresholds, default)
    table = threshold_table(predicted["test"], truth["test"], thresholds)
    for row in table:
        row["chosen"] = row["threshold"] == chosen
    seconds = time.perf_counter() - started
    output.mkdir(parents=True, exist_ok=True)
    staged = output / f".{WEIGHTS}.{os.getpid()}.tmp"
    save_file(
        weights,
        str(staged),
        # one key: safetensors writes metadata in hash order, so several would vary run to run
        metadata={
            "winnow": json.dumps(
                {"head": config.head, "objective": config.objective, "format": FORMAT},
                sort_keys=True,
            )
        },
    )
    os.replace(staged, output / WEIGHTS)
    described = encoder.describe()
    steps, lr = config.optimizer()
    card = {
        "kind": KIND,
        "format": FORMAT,
        "encoder": {k: v for k, v in described.items() if k != "device"},
        "head": {
            "type": config.head,
            "objective": config.objective,
            "inputs": int(vectors.shape[1]),
            "hidden": config.hidden if config.head == "mlp" else None,
            "output": "probability of the kept class"
            if config.objective == "classify"
            else "predicted score",
            "file": WEIGHTS,
            "parameters": int(sum(w.size for w in weights.values())),
        },
        "label": POSITIVE,
        "threshold": chosen,
        "threshold_rule": THRESHOLD_RULE.format(default=default),
        "keep_at": labels.keep_at,
        "metrics": metrics(predicted["test"], truth["test"], chosen),
        "metrics_removed": metrics(predicted["test"], truth["test"], chosen, removed=True),
        "metrics_validation": metrics(predicted["validate"], truth["validate"], chosen),
        "thresholds": table,
        "classes": {POSITIVE: labels.pos.counts, NEGATIVE: labels.neg.counts},
        "sources": {POSITIVE: labels.pos.sources, NEGATIVE: labels.neg.sources},
        "parameters": {**asdict(config), "steps_used": steps, "lr_used": lr},
        "seed": config.seed,
        "versions": _versions(),
        "trained_on_device": described["device"],
        "embed_seconds": round(embed_seconds, 3),
        "fit_seconds": round(fit_seconds, 3),
        "training_seconds": round(seconds, 3),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **labels.extra,
    }
    write_json(card, output / CARD)
    held_out = pl.DataFrame({"text": texts["test"], "positive": truth["test"]})
    if labels.scores is not None:
        held_out = held_out.with_columns(
            pl.Series("target", [labels.scores[t] for t in texts["test"]], dtype=pl.Float64)
        )
    return EmbedResult(output, card, held_out)


@dataclass
class EmbedModel:
    """A trained head and its card, loaded from a model folder."""

    path: Path
    card: dict[str, Any]
    weights: dict[str, np.ndarray]

    @property
    def objective(self) -> str:
        """classify (scores are probabilities) or regress (scores are predicted scores)."""
        return str(self.card["head"]["objective"])

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        """The head's score per vector."""
        return head_output(self.weights, vectors, self.objective)


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> EmbedModel:
    """Read a model folder once per path and card modification time."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    folder = Path(path)
    card = read_json(folder / CARD)
    if card.get("kind") != KIND or card.get("format") != FORMAT:
        raise WinnowError(
            f"{folder / CARD} is not a card of {KIND} format {FORMAT}; train the model again "
            "with 'winnow curate quality train-embed'."
        )
    try:
        weights = load_file(str(folder / card["head"]["file"]))
    except (OSError, SafetensorError) as exc:
        raise WinnowError(
            f"{folder}: cannot read the head's weights ({exc}); train the model again with "
            "'winnow curate quality train-embed'."
        ) from exc
    return EmbedModel(folder, card, weights)


def load_embed_model(path: str | Path) -> EmbedModel:
    """The model folder at `path` (head.safetensors + card.json), cached per process."""
    folder = Path(path).expanduser()
    if not (folder / CARD).is_file():
        raise WinnowError(
            f"embedding model '{path}' is not a folder with {CARD}; train one with 'winnow "
            "curate quality train-embed --positive SRC --negative SRC --output FOLDER' or fix "
            "the path."
        )
    return _load(str(folder.resolve()), (folder / CARD).stat().st_mtime_ns)


def check_encoder(model: EmbedModel, where: str) -> str:
    """The encoder name the model was trained with, after checking that the encoder installed
    here is the same one (same weights fingerprint); else one sentence saying what to do."""
    from winnow.embed.encoder import encoder_folder, weights_fingerprint

    trained = model.card["encoder"]
    name = str(trained["name"])
    here = weights_fingerprint(encoder_folder(name))
    if here is not None and trained.get("fingerprint") and here != trained["fingerprint"]:
        raise WinnowError(
            f"{where}: the model was trained on encoder '{name}' with weights fingerprint "
            f"{trained['fingerprint']}, but '{name}' here has fingerprint {here}; its vectors "
            "would not match, so install the encoder it was trained with or retrain with "
            "'winnow curate quality train-embed'."
        )
    return name


def score_texts(
    model: EmbedModel, texts: pl.Series, batch_size: int = 64, device: str = "auto"
) -> np.ndarray:
    """The head's score per raw text, normalized as in training; empty texts get the lowest
    score a classifier gives (0) or, for a regression, minus infinity (never above a cut-off)."""
    from winnow.embed.encoder import load_encoder

    name = check_encoder(model, f"embedding model {model.path}")
    encoder = load_encoder(name, device)
    if encoder.dim != model.card["head"]["inputs"]:
        raise WinnowError(
            f"embedding model {model.path}: its head takes {model.card['head']['inputs']} "
            f"numbers but encoder '{name}' gives {encoder.dim}; retrain it with "
            "'winnow curate quality train-embed'."
        )
    flat = normalize_texts(texts)
    has_words = (flat.str.len_chars() > 0).to_numpy()
    empty = 0.0 if model.objective == "classify" else -np.inf
    scores = np.full(len(flat), empty, dtype=np.float64)
    if has_words.any():
        vectors = encoder.encode(flat.filter(has_words).to_list(), batch_size=batch_size)
        scores[has_words] = model.predict(vectors)
    return scores
