"""Per-step statistics add up over shards: removals, first examples and tallies."""

import polars as pl

from winnow.curate.stats import merge_stats, step_stats


def test_removals_examples_and_tallies_add_up_over_shards():
    rejected = pl.DataFrame({"id": ["a", "b"], "text": ["x", "y"], "reason": ["r1", "r1"]})
    first = step_stats(0, "decontaminate", 5, rejected, {"flagged:mmlu": 2})
    second = step_stats(0, "decontaminate", 4, None, {"flagged:mmlu": 1, "flagged:hellaswag": 3})
    merged = merge_stats([first, second])
    assert (merged["in"], merged["out"]) == (9, 7)
    assert merged["removed"] == {"r1": 2}
    assert merged["examples"]["r1"] == {"id": "a", "text": "x"}
    assert merged["tally"] == {"flagged:mmlu": 3, "flagged:hellaswag": 3}
