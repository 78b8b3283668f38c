"""Per-step statistics add up over shards: removals, first examples and tallies; a step that
removes more than a share of its rows is a warning."""

import polars as pl

from winnow.curate.stats import (
    manifest_removal_warnings,
    merge_stats,
    removal_warnings,
    step_stats,
    warning_text,
)


def test_removals_examples_and_tallies_add_up_over_shards():
    rejected = pl.DataFrame({"id": ["a", "b"], "text": ["x", "y"], "reason": ["r1", "r1"]})
    first = step_stats(0, "decontaminate", 5, rejected, {"flagged:mmlu": 2})
    second = step_stats(0, "decontaminate", 4, None, {"flagged:mmlu": 1, "flagged:hellaswag": 3})
    merged = merge_stats([first, second])
    assert (merged["in"], merged["out"]) == (9, 7)
    assert merged["removed"] == {"r1": 2}
    assert merged["examples"]["r1"] == {"id": "a", "text": "x"}
    assert merged["tally"] == {"flagged:mmlu": 3, "flagged:hellaswag": 3}


def test_removal_warnings_name_the_step_its_top_reason_and_the_share():
    """Issue 18: more than the threshold of a step's input removed is a warning; exactly the
    threshold, no input or no removal is not."""
    steps = [
        {"index": 0, "step": "normalize", "in": 100, "out": 100, "removed": {}},
        {"index": 1, "step": "c4", "in": 100, "out": 9, "removed": {"lorem": 1, "few": 90}},
        {"index": 2, "step": "language", "in": 9, "out": 0, "removed": {"not_allowed": 9}},
        {"index": 3, "step": "pii", "in": 0, "out": 0, "removed": {}},
    ]
    found = removal_warnings(steps, 0.9)
    assert [(w["step"], w["reason"], w["reason_rows"], w["share"]) for w in found] == [
        ("c4", "few", 90, 0.91),
        ("language", "not_allowed", 9, 1.0),
    ]
    assert [w["step"] for w in removal_warnings(steps, 0.91)] == ["language"]
    assert removal_warnings(steps, 1.0) == []
    text = warning_text(found[0], "web")
    assert text.startswith("step 2 (c4) removed 91.0% of the 100 rows that reached it, more ")
    assert "warn_removed_share (0.9; top reason few: 90 rows)" in text
    assert "winnow data head web --split rejected" in text


def test_manifests_from_before_warnings_are_judged_with_the_default():
    old = {"steps": [{"index": 0, "step": "c4", "in": 10, "out": 0, "removed": {"few": 10}}]}
    assert [w["step"] for w in manifest_removal_warnings(old)] == ["c4"]
    assert manifest_removal_warnings({**old, "removal_warnings": []}) == []
    assert manifest_removal_warnings({"steps": []}) == []
