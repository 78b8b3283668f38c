"""Gopher quality: each rule's exact datatrove reason on a tiny document, then real data."""

import gzip
from pathlib import Path

import polars as pl
import pytest

from tests.curate.steps.judge import reasons
from winnow.curate.steps.gopher_quality import GopherQuality

SENTENCE = "The cat sat on the mat and looked at the birds that flew over the garden with joy. "
PROSE = SENTENCE * 5
LINE = "The cat sat on the mat and looked at the birds that flew over the garden wall"

CASES = [
    ("keep", PROSE, {}, None),
    ("short", "The cat sat on the mat.", {}, "gopher_short_doc"),
    ("long", PROSE, {"max_doc_words": 60}, "gopher_long_doc"),
    ("short words", "a b c d e f g h i j " * 6 + "the and", {}, "gopher_below_avg_threshold"),
    ("long words", "internationalization " * 60 + "the and", {}, "gopher_above_avg_threshold"),
    ("hashes", PROSE + "#tag " * 15, {}, "gopher_too_many_hashes"),
    ("ellipses", PROSE + "wait... " * 15, {}, "gopher_too_many_ellipsis"),
    ("bullets", "\n".join(["- " + LINE + "."] * 10), {}, "gopher_too_many_bullets"),
    (
        "end ellipses",
        "\n".join([LINE + " too..."] * 4 + [LINE + "."] * 6),
        {},
        "gopher_too_many_end_ellipsis",
    ),
    ("numbers", PROSE + "123 456 789 " * 30, {}, "gopher_below_alpha_threshold"),
    (
        "no stop words",
        "cats dogs birds fly over green fields during summer mornings " * 6,
        {},
        "gopher_enough_stop_words",
    ),
]


@pytest.mark.parametrize(("name", "text", "params", "reason"), CASES, ids=[c[0] for c in CASES])
def test_rule_gives_datatrove_reason(name: str, text: str, params: dict, reason: str | None):
    assert reasons(GopherQuality, [text], **params) == [reason]


def test_score_columns_are_numeric_and_named_for_the_step():
    scored = GopherQuality().score(pl.DataFrame({"text": [PROSE, ""]}))
    added = [c for c in scored.columns if c != "text"]
    assert all(c.startswith("gopher_quality_") for c in added)
    assert all(scored[c].dtype.is_numeric() for c in added)
    assert scored["gopher_quality_n_words"].to_list() == [90, 0]
    assert scored.height == 2


def test_threshold_changes_only_the_decision():
    step = GopherQuality()
    scored = step.score(pl.DataFrame({"text": [PROSE]}))
    stricter = GopherQuality(min_doc_words=100)
    assert scored.select(step.reason()).item() is None
    assert scored.select(stricter.reason()).item() == "gopher_short_doc"


def test_web_documents(shared_data: Path):
    texts = pl.read_ndjson(shared_data / "web" / "c4_demo.jsonl")["text"].to_list()
    got = reasons(GopherQuality, texts)
    kept = got.count(None)
    assert 0.75 * len(texts) < kept < len(texts)
    assert "gopher_short_doc" in got


def test_korean_constitution_is_kept_by_korean_rules(shared_data: Path):
    text = (shared_data / "korean" / "constitution.txt").read_text(encoding="utf-8")
    scored = GopherQuality().score(pl.DataFrame({"text": [text]}))
    assert scored["gopher_quality_hangul_share"].item() > 0.9
    assert scored["gopher_quality_n_stop_words"].item() >= 5
    assert scored.select(GopherQuality().reason()).item() is None
    english_rules = GopherQuality(korean_min_hangul_share=1.1)
    rescored = english_rules.score(pl.DataFrame({"text": [text]}))
    assert rescored.select(english_rules.reason()).item() == "gopher_enough_stop_words"


def test_korean_news_comments_are_mostly_too_short(shared_data: Path):
    with gzip.open(shared_data / "korean" / "news_comments.txt.gz", "rt", encoding="utf-8") as f:
        comments = [next(f).strip() for _ in range(2000)]
    got = reasons(GopherQuality, comments)
    assert got.count("gopher_short_doc") > 0.9 * len(comments)
