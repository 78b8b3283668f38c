"""short_text: one-line rows judged whole (never rewritten), on crafted edge cases and on
real Korean news comments checked against rules recomputed here in plain Python."""

import gzip
import re
import unicodedata
from pathlib import Path

import polars as pl
import pytest

from winnow.curate.recipes import load_recipe
from winnow.curate.steps.short_text import ShortText
from winnow.errors import WinnowError

CLEANBOT = "클린봇이 부적절한 표현을 감지한 댓글입니다."


def judged(texts: list[str | None], **params: object) -> pl.DataFrame:
    step = ShortText(**params)
    scored = step.score(pl.DataFrame({"text": texts}, schema={"text": pl.Utf8}))
    return scored.with_columns(step.reason().alias("reason"))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        (" \t\n ", "empty"),
        (None, "empty"),
        (CLEANBOT, "placeholder"),
        ("https://m.blog.naver.com/PostList.nhn?blogId=x", "link_only"),
        ("bit.ly/3abc ㅋ", "link_only"),
        ("ㅋㅋㅋㅋㅋㅋ", "repeated_char"),
        ("ㅋ ㅋ ㅋ ㅋ", "repeated_char"),
        ("!!!!!", "repeated_char"),
        ("하하하하", "repeated_char"),
        ("ㅠㅠ", "repeated_char"),
        ("ㅋㅋㅎㅎ", "jamo_only"),
        ("ㄹㅇ?", "jamo_only"),
        ("\uffa1\uffa4\uffa1", "jamo_only"),  # half-width ㄱㄴㄱ
        ("^^;", "no_letters"),
        ("2020", "no_letters"),
        ("헐", "too_short"),
        ("헐~~ㅋㅋㅋ", "too_short"),
        ("대박ㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋ", "repetitive"),
        ("문의 010-1234-5678 로 주세요", "contact"),
        ("카톡 ID: money777 수익 보장", "contact"),
        ("open.kakao.com/o/abc 부업 하실 분", "contact"),
        ("어쩌라고ㅋㅋㅋㅋㅋㅋㅋㅋㅋ", None),
        ("여기 https://n.news.naver.com/article/1 보세요", None),
        ("Korea 화이팅!! 最高", None),
        ("ｈｅｌｌｏ", None),
        ("ﾊﾝｸﾞﾙ", None),
        ("大韓民國", None),
        (unicodedata.normalize("NFD", "한국 최고"), None),
        ("노잼", None),
    ],
)
def test_edge_cases_get_the_first_rule_they_break(text: str | None, reason: str | None) -> None:
    assert judged([text], placeholders=[CLEANBOT])["reason"].item() == reason


def test_text_is_never_rewritten_and_columns_are_typed() -> None:
    texts = ["  ㅋㅋㅋㅋㅋ  ", "좋아요!!!!!!!!", unicodedata.normalize("NFD", "한글")]
    out = judged(texts)
    assert out["text"].to_list() == texts
    assert out["short_text_chars"].to_list() == [5, 11, 2]
    assert out["short_text_letters"].to_list() == [0, 3, 2]
    assert out["short_text_jamo"].to_list() == [5, 0, 0]
    assert out["short_text_run_share"].to_list() == pytest.approx([1.0, 8 / 11, 0.0])


def test_switches_turn_rules_off() -> None:
    texts = ["헐", "ㅋㅋㅎㅎ", "대박ㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋ", "연락 010-1234-5678"]
    off = judged(texts, min_letters=0, max_run_share=1.0, reject_contacts=False)
    assert off["reason"].to_list() == [None] * 4


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("min_letters: two", "'min_letters' is 'two' (a string), but it must be a whole number"),
        ("max_run_share: 1.5", "'max_run_share' is 1.5, but it must be between 0 and 1"),
        ("min_run: 1", "'min_run' is 1, but it must be 2 or more"),
        ("placeholders: 삭제된 댓글", "'placeholders' is '삭제된 댓글' (a string)"),
    ],
)
def test_bad_parameters_fail_when_the_recipe_loads(
    tmp_path: Path, params: str, message: str
) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(f"steps:\n  - step: short_text\n    {params}\n", encoding="utf-8")
    with pytest.raises(WinnowError, match=re.escape(message)):
        load_recipe(str(path))


def oracle(text: str) -> str | None:
    """The reasons of rows without links or contacts, recomputed character by character."""
    chars = [c for c in unicodedata.normalize("NFC", text) if not c.isspace()]
    jamo = [c for c in chars if "\u3131" <= c <= "\u318e" or "\u1100" <= c <= "\u11ff"]
    letters = [c for c in chars if c.isalpha() and c not in jamo]
    runs, length = 0, 1
    for i in range(1, len(chars) + 1):
        if i < len(chars) and chars[i] == chars[i - 1]:
            length += 1
            continue
        runs += length if length >= 3 else 0
        length = 1
    if not chars:
        return "empty"
    if len(set(chars)) == 1 and len(chars) > 1:
        return "repeated_char"
    if not letters:
        return "jamo_only" if jamo else "no_letters"
    if len(letters) < 2:
        return "too_short"
    return "repetitive" if runs / len(chars) > 0.8 else None


def test_real_news_comments_match_the_rules_recomputed(shared_data: Path) -> None:
    path = shared_data / "korean" / "news_comments.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        texts = [line.rstrip("\n") for line in lines][:8000]
    out = judged(texts, placeholders=[CLEANBOT])
    plain = out.filter(
        (pl.col("short_text_links") == 0)
        & (pl.col("short_text_contacts") == 0)
        & ~pl.col("short_text_placeholder")
    )
    expected = [oracle(t) for t in plain["text"]]
    assert plain["reason"].to_list() == expected
    reasons = out["reason"].value_counts()
    counts = dict(zip(reasons["reason"], reasons["count"], strict=True))
    assert counts["placeholder"] == texts.count(CLEANBOT) > 100
    assert counts["repeated_char"] > 5 and counts["jamo_only"] > 5
    assert out["reason"].is_not_null().mean() < 0.1  # real comments mostly pass
