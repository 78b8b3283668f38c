"""Gopher repetition: each rule's exact datatrove reason on a tiny document, then real data."""

import gzip
from pathlib import Path

import polars as pl
import pytest

from tests.curate.judge import reasons
from winnow.curate.steps.gopher_repetition import GopherRepetition

WORDS = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "xray", "yankee", "zulu",
]  # fmt: skip
UNIQUE = " ".join(WORDS)
LONG_LINE = " ".join(WORDS[:12])

CASES = [
    ("keep", UNIQUE, {}, None),
    ("empty", "", {}, "empty"),
    ("paragraphs", "one two three\n\none two three\n\nfour five six", {}, "dup_para_frac"),
    (
        "paragraph characters",
        "\n\n".join([LONG_LINE, LONG_LINE, "w1 w2", "w3 w4", "w5 w6"]),
        {},
        "dup_para_char_frac",
    ),
    ("lines", "one two\nthree four\none two\none two", {}, "dup_line_frac"),
    (
        "line characters",
        "\n".join([LONG_LINE, LONG_LINE, "w1 w2", "w3 w4", "w5 w6", "w7 w8"]),
        {},
        "dup_line_char_frac",
    ),
    ("top bigram", "hello world", {}, "top_2_gram"),
    ("top trigram", UNIQUE + " one two three" * 3, {"top_n_grams": ((3, 0.05),)}, "top_3_gram"),
    (
        "repeated 5-grams",
        UNIQUE + " " + " ".join(WORDS[:8]),
        {"top_n_grams": (), "dup_n_grams": ((5, 0.1),)},
        "duplicated_5_n_grams",
    ),
    (
        "repeated 10-grams",
        UNIQUE + " " + " ".join(WORDS[:12]),
        {"top_n_grams": (), "dup_n_grams": ((10, 0.1),)},
        "duplicated_10_n_grams",
    ),
]


@pytest.mark.parametrize(("name", "text", "params", "reason"), CASES, ids=[c[0] for c in CASES])
def test_rule_gives_datatrove_reason(name: str, text: str, params: dict, reason: str | None):
    assert reasons(GopherRepetition, [text], **params) == [reason]


def test_rows_are_independent_and_columns_numeric():
    texts = [UNIQUE, "hello world", UNIQUE]
    scored = GopherRepetition().score(pl.DataFrame({"text": texts}))
    added = [c for c in scored.columns if c != "text"]
    assert "gopher_repetition_dup_5_gram_frac" in added
    assert all(scored[c].dtype.is_numeric() for c in added)
    assert scored["gopher_repetition_dup_5_gram_frac"].to_list() == [0.0, 0.0, 0.0]


def test_empty_frame_gets_the_columns():
    scored = GopherRepetition().score(pl.DataFrame({"text": []}, schema={"text": pl.String}))
    assert scored.height == 0
    assert "gopher_repetition_dup_10_gram_frac" in scored.columns


def test_web_documents(shared_data: Path):
    with gzip.open(next((shared_data / "web").glob("CC-MAIN-*.jsonl.gz")), "rt") as handle:
        texts = pl.read_ndjson(handle.read().encode())["text"].to_list()
    got = reasons(GopherRepetition, texts)
    dropped = len(got) - got.count(None)
    assert 0.1 * len(texts) < dropped < 0.4 * len(texts)
    assert any(r and r.startswith("duplicated_") for r in got)


def test_korean_comments_repeating_themselves(shared_data: Path):
    with gzip.open(shared_data / "korean" / "news_comments.txt.gz", "rt", encoding="utf-8") as f:
        comments = [next(f).strip() for _ in range(500)]
    got = reasons(GopherRepetition, comments + ["정말 좋아요 정말 좋아요 정말 좋아요 정말 좋아요"])
    assert got[-1] == "top_2_gram"
    text = (shared_data / "korean" / "constitution.txt").read_text(encoding="utf-8")
    assert reasons(GopherRepetition, [text]) == [None]
