"""Why a row went, in numbers: the rule its step declares for the removal reason (the score
column, the comparison and the threshold the step decided with), so the page can say
"top_2_gram_frac 0.42 > 0.20" instead of a bare reason."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import polars as pl

from winnow.curate.dedup.minhash import lsh
from winnow.curate.dedup.minhash.core import MinhashSettings
from winnow.curate.steps import STEPS, Step, build_step


def recipe_entry(manifest: dict[str, Any], step: str) -> dict[str, Any]:
    """The step's entry in the recipe that made the version (the first, if it ran twice)."""
    entries = (manifest.get("recipe") or {}).get("steps") or []
    return next((e for e in entries if e.get("step") == step), {"step": step})


def parameters(entry: dict[str, Any]) -> Step | None:
    """The step as the recipe built it; when it cannot be built here (a model file that is not
    on this machine), its recipe values over the class defaults, unchecked; None for a step
    this version of winnow does not have."""
    try:
        return build_step(entry, "the manifest's recipe")
    except Exception:  # noqa: BLE001 - any failure falls back to plain values
        cls = STEPS.get(entry.get("step", ""))
        if cls is None:
            return None
        step = object.__new__(cls)
        for field in dataclasses.fields(cls):
            if field.default is not dataclasses.MISSING:
                setattr(step, field.name, field.default)
            elif field.default_factory is not dataclasses.MISSING:
                setattr(step, field.name, field.default_factory())
        for key, value in entry.items():
            if key != "step":
                setattr(step, key, value)
        return step


def number(value: Any, decimals: int) -> str:
    """A measured value or threshold as the page shows it."""
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def decimals_apart(value: Any, limit: Any) -> int:
    """The fewest decimals (two or more) that show a float value apart from its threshold."""
    places = 2
    if isinstance(value, float) and isinstance(limit, int | float):
        while places < 6 and round(value, places) == round(limit, places):
            places += 1
    return places


def explain(manifest: dict[str, Any], row: dict[str, Any]) -> str | None:
    """ "COLUMN VALUE OP THRESHOLD" for a removed row, or None when no rule or value is known."""
    step = parameters(recipe_entry(manifest, row.get("step") or ""))
    rules = step.rules() if step is not None else ()
    rule = next((r for r in rules if r.reason == row.get("reason")), None)
    if rule is None or row.get(rule.column) is None:
        return None
    limit = rule.threshold(row)
    if limit is None:
        return None
    value = row[rule.column]
    places = decimals_apart(value, limit)
    short = rule.column.removeprefix(f"{row['step']}_")
    name = short if "_" in short else rule.column
    return f"{name} {number(value, places)} {rule.op} {number(limit, places)}"


def minhash_step(manifest: dict[str, Any]) -> MinhashSettings:
    """The recipe's minhash_dedup step, or its defaults when the recipe has none."""
    step = parameters(recipe_entry(manifest, "minhash_dedup"))
    return step if isinstance(step, MinhashSettings) else MinhashSettings()


def similarity(step: MinhashSettings, text: str, other: str) -> float:
    """Exact Jaccard similarity of two texts' shingle sets, shingled as the minhash_dedup step
    shingles them; 0 when a text has no shingle."""
    hashes, first, _ = step.shingle_hashes(pl.Series([text or "", other or ""], dtype=pl.Utf8))
    if min(np.diff(first)) == 0:
        return float(text == other)
    values = (hashes >> np.uint64(32)).astype(np.uint32)
    pair = lsh.jaccard(values, first, np.array([0]), np.array([1]))
    return float(pair[0])
