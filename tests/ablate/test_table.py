"""The verdict's arithmetic on planted numbers: a shift larger than the seed noise counts and
has the right side, a shift inside it does not, one seed never counts, and the interval is
Student's t interval of the paired differences."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from winnow.ablate.table import differences, summary, verdict_line


def planted(shift_b: float, shift_c: float, seeds: int, noise: float) -> pl.DataFrame:
    """bits_per_byte of three recipes over seeds: B and C are A moved by a planted shift,
    each seed with its own noise."""
    rng = np.random.default_rng(7)
    rows = []
    for seed in range(seeds):
        base = 1.5 + rng.normal(0, noise)
        for arm, shift in (("a", 0.0), ("b", shift_b), ("c", shift_c)):
            rows.append(
                {
                    "task": "winnow_heldout_ppl",
                    "metric": "bits_per_byte",
                    "filter": "none",
                    "value": base + shift + rng.normal(0, noise),
                    "stderr": None,
                    "higher_is_better": False,
                    "arm": arm,
                    "seed": seed,
                }
            )
    return pl.DataFrame(rows)


def test_a_planted_shift_beyond_the_seed_noise_counts_and_one_within_does_not() -> None:
    """B is 0.3 lower (better, lower bits per byte), C 0.001 higher: B counts, C does not."""
    scores = planted(-0.3, 0.001, seeds=5, noise=0.01)
    rows = {r["arm"]: r for r in differences(scores, ["a", "b", "c"]).iter_rows(named=True)}
    assert rows["b"]["exceeds_spread"] is True and rows["b"]["better"] is True
    assert rows["b"]["difference"] == pytest.approx(-0.3, abs=0.03)
    assert rows["c"]["exceeds_spread"] is False and rows["c"]["better"] is None
    assert "b is better" in verdict_line(rows["b"])
    assert "no difference shown" in verdict_line(rows["c"])


def test_the_interval_is_students_t_over_the_paired_seeds() -> None:
    """The interval matches scipy's t interval of the per-seed differences."""
    scores = planted(-0.05, 0.0, seeds=4, noise=0.02)
    row = differences(scores, ["a", "b"]).row(0, named=True)
    a = scores.filter(pl.col("arm") == "a").sort("seed")["value"].to_numpy()
    b = scores.filter(pl.col("arm") == "b").sort("seed")["value"].to_numpy()
    diffs = b - a
    low, high = stats.t.interval(0.95, len(diffs) - 1, loc=diffs.mean(), scale=stats.sem(diffs))
    assert row["low"] == pytest.approx(low) and row["high"] == pytest.approx(high)
    assert row["pairs"] == 4 and row["difference"] == pytest.approx(diffs.mean())
    spread = max(np.std(a, ddof=1), np.std(b, ddof=1))
    assert row["seed_spread"] == pytest.approx(spread)


def test_one_seed_never_counts() -> None:
    """With one seed there is no spread: no verdict either way, and the line says why."""
    scores = planted(-1.0, 0.0, seeds=1, noise=0.01)
    row = differences(scores, ["a", "b", "c"]).row(0, named=True)
    assert row["exceeds_spread"] is None and row["low"] is None
    assert "no seed spread" in verdict_line(row)


def test_summary_is_mean_and_spread_per_recipe_in_the_order_given() -> None:
    """Recipes stay in the order given; the mean and sd are those of the seeds' values."""
    scores = planted(0.2, -0.2, seeds=3, noise=0.05)
    table = summary(scores, ["c", "a", "b"])
    assert table["arm"].to_list() == ["c", "a", "b"]
    values = scores.filter(pl.col("arm") == "a")["value"].to_list()
    row = table.filter(pl.col("arm") == "a").row(0, named=True)
    mean = sum(values) / 3
    assert row["mean"] == pytest.approx(mean) and row["seeds"] == 3
    assert row["sd"] == pytest.approx(math.sqrt(sum((v - mean) ** 2 for v in values) / 2))
