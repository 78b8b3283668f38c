"""Korean words for the Gopher and FineWeb steps: the eojeol split, Kiwi's morphemes, stop
words that are function words (not syllable endings) and formal text that stays in."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from winnow.curate.recipes import load_recipe
from winnow.curate.steps.base import build_step
from winnow.curate.steps.gopher_quality import GopherQuality
from winnow.curate.text import kiwi
from winnow.curate.text.stats import PUNCTUATION_SET, tokens_of
from winnow.curate.text.tokens import hash_strings
from winnow.errors import WinnowError

KOREAN = Path(__file__).resolve().parents[4] / "shared" / "data" / "korean"
SPLITS = ("eojeol", "kiwi")
# Nouns only, many ending in a particle's syllable (과, 도, 로, 의, 이, 가, 는, 를, 에, 은).
NOUNS = (
    "결과 효과 지도 도로 회의 학교 정부 경제 사회 문화 교육 과학 기술 정치 국가 사과 "
    "포도 고도 속도 제도 태도 경로 통로 항로 의의 정의 토의 거리 나이 오이 자가 평가 가치 "
    "도시 교사 의사 변호사 하늘 바다 구름 바위 나무 노래 가수 시계 의자 책상 연필 공책 "
    "가방 기차 버스 택시 공항 항구 병원 약국 은행 시장 공원 호수 시내 마을"
)


def constitution_articles() -> list[str]:
    """The constitution, one document per article."""
    text = (KOREAN / "constitution.txt").read_text(encoding="utf-8")
    return [p.strip() for p in re.split(r"(?m)^\s*(?=제\d+조(?:의\d+)?\s)", text)[1:]]


def scored(texts: list[str], **params: object) -> pl.DataFrame:
    """gopher_quality's scores and reason for these texts."""
    step = GopherQuality(**params)
    return step.score(pl.DataFrame({"text": texts})).with_columns(step.reason().alias("reason"))


@pytest.mark.parametrize("split", SPLITS)
def test_a_bare_noun_list_has_no_stop_words(split: str) -> None:
    out = scored([NOUNS, ", ".join(NOUNS.split()[::-1])], tokenizer=split)
    assert out["gopher_quality_n_words"].min() >= 60
    # Kiwi reads the lone "의의" as 의 + the particle 의, one stop word; two are needed
    assert out["gopher_quality_n_stop_words"].max() <= 1
    assert out["reason"].to_list() == ["gopher_enough_stop_words"] * 2


@pytest.mark.parametrize("split", SPLITS)
def test_real_korean_prose_has_stop_words(split: str) -> None:
    klue = json.loads((KOREAN / "klue-sts-v1.1_dev.json").read_text(encoding="utf-8"))
    news = [" ".join(r["sentence1"] for r in klue[i : i + 6]) for i in range(0, 120, 6)]
    with open(KOREAN / "ChatbotData.csv", encoding="utf-8", newline="") as handle:
        answers = [row["A"] for row in csv.DictReader(handle)][:200]
    chat = [" ".join(answers[i : i + 10]) for i in range(0, 200, 10)]
    articles = [a for a in constitution_articles() if len(a.split()) >= 30]
    out = scored(news + chat + articles, tokenizer=split)
    has_stop_words = (out["gopher_quality_n_stop_words"] >= 2).to_numpy()
    assert has_stop_words[:20].all()  # KLUE news, policy and wiki sentences, six a document
    assert has_stop_words[20:40].mean() >= 0.9  # chatbot answers, ten a document
    assert has_stop_words[40:].mean() >= 0.97  # constitution articles of 30+ eojeol
    if split == "kiwi":
        assert has_stop_words.all()


@pytest.mark.parametrize("split", SPLITS)
def test_legal_symbols_and_numbering_do_not_fail_the_alpha_rule(split: str) -> None:
    out = scored(constitution_articles(), tokenizer=split)
    ratio = out["gopher_quality_alpha_words_ratio"]
    assert "gopher_below_alpha_threshold" not in out["reason"].to_list()
    assert ratio.min() >= 0.8
    article_89 = out.filter(pl.col("text").str.starts_with("제89조"))
    assert article_89["reason"].item() is None  # twenty numbered items, "·" throughout


@pytest.mark.parametrize("split", SPLITS)
def test_a_table_of_numbers_still_fails_the_alpha_rule(split: str) -> None:
    rows = [f"{2000 + y}년 {y * 1234:,} {y * 987:,} {y * 55:,} {y * 7:,}" for y in range(1, 16)]
    out = scored(["매출 영업이익 순이익 직원\n" + "\n".join(rows)], tokenizer=split)
    assert out["gopher_quality_hangul_share"].item() == 1.0
    assert out["reason"].item() == "gopher_below_alpha_threshold"


def test_web_ko_keeps_the_constitution_articles_long_enough_to_be_documents() -> None:
    steps = [s for s in load_recipe("web-ko").steps if s.name.startswith("gopher")]
    articles = [a for a in constitution_articles() if len(a.split()) >= 30]
    frame = pl.DataFrame({"text": articles})
    for step in steps:
        frame = step.score(frame).filter(step.reason().is_null()).select("text")
    assert len(articles) >= 50
    assert frame.height >= 0.9 * len(articles)


def test_kiwi_tokens_are_the_morphemes_datatrove_takes() -> None:
    text = "제20조 ① 모든 국민은 종교의 자유를 가진다. 😀 " + "1" * 25 + " 끝."
    tokens = kiwi.kiwi_tokens(pl.Series([text, None, "도와서"]), PUNCTUATION_SET)
    analysed = kiwi.analyser().tokenize(text.replace("1" * 25, " " * 25))
    surfaces = [text[t.start : t.end] for t in analysed]
    assert tokens.strings() == [surfaces, [], ["도", "와서"]]
    flat = surfaces + ["도", "와서"]
    assert np.array_equal(tokens.hashes, hash_strings(flat))
    tags = [kiwi.TAGS[i] for i in tokens.tags[: len(surfaces)]]
    assert tags[surfaces.index("은")] == "JX" and tags[surfaces.index("①")] == "SW"


def test_each_split_is_cached_apart() -> None:
    texts = pl.Series(["대한민국은 민주공화국이다."])
    eojeol, morphemes = tokens_of(texts, "eojeol"), tokens_of(texts, "kiwi")
    assert eojeol.strings() == [["대한민국은", "민주공화국이다", "."]]
    assert morphemes.strings()[0][:2] == ["대한민국", "은"]
    assert tokens_of(texts, "eojeol") is eojeol and tokens_of(texts, "kiwi") is morphemes


@pytest.mark.parametrize("name", ["gopher_quality", "gopher_repetition", "fineweb"])
def test_kiwi_missing_fails_in_one_sentence(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kiwi, "find_spec", lambda _: None)
    with pytest.raises(WinnowError) as caught:
        build_step({"step": name, "tokenizer": "kiwi"}, "web-ko.yaml")
    message = str(caught.value)
    assert f"step '{name}'" in message and "tokenizer: kiwi" in message
    assert "pip install 'winnow-llm[korean]'" in message and message.count(". ") == 0


def test_an_unknown_tokenizer_is_refused_at_load() -> None:
    with pytest.raises(WinnowError, match="'tokenizer' is 'mecab'.*one of 'eojeol', 'kiwi'"):
        build_step({"step": "gopher_repetition", "tokenizer": "mecab"}, "web-ko.yaml")
