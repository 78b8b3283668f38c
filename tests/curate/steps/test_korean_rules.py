"""Korean-aware Gopher quality: function words count as stop words for Hangul prose."""

import polars as pl

from winnow.curate.steps.gopher_quality import GopherQuality

PROSE = (
    "김치는 배추와 무에 소금과 고춧가루를 넣어 발효시킨 음식이다. 집집마다 만드는 방법이 "
    "조금씩 달라서 맛도 서로 다르다. 늦가을에는 가족과 이웃이 함께 모여 겨울 동안 먹을 김치를 "
    "한꺼번에 담그는데 이를 김장이라고 부른다. 잘 익은 김치는 찌개나 볶음밥을 만드는 데에도 "
    "널리 쓰인다. 최근에는 김치를 사서 먹는 집도 많아졌다. 그래도 김장철이 되면 시장은 배추를 "
    "사려는 사람들로 붐빈다. 배추를 소금물에 절이는 일은 하루가 꼬박 걸리는 고된 일이지만, "
    "모두가 함께 하면 금방 끝난다. 김장을 마친 날에는 갓 버무린 김치에 수육을 곁들여 먹는다."
)
NOUNS = " ".join(["서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종"] * 8)


def reason_of(text: str, **params: object) -> str | None:
    step = GopherQuality(**params)
    scored = step.score(pl.DataFrame({"id": ["k"], "text": [text]}))
    return scored.select(step.reason()).item()


def test_prose_with_particles_is_kept_and_a_bare_list_is_not() -> None:
    assert reason_of(PROSE) is None
    assert reason_of(NOUNS) == "gopher_enough_stop_words"


def test_korean_stop_words_can_be_switched_off() -> None:
    assert reason_of(PROSE, korean_stop_words=()) == "gopher_enough_stop_words"
