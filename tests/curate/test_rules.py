"""A step's declared rules, judged row by row as the dashboard judges them, give the reason
the step's own decision gave, on real English and Korean text."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from winnow.curate.steps import build_step

ENTRIES = [
    {"step": "language", "languages": ["en"]},
    {"step": "language", "languages": ["ko"], "min_score": 0.5},
    {"step": "gopher_repetition"},
    {"step": "gopher_repetition", "tokenizer": "kiwi", "top_n_grams": [[2, 0.282], [3, 0.228]]},
    {"step": "gopher_quality"},
    {"step": "gopher_quality", "tokenizer": "kiwi", "max_doc_words": 60},
    {"step": "c4"},
    {"step": "fineweb"},
    {"step": "short_text", "min_letters": 8, "max_run_share": 0.2},
    {"step": "badwords", "default_language": "ko"},
    {"step": "quality_classifier", "model": "korean-toxicity"},
]


@pytest.fixture(scope="module")
def texts(shared_data: Path) -> pl.DataFrame:
    """Web pages, news and hate-speech comments and the constitution's lines, 800 rows."""
    web = pl.read_ndjson(
        shared_data / "web" / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
    )
    with gzip.open(shared_data / "korean" / "news_comments.txt.gz", "rt", encoding="utf-8") as f:
        comments = [next(f).rstrip("\n") for _ in range(200)]
    hate = pl.read_csv(shared_data / "korean" / "hate_speech_train.tsv", separator="\t")
    law = (shared_data / "korean" / "constitution.txt").read_text(encoding="utf-8").splitlines()
    rows = (
        web["text"].head(200).to_list()
        + comments
        + hate["comments"].head(200).to_list()
        + law[:200]
    )
    return pl.DataFrame({"text": rows, "id": [str(i) for i in range(len(rows))]})


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: "-".join(map(str, e.values())))
def test_the_first_declared_rule_a_row_breaks_is_its_reason(
    entry: dict[str, object], texts: pl.DataFrame
) -> None:
    """Kept rows break no declared rule; a row removed for a declared reason breaks that rule
    and none declared before it (reasons without a threshold, such as `empty`, aside)."""
    step = build_step(entry, "test")
    rules = step.rules()
    declared = {rule.reason for rule in rules}
    scored = step.score(texts)
    decided = scored.select(step.reason()).to_series().to_list()
    checked = 0
    for row, reason in zip(scored.to_dicts(), decided, strict=True):
        if reason is None or reason in declared:
            first = next((rule.reason for rule in rules if rule.holds(row)), None)
            assert first == reason, row["text"][:80]
            checked += reason is not None
    assert checked > 0
