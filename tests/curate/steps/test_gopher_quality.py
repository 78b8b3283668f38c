"""Gopher quality: each rule's exact datatrove reason on a tiny document, then real data."""

import gzip
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.curate.judge import reasons
from winnow.curate.steps.gopher_quality import (
    _BULLET_LINES,
    _ELLIPSES,
    _ELLIPSIS_LINES,
    _HANGUL,
    _HASHES,
    _LETTERS,
    _LINES,
    GopherQuality,
    _char_stats,
)
from winnow.curate.text.buffers import text_buffers
from winnow.curate.text.stats import PUNCTUATION_SET, normalized_lines
from winnow.curate.text.tokens import char_classes

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


EDGES = [
    None,
    "",
    "\n",
    "\r\n",
    "a\r\nb...\r\n• c\r\n",
    "x…  \u2028 - y ....\x0b\x0c z",
    "## #\n...\n......\n. . .",
    "  - one\n\t•two\n\u3000-three\n-\n",
    "end ...   ",
    "가나다 …\n- 목록\nᄀᄂ ㄱㄴ abc",
    "Ünïcode ÅÄÖ 한국어 텍스트입니다... \n",
]


def regex_counts(texts: list[str | None]) -> pl.DataFrame:
    """The character and line measures as the Polars expressions the compiled pass replaced."""
    text = pl.col("text").fill_null("")
    lines = normalized_lines(text)
    hangul = text.str.count_matches(r"[\x{AC00}-\x{D7A3}\x{1100}-\x{11FF}\x{3130}-\x{318F}]")
    letters = text.str.count_matches(r"\p{L}")
    n_lines = (
        lines.str.count_matches("\n", literal=True)
        + 1
        - lines.str.ends_with("\n").cast(pl.UInt32)
        - (lines.str.len_bytes() == 0).cast(pl.UInt32)
    )
    return pl.DataFrame({"text": texts}, schema={"text": pl.String}).select(
        pl.when(letters > 0).then(hangul / letters).otherwise(0.0).alias("hangul_share"),
        text.str.count_matches("#", literal=True).alias("hashes"),
        (
            text.str.count_matches("...", literal=True) + text.str.count_matches("…", literal=True)
        ).alias("ellipses"),
        lines.str.count_matches(r"(?m)^[^\S\n]*[•-]").alias("bullets"),
        lines.str.count_matches(r"(?m)(?:\.\.\.|…)[^\S\n]*$").alias("ellipsis_lines"),
        n_lines.alias("lines"),
    )


def compiled_counts(texts: list[str | None]) -> pl.DataFrame:
    """The same measures from the step's compiled pass over the text bytes."""
    offsets, data = text_buffers(pl.Series(texts, dtype=pl.String))
    counts = _char_stats(offsets, data, char_classes(PUNCTUATION_SET))
    hangul, letters = counts[:, _HANGUL], counts[:, _LETTERS]
    share = np.divide(hangul, letters, out=np.zeros(len(texts)), where=letters > 0)
    columns = {"hashes": _HASHES, "ellipses": _ELLIPSES, "bullets": _BULLET_LINES}
    columns |= {"ellipsis_lines": _ELLIPSIS_LINES, "lines": _LINES}
    return pl.DataFrame(
        {"hangul_share": share} | {name: counts[:, k] for name, k in columns.items()}
    )


def assert_counts_match(texts: list[str | None]) -> None:
    """The compiled pass gives every regex measure exactly."""
    expected = regex_counts(texts)
    assert_frame_equal(compiled_counts(texts), expected, check_dtypes=False, check_exact=True)


def test_compiled_counts_match_regex_counts_on_edges():
    assert_counts_match(EDGES)


def test_compiled_counts_match_regex_counts_on_real_text(shared_data: Path):
    texts = pl.read_ndjson(shared_data / "web" / "c4_demo.jsonl")["text"].to_list()
    with gzip.open(shared_data / "korean" / "news_comments.txt.gz", "rt", encoding="utf-8") as f:
        texts += [next(f) for _ in range(500)]
    assert_counts_match(texts)
