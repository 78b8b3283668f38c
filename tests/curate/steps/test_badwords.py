"""The badwords step: whole-word English, substring Korean, custom and downloaded lists."""

import urllib.request
from pathlib import Path

import polars as pl
import pytest

from winnow.curate.steps import build_step
from winnow.curate.steps.badwords import Badwords, fetch
from winnow.errors import WinnowError


def run(step: Badwords, texts: list[str | None], languages: list[str | None] | None = None):
    data = {"id": [str(i) for i in range(len(texts))], "text": texts}
    if languages is not None:
        data["language"] = languages
    df = pl.DataFrame(data)
    return step.score(df).with_columns(reason=step.reason())


def test_english_whole_words_case_insensitive() -> None:
    out = run(
        Badwords(),
        [
            "What the FUCK, this is Shit.",
            "Scunthorpe is a town; shitake mushrooms and classic cocktails.",
            "",
            None,
        ],
    )
    assert out["badwords_count"].to_list() == [2, 0, 0, 0]
    assert out["badwords_fraction"].to_list() == [2 / 6, 0.0, 0.0, 0.0]
    assert out["reason"].to_list() == ["too_many_badwords", None, None, None]


def test_korean_substring_with_particles_and_exceptions() -> None:
    out = run(
        Badwords(),
        ["이 병신이 지랄을 하네 ㅅㅂ", "서울역이 시발점이다", "시발 진짜", "좋은 하루 되세요"],
        ["ko", "ko", "ko", "ko"],
    )
    assert out["badwords_count"].to_list() == [3, 0, 1, 0]
    assert out["badwords_fraction"].to_list() == [3 / 5, 0.0, 0.5, 0.0]
    assert out["reason"].to_list() == ["too_many_badwords", None, "too_many_badwords", None]


def test_row_language_decides_the_list() -> None:
    texts = ["병신 fuck", "병신 fuck", "병신 fuck", "병신 fuck"]
    out = run(Badwords(), texts, ["ko", "en", None, "de"])
    # ko list, en list, null falls back to default_language (en), de has no list
    assert out["badwords_count"].to_list() == [1, 1, 1, 0]
    no_column = run(Badwords(default_language="ko"), texts)
    assert no_column["badwords_count"].to_list() == [1] * 4


def test_threshold_is_a_decision_on_the_score() -> None:
    step = Badwords(max_fraction=0.25)
    out = run(step, ["shit happens today", "shit shit"], ["en", "en"])
    assert out["badwords_fraction"].to_list() == [1 / 3, 1.0]
    assert out["reason"].to_list() == ["too_many_badwords", "too_many_badwords"]
    lenient = Badwords(max_fraction=0.5)
    assert out.select(lenient.reason()).to_series().to_list() == [None, "too_many_badwords"]


def test_custom_list_replaces_builtin(tmp_path: Path) -> None:
    words = tmp_path / "en.txt"
    words.write_text("# mine\nfrak\nsmeg-head\n\n", encoding="utf-8")
    out = run(Badwords(lists={"en": str(words)}), ["Frak! You SMEG-HEAD, fuck."], ["en"])
    assert out["badwords_count"].to_list() == [2]


def test_missing_list_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WinnowError, match="nope.txt"):
        build_step({"step": "badwords", "lists": {"en": str(tmp_path / "nope.txt")}}, "r.yaml")


def test_url_list_is_downloaded_once(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self) -> bytes:
            return b"gosh\n"

    def fake_urlopen(url: str, timeout: float) -> Response:
        calls.append(url)
        return Response()

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    url = "https://example.org/lists/mild.txt"
    first = fetch(url)
    assert fetch(url) == first and calls == [url]
    assert first.parent == workspace / "cache" / "badwords"
    out = run(Badwords(lists={"en": url}), ["Oh gosh, GOSH."], ["en"])
    assert out["badwords_count"].to_list() == [2]


def test_offline_download_is_a_clear_error(workspace: Path) -> None:
    with pytest.raises(WinnowError, match="could not download"):
        fetch("http://127.0.0.1:9/words.txt")
