"""The instruct steps on Korean: precision and recall on labelled answers, and every step's
count on ChatbotData.csv's 11,823 real question/answer pairs."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.curate.steps.instruct.korean_cases import LEFTOVERS, LETTER_BLANKS, REFUSALS
from winnow.curate.steps import build_step

STEPS = ("instruct_length", "refusal", "template_leftovers", "language_mismatch")


def judged(spec: dict, outputs: list[str], instructions: list[str] | None = None) -> pl.DataFrame:
    """Score rows with these outputs (and instructions) and attach the step's reason."""
    df = pl.DataFrame(
        {
            "instruction": instructions or ["질문입니다."] * len(outputs),
            "input": [""] * len(outputs),
            "output": outputs,
        }
    )
    step = build_step(spec, "recipe.yaml")
    return step.score(df).with_columns(reason=step.reason())


def precision_recall(cases: list[tuple[str, bool]], flagged: list[bool]) -> tuple[float, float]:
    """Precision and recall of the flags against the labels."""
    hits = sum(f and label for (_, label), f in zip(cases, flagged, strict=True))
    return hits / sum(flagged), hits / sum(label for _, label in cases)


def chatbot(shared_data: Path) -> pl.DataFrame:
    """ChatbotData.csv as instruction rows: Q the instruction, A the output."""
    frame = pl.read_csv(shared_data / "korean" / "ChatbotData.csv", infer_schema=False)
    return frame.select(
        pl.col("Q").alias("instruction"), pl.lit("").alias("input"), pl.col("A").alias("output")
    )


def test_refusal_precision_and_recall() -> None:
    """Every Korean refusal is found and no near miss is (quoted advice, offers, facts)."""
    out = judged({"step": "refusal", "languages": ["ko"]}, [text for text, _ in REFUSALS])
    flagged = out["reason"].is_not_null().to_list()
    missed = [t for (t, label), f in zip(REFUSALS, flagged, strict=True) if label != f]
    assert missed == []
    assert precision_recall(REFUSALS, flagged) == (1.0, 1.0)
    assert sum(label for _, label in REFUSALS) == 23
    assert out["refusal_match"][11] == "도와드릴수 없습니다"


def test_template_leftovers_precision_and_recall() -> None:
    """KoAlpaca headings, answer labels and Korean slots are found; look-alikes pass."""
    out = judged({"step": "template_leftovers"}, [text for text, _ in LEFTOVERS])
    flagged = out["reason"].is_not_null().to_list()
    missed = [t for (t, label), f in zip(LEFTOVERS, flagged, strict=True) if label != f]
    assert missed == []
    assert precision_recall(LEFTOVERS, flagged) == (1.0, 1.0)
    assert out["template_leftovers_match"].to_list()[:8] == [
        "### 응답:",
        "### 명령어:",
        "### Response(응답):",
        "### 답변:",
        "### 질문:",
        "답변:",
        "응답:",
        "질문:",
    ]


def test_korean_letter_blanks_only_on_request() -> None:
    """[이름], [회사명], [날짜] are letter blanks: flagged with letter_blanks, not by default."""
    assert judged({"step": "template_leftovers"}, LETTER_BLANKS)["reason"].null_count() == 3
    letters = judged({"step": "template_leftovers", "letter_blanks": True}, LETTER_BLANKS)
    assert letters["template_leftovers_match"].to_list() == ["[이름]", "[회사명]", "[날짜]"]


def test_template_heading_in_the_instruction() -> None:
    """A KoAlpaca prompt heading left in the instruction is flagged; a leading label is not,
    since only the answer is read for one."""
    out = judged(
        {"step": "template_leftovers"},
        ["네.", "네."],
        ["### Instruction(명령어):\n다음 문장을 요약하세요.", "질문: 하늘은 왜 파란가요?"],
    )
    assert out["template_leftovers_match"].to_list() == ["### Instruction(명령어):", None]


def test_length_counts_hangul_jamo() -> None:
    """A Hangul syllable counts as its 2 or 3 jamo, so short Korean questions pass the
    5-character minimum while one-syllable grunts do not."""
    out = judged(
        {"step": "instruct_length"},
        ["네.", "네.", "네.", "네."],
        ["결혼할까", "개졸려", "음", "ㅋㅋ"],
    )
    assert out["instruct_length_instruction_chars"].to_list() == [11, 7, 3, 2]
    assert out["instruct_length_instruction_words"].to_list() == [1, 1, 1, 1]
    assert out["reason"].to_list() == [None, None, "instruction_too_short", "instruction_too_short"]


def test_chatbot_data_counts(shared_data: Path) -> None:
    """ChatbotData's human-written answers hold no refusal, leftover or language mismatch;
    26 instructions are under the 5-character minimum, all one- or two-syllable exclamations
    such as '음', '헉' and '더워' (391 before syllables counted as jamo)."""
    df = chatbot(shared_data)
    counts = {}
    for name in STEPS:
        step = build_step({"step": name}, "recipe.yaml")
        out = step.score(df).with_columns(reason=step.reason())
        counts[name] = out.filter(pl.col("reason").is_not_null())
    assert {name: frame.height for name, frame in counts.items()} == {
        "instruct_length": 26,
        "refusal": 0,
        "template_leftovers": 0,
        "language_mismatch": 0,
    }
    short = counts["instruct_length"]
    assert set(short["reason"]) == {"instruction_too_short"}
    assert short["instruction"].str.len_chars().max() == 2
    assert {"음", "헉", "더워", "야"} <= set(short["instruction"])


@pytest.mark.parametrize("name", ["instruct_length", "refusal", "template_leftovers"])
def test_changed_steps_have_a_new_version(name: str) -> None:
    """The Korean changes bumped each changed step's version, so old shards are not reused."""
    assert build_step({"step": name}, "recipe.yaml").version == 2
