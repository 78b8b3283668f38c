"""C4 quality: line rules, each document rule's exact datatrove reason, the rewritten text."""

from pathlib import Path

import polars as pl
import pytest

from winnow.curate.steps.c4 import C4Quality

GOOD = [f"This is sentence number {i} of a good paragraph." for i in range(5)]
KEEP = "\n".join(GOOD)

CASES = [
    ("keep", KEEP, {}, None),
    ("lorem", KEEP + "\nLorem ipsum dolor sit amet.", {}, "lorem_ipsum"),
    ("curly", "We use code {like this} here.\n" + KEEP, {}, "curly_bracket"),
    ("few sentences", "\n".join(GOOD[:4]), {}, "too_few_sentences"),
    ("bad lines do not count", "\n".join(GOOD[:4] + ["Enable javascript to see this."]), {},
     "too_few_sentences"),
    ("sentences within a line", "One sentence here. Two sentences here. Three here now.\n"
     "Four sentences here. Five sentences here now.", {}, None),
    ("line mode keeps the document", KEEP + "\nLorem ipsum dolor sit amet.",
     {"drop_docs": False}, None),
]  # fmt: skip


def judged(texts: list[str], **params: object) -> pl.DataFrame:
    """Score and judge texts with the step: the frame with a `reason` column added."""
    step = C4Quality(**params)
    scored = step.score(pl.DataFrame({"text": texts, "id": range(len(texts))}))
    return scored.with_columns(step.reason().alias("reason"))


@pytest.mark.parametrize(("name", "text", "params", "reason"), CASES, ids=[c[0] for c in CASES])
def test_rule_gives_datatrove_reason(name: str, text: str, params: dict, reason: str | None):
    assert judged([text], **params)["reason"].to_list() == [reason]


def test_kept_document_loses_its_bad_lines():
    text = "\n".join(
        [
            "Home | About | Contact",
            "Short line.",
            "We changed the privacy policy of this site.",
            "Please enable JavaScript in your browser now.",
            "x" * 1001 + " is far too long a word.",
            *GOOD[:2],
            "A cited claim appears in this sentence.[1]",
            "An edited section sits right here.[edit]",
            "Wait for it, this ends in an ellipsis...",
            *GOOD[2:],
        ]
    )
    out = judged([text])
    assert out["reason"].item() is None
    expected = [
        *GOOD[:2],
        "A cited claim appears in this sentence.",
        "An edited section sits right here.",
        *GOOD[2:],
    ]
    assert out["text"].item() == "\n".join(expected)
    assert out["c4_n_kept_lines"].item() == 7
    assert out["c4_n_lines"].item() == 13


def test_dropped_document_keeps_its_text_and_line_mode_rewrites():
    text = KEEP + "\nLorem ipsum dolor sit amet."
    assert judged([text])["text"].item() == text
    assert judged([text], drop_docs=False)["text"].item() == KEEP


def test_web_documents(shared_data: Path):
    texts = pl.read_ndjson(shared_data / "web" / "c4_demo.jsonl")["text"].to_list()
    out = judged(texts)
    assert out["reason"].null_count() > 0.6 * len(texts)
    assert set(out["reason"].drop_nulls()) <= {"too_few_sentences", "curly_bracket", "lorem_ipsum"}
    assert out.filter(pl.col("reason").is_null())["text"].str.len_chars().min() > 0


def test_korean_constitution(shared_data: Path):
    text = (shared_data / "korean" / "constitution.txt").read_text(encoding="utf-8")
    out = judged([text])
    assert out["reason"].item() is None
    assert out["c4_n_sentences"].item() > 100
    assert "대한민국헌법" not in out["text"].item()
