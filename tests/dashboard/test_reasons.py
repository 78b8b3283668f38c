"""The dashboard explains a removal with the rule its step declares and decides with: the
score column the step writes, its comparison and the recipe's threshold."""

from __future__ import annotations

from functools import cache

import polars as pl
import pytest

from winnow.curate.rules import Rule
from winnow.curate.steps import STEPS, Step
from winnow.curate.steps.fineweb import FineWebQuality
from winnow.curate.steps.gopher_quality import GopherQuality
from winnow.dashboard import reasons

NEEDED = {"language": {"languages": ["en"]}, "quality_classifier": {"model": "korean-toxicity"}}
"""Parameters without which a step removes nothing (language) or cannot be built here."""
TEXTS = ["The cat sat on the mat. It was warm.", "고양이가 매트 위에 앉았다. 따뜻했다.", ""]


@cache
def defaults(name: str) -> Step:
    """The step with its default parameters (and what `NEEDED` adds), as a recipe builds it."""
    step = reasons.parameters({"step": name, **NEEDED.get(name, {})})
    assert step is not None
    return step


@cache
def scored(name: str) -> pl.DataFrame:
    """A few texts, scored by the step."""
    return defaults(name).score(pl.DataFrame({"text": TEXTS, "id": ["a", "b", "c"]}))


DECLARED = [(name, rule.reason) for name in sorted(STEPS) for rule in defaults(name).rules()]


def test_the_declared_rules_are_the_removals_the_dashboard_explains() -> None:
    """Every thresholded reason of the text steps, the Korean bounds and n-grams included."""
    assert len(DECLARED) == 34
    assert {name for name, _ in DECLARED} == {
        "badwords",
        "c4",
        "fineweb",
        "gopher_quality",
        "gopher_repetition",
        "language",
        "quality_classifier",
        "short_text",
    }


@pytest.mark.parametrize(("step", "reason"), DECLARED)
def test_every_rule_compares_a_column_its_step_writes(step: str, reason: str) -> None:
    """Each rule reads a score column the step writes and a threshold from its parameters."""
    rule = next(r for r in defaults(step).rules() if r.reason == reason)
    assert rule.column in scored(step).columns
    assert rule.column.startswith(STEPS[step].prefix) or rule.column == "language"
    for row in scored(step).to_dicts():
        limit = rule.threshold(row)
        assert isinstance(limit, int | float | list) and not isinstance(limit, bool)


def test_a_recipe_threshold_is_the_one_shown() -> None:
    """The recipe's own value, not the default, and decimals enough to tell them apart."""
    manifest = {"recipe": {"steps": [{"step": "fineweb", "char_duplicates_ratio": 0.012}]}}
    row = {"step": "fineweb", "reason": "char_dup_ratio", "fineweb_char_dup_ratio": 0.0123}
    assert reasons.explain(manifest, row) == "char_dup_ratio 0.0123 > 0.0120"
    korean = {"step": "gopher_quality", "reason": "gopher_short_doc", "gopher_quality_n_words": 9}
    korean["gopher_quality_hangul_share"] = 0.9
    assert reasons.explain({}, korean) == "n_words 9 < 22"


def test_a_step_that_cannot_be_built_here_is_explained_from_its_recipe_values() -> None:
    """A model file missing on this machine still leaves the recipe's threshold to show."""
    manifest = {"recipe": {"steps": [{"step": "quality_classifier", "model": "gone.bin"}]}}
    manifest["recipe"]["steps"][0]["threshold"] = 0.7
    row = {"step": "quality_classifier", "reason": "low_quality", "quality_score": 0.25}
    assert reasons.explain(manifest, row) == "quality_score 0.25 < 0.70"
    assert reasons.explain(manifest, {**row, "step": "no_such_step"}) is None


def explained(step: Step, text: str) -> tuple[str | None, str | None]:
    """The step's decision on one text, and the dashboard's explanation of it for a recipe
    with the step's parameters."""
    frame = step.score(pl.DataFrame({"text": [text], "id": ["x"]}))
    row = frame.with_columns(step.reason().alias("reason")).to_dicts()[0]
    entry = {"step": step.name, **{k: v for k, v in vars(step).items() if not k.startswith("_")}}
    manifest = {"recipe": {"steps": [entry]}}
    shown = reasons.explain(manifest, {**row, "step": step.name}) if row["reason"] else None
    return row["reason"], shown


def test_decision_and_explanation_change_together_with_a_threshold() -> None:
    """One declared rule decides and explains: moving a threshold moves both."""
    same = "This sentence is long enough and it ends with a period."
    lines = [same, "Another sentence stands here, also long and complete.", same]
    page = "\n".join([*lines, "A third sentence closes the page with some words."])
    assert explained(FineWebQuality(), page) == ("char_dup_ratio", "char_dup_ratio 0.26 > 0.01")
    stricter = FineWebQuality(char_duplicates_ratio=0.25)
    assert explained(stricter, page) == ("char_dup_ratio", "char_dup_ratio 0.26 > 0.25")
    assert explained(FineWebQuality(char_duplicates_ratio=0.3), page) == (None, None)
    korean = "오늘은 날씨가 맑아서 공원에 갔다. 친구와 함께 걸었다."
    assert explained(GopherQuality(), korean) == ("gopher_short_doc", "n_words 8 < 22")
    fewer = GopherQuality(korean_min_doc_words=5)
    assert explained(fewer, korean) == ("gopher_enough_stop_words", "n_stop_words 1 < 2")
    assert explained(GopherQuality(korean_min_doc_words=9), korean) == (
        "gopher_short_doc",
        "n_words 8 < 9",
    )


def test_a_rule_judges_one_row_as_the_decision_does() -> None:
    """`holds` on a row agrees with the polars comparison, nulls included."""
    rules = [
        Rule("x", "<", 2),
        Rule("x", ">=", 2),
        Rule("lang", "not in", ["en"]),
    ]
    frame = pl.DataFrame({"x": [1, 2, None], "lang": ["en", "ko", None]})
    for rule in rules:
        decided = frame.select(rule.expr().fill_null(False)).to_series().to_list()
        assert decided == [rule.holds(row) for row in frame.to_dicts()]
