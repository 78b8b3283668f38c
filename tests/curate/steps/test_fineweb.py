"""FineWeb quality: each rule's exact datatrove reason on a tiny document, then real data."""

import gzip
from pathlib import Path

import polars as pl
import pytest

from tests.curate.judge import reasons
from winnow.curate.steps.fineweb import FineWebQuality

SENTENCE = "The committee published its annual report on regional water quality today."
PROSE = "\n".join(f"{SENTENCE} Item {i} was reviewed by the board in detail." for i in range(6))
LIST_LINES = [f"Supercalifragilisticexpialidocious{i}." for i in range(10)]

CASES = [
    ("keep", PROSE, {}, None),
    ("empty", "\n \n\t\n", {}, "empty"),
    ("no punctuation", "\n".join(f"Menu entry number {i} of the site" for i in range(10)),
     {}, "line_punct_ratio"),
    ("short lines", "\n".join([f"Item {i}." for i in range(8)] + [SENTENCE]), {},
     "short_line_ratio"),
    ("repeated lines", "\n".join([SENTENCE, SENTENCE, PROSE]), {}, "char_dup_ratio"),
    ("list layout", "\n".join(LIST_LINES), {}, "list_ratio"),
    ("exclude zero", "\n".join(f"Menu entry number {i} of the site" for i in range(10)),
     {"line_punct_exclude_zero": True}, None),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "params", "reason"), CASES, ids=[c[0] for c in CASES])
def test_rule_gives_datatrove_reason(name: str, text: str, params: dict, reason: str | None):
    assert reasons(FineWebQuality, [text], **params) == [reason]


def test_score_columns():
    scored = FineWebQuality().score(pl.DataFrame({"text": [PROSE, ""]}))
    assert scored["fineweb_n_lines"].to_list() == [6, 0]
    assert scored["fineweb_line_punct_ratio"].to_list()[0] == 1.0


def test_web_documents(shared_data: Path):
    texts = pl.read_ndjson(shared_data / "web" / "c4_demo.jsonl")["text"].to_list()
    got = reasons(FineWebQuality, texts)
    assert got.count(None) > 0.6 * len(texts)
    assert set(got) - {None} <= {"line_punct_ratio", "short_line_ratio", "char_dup_ratio"}


def test_korean(shared_data: Path):
    text = (shared_data / "korean" / "constitution.txt").read_text(encoding="utf-8")
    assert reasons(FineWebQuality, [text]) == [None]
    with gzip.open(shared_data / "korean" / "news_comments.txt.gz", "rt", encoding="utf-8") as f:
        comments = [next(f).strip() for _ in range(500)]
    got = reasons(FineWebQuality, comments)
    assert got.count("line_punct_ratio") > 0.2 * len(comments)
