"""An ablation's numbers: per metric, each recipe's mean and spread over seeds, and each
recipe's seed-paired difference from the first with a 95% interval, judged against the seed
spread. The rule, stated once: a difference counts when its 95% t-interval over the paired
seeds leaves out zero and its size exceeds the larger seed standard deviation of the two
recipes; with one seed there is no spread, so nothing counts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

KEYS = ("task", "metric", "filter")
"""What names one number of an eval run."""

LEVEL = 0.95
"""Coverage of the paired difference's interval."""


def summary(scores: pl.DataFrame, arms: list[str]) -> pl.DataFrame:
    """Per metric and recipe: seeds, mean, standard deviation over seeds (null with one), min
    and max; recipes in the order given."""
    order = pl.Enum(arms)
    return (
        scores.with_columns(pl.col("arm").cast(order))
        .group_by([*KEYS, "arm"])
        .agg(
            pl.len().alias("seeds"),
            pl.col("value").mean().alias("mean"),
            pl.col("value").std(ddof=1).alias("sd"),
            pl.col("value").min().alias("min"),
            pl.col("value").max().alias("max"),
            pl.col("higher_is_better").first(),
        )
        .sort([*KEYS, "arm"])
        .with_columns(pl.col("arm").cast(pl.Utf8))
    )


@dataclass(frozen=True)
class Difference:
    """One recipe against the first on one metric, paired by seed."""

    pairs: int
    mean: float
    low: float | None
    high: float | None
    spread: float | None
    higher_is_better: bool | None

    @property
    def exceeds(self) -> bool | None:
        """Whether the difference counts (the module's rule); None with under two pairs."""
        if self.low is None or self.high is None or self.spread is None:
            return None
        return (self.low > 0 or self.high < 0) and abs(self.mean) > self.spread

    @property
    def better(self) -> bool | None:
        """Whether the recipe beats the first, when the difference counts and has a side."""
        if not self.exceeds or self.higher_is_better is None:
            return None
        return (self.mean > 0) == self.higher_is_better


def interval(diffs: list[float]) -> tuple[float | None, float | None]:
    """The 95% t-interval of the mean of paired differences (None with under two)."""
    from scipy.stats import t

    count = len(diffs)
    if count < 2:
        return None, None
    mean = sum(diffs) / count
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (count - 1))
    half = t.ppf((1 + LEVEL) / 2, count - 1) * sd / math.sqrt(count)
    return mean - half, mean + half


def difference(first: dict[int, float], other: dict[int, float], better: Any) -> Difference:
    """The paired difference (other minus first) over the seeds both have."""
    seeds = sorted(set(first) & set(other))
    diffs = [other[s] - first[s] for s in seeds]
    low, high = interval(diffs)
    spreads = [standard_deviation(list(values.values())) for values in (first, other)]
    spread = None if None in spreads else max(s for s in spreads if s is not None)
    mean = sum(diffs) / len(diffs) if diffs else math.nan
    return Difference(len(diffs), mean, low, high, spread, better)


def standard_deviation(values: list[float]) -> float | None:
    """The sample standard deviation, None for fewer than two values."""
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def differences(scores: pl.DataFrame, arms: list[str]) -> pl.DataFrame:
    """Per metric, each recipe after the first against the first: pairs, mean difference,
    interval, seed spread, whether it counts and whether it is better."""
    rows = []
    for key, group in scores.group_by(list(KEYS), maintain_order=True):
        by_arm = {
            arm: dict(zip(part["seed"], part["value"], strict=True))
            for (arm,), part in group.group_by(["arm"], maintain_order=True)
        }
        better = group["higher_is_better"][0]
        for arm in arms[1:]:
            if arms[0] not in by_arm or arm not in by_arm:
                continue
            found = difference(by_arm[arms[0]], by_arm[arm], better)
            rows.append(
                dict(zip(KEYS, key, strict=True))
                | {
                    "arm": arm,
                    "against": arms[0],
                    "pairs": found.pairs,
                    "difference": found.mean,
                    "low": found.low,
                    "high": found.high,
                    "seed_spread": found.spread,
                    "exceeds_spread": found.exceeds,
                    "better": found.better,
                }
            )
    schema = {
        "task": pl.Utf8,
        "metric": pl.Utf8,
        "filter": pl.Utf8,
        "arm": pl.Utf8,
        "against": pl.Utf8,
        "pairs": pl.Int64,
        "difference": pl.Float64,
        "low": pl.Float64,
        "high": pl.Float64,
        "seed_spread": pl.Float64,
        "exceeds_spread": pl.Boolean,
        "better": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema)


def verdict_line(row: dict[str, Any]) -> str:
    """One sentence for one difference, with its numbers."""
    where = f"{row['task']} {row['metric']}"
    if row["low"] is None:
        return (
            f"{where}: {row['arm']} minus {row['against']} = {row['difference']:+.4g} from one "
            "seed; no seed spread to judge it by (use --seeds 2 or more)."
        )
    numbers = (
        f"{row['difference']:+.4g} [{row['low']:+.4g}, {row['high']:+.4g}] over "
        f"{row['pairs']} seeds, seed spread {row['seed_spread']:.4g}"
    )
    head = f"{where}: {row['arm']} minus {row['against']} = {numbers}"
    if not row["exceeds_spread"]:
        return f"{head}: within the seed spread, no difference shown."
    side = {True: "better", False: "worse", None: "different"}[row["better"]]
    return f"{head}: exceeds the seed spread, {row['arm']} is {side}."
