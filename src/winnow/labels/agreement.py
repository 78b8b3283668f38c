"""How far annotators agree: Cohen's kappa for each pair, Krippendorff's alpha over all.

Both are computed from a contingency (kappa) or coincidence (alpha) matrix with numpy, after
Cohen (1960) and Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011). A value
that is undefined (no pairable values, or no variation at all) is NaN, and None in `agreement`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from winnow.errors import WinnowError
from winnow.labels.store import LabelStore

LEVELS = ("nominal", "ordinal", "interval", "ratio")
WEIGHTS = (None, "linear", "quadratic")
PREFERENCES = ("chosen", "tie", "rejected")
"""Pairwise labels are compared on the side preferred, not on A/B, whose order differs."""


def _categories(values: Sequence[Hashable], order: Sequence[Hashable] | None) -> list[Hashable]:
    """The categories in the given order (all values must be among them), else sorted."""
    if order is None:
        return sorted(set(values), key=lambda v: (str(type(v)), v))
    unknown = set(values) - set(order)
    if unknown:
        raise WinnowError(f"values {sorted(map(str, unknown))} are not among {list(order)}.")
    return list(order)


def cohen_kappa(
    a: Sequence[Hashable],
    b: Sequence[Hashable],
    labels: Sequence[Hashable] | None = None,
    weights: str | None = None,
) -> float:
    """Cohen's kappa of two annotators' labels of the same items (weighted by the distance of
    the categories' positions in `labels` when `weights` is linear or quadratic)."""
    if len(a) != len(b):
        raise WinnowError(f"kappa needs two equally long label lists, got {len(a)} and {len(b)}.")
    if weights not in WEIGHTS:
        raise WinnowError(f"kappa weights '{weights}' is unknown; use linear or quadratic.")
    if not a:
        return math.nan
    categories = _categories([*a, *b], labels)
    index = {value: i for i, value in enumerate(categories)}
    size = len(categories)
    observed = np.zeros((size, size))
    np.add.at(observed, ([index[v] for v in a], [index[v] for v in b]), 1)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    positions = np.arange(size)
    distance = np.abs(positions[:, None] - positions[None, :]).astype(float)
    if weights is None:
        distance = (distance > 0).astype(float)
    elif weights == "quadratic":
        distance = distance**2
    disagreement = float((distance * expected).sum())
    if disagreement == 0:
        return math.nan
    return 1.0 - float((distance * observed).sum()) / disagreement


def _distances(level: str, values: list[Hashable], totals: np.ndarray) -> np.ndarray:
    """Squared distance between every two values at a level of measurement."""
    if level == "nominal":
        return 1.0 - np.eye(len(values))
    if level == "ordinal":
        upto = np.concatenate([[0.0], np.cumsum(totals)])
        low = np.minimum.outer(np.arange(len(values)), np.arange(len(values)))
        high = np.maximum.outer(np.arange(len(values)), np.arange(len(values)))
        between = upto[high + 1] - upto[low]
        return (between - (totals[:, None] + totals[None, :]) / 2) ** 2
    try:
        numbers = np.array([float(v) for v in values])
    except (TypeError, ValueError):
        raise WinnowError(f"{level} alpha needs numeric values, got {values}.") from None
    if level == "interval":
        return (numbers[:, None] - numbers[None, :]) ** 2
    sums = numbers[:, None] + numbers[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = ((numbers[:, None] - numbers[None, :]) / sums) ** 2
    return np.where(sums == 0, 0.0, ratio)


def krippendorff_alpha(
    units: Mapping[Hashable, Mapping[Hashable, Hashable | None]],
    level: str = "nominal",
    order: Sequence[Hashable] | None = None,
) -> float:
    """Krippendorff's alpha of `units` = {item: {annotator: value}}; None values and items with
    fewer than two values are left out. Ordinal ranks follow `order` (else sorted values)."""
    if level not in LEVELS:
        raise WinnowError(f"alpha level '{level}' is unknown; use one of: {', '.join(LEVELS)}.")
    pairable = [
        values
        for values in ([v for v in unit.values() if v is not None] for unit in units.values())
        if len(values) >= 2
    ]
    if not pairable:
        return math.nan
    flat = [v for values in pairable for v in values]
    if order is None and level in ("interval", "ratio"):
        order = sorted(set(flat), key=float)
    categories = _categories(flat, order)
    index = {value: i for i, value in enumerate(categories)}
    counts = np.zeros((len(pairable), len(categories)))
    for row, values in enumerate(pairable):
        np.add.at(counts[row], [index[v] for v in values], 1)
    weight = 1.0 / (counts.sum(axis=1) - 1)
    coincidences = (counts * weight[:, None]).T @ counts
    coincidences -= np.diag((counts * weight[:, None]).sum(axis=0))
    totals = coincidences.sum(axis=1)
    delta = _distances(level, categories, totals)
    expected = float((np.outer(totals, totals) * delta).sum())
    if expected == 0:
        return math.nan
    observed = float((coincidences * delta).sum())
    return 1.0 - (totals.sum() - 1) * observed / expected


def _defined(value: float) -> float | None:
    """NaN (undefined) as None, so that the result prints and serializes plainly."""
    return None if math.isnan(value) else round(value, 4)


def agreement(
    store: LabelStore, machine: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, Any]:
    """Kappa per annotator pair and alpha over all annotators of a label project's current
    labels, with the counts they rest on; `machine` adds a model's labels by name and item id
    (an LLM annotator's scores), compared with the people's like one more annotator."""
    task = store.task
    pairwise = task.kind == "pairwise"
    order = list(PREFERENCES) if pairwise else task.values
    level = "nominal" if pairwise else task.scale
    units: dict[str, dict[str, str]] = {}
    for (annotator, item_id), record in store.current().items():
        units.setdefault(item_id, {})[annotator] = record["preferred" if pairwise else "label"]
    for name, labels in (machine or {}).items():
        for item_id, value in labels.items():
            if item_id in units:
                units[item_id][name] = value
    per_annotator: dict[str, int] = {}
    for unit in units.values():
        for annotator in unit:
            per_annotator[annotator] = per_annotator.get(annotator, 0) + 1
    pairs = []
    for first, second in combinations(sorted(per_annotator), 2):
        shared = [u for u in units.values() if first in u and second in u]
        a, b = [u[first] for u in shared], [u[second] for u in shared]
        pair = {
            "a": first,
            "b": second,
            "items": len(shared),
            "agreement": _defined(sum(x == y for x, y in zip(a, b, strict=True)) / len(a))
            if shared
            else None,
            "kappa": _defined(cohen_kappa(a, b, order)),
        }
        if level != "nominal":
            pair["weighted_kappa"] = _defined(cohen_kappa(a, b, order, "quadratic"))
        pairs.append(pair)
    return {
        "dataset": store.version.ref,
        "task": task.name,
        "level": level,
        "annotators": dict(sorted(per_annotator.items())),
        "items_labelled": len(units),
        "items_shared": sum(len(unit) >= 2 for unit in units.values()),
        "labels": sum(per_annotator.values()),
        "pairs": pairs,
        "alpha": _defined(krippendorff_alpha(units, level, order)),
    }
