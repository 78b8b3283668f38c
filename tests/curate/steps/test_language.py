"""The language step: tags and reasons inline, and both models on real English and Korean."""

import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from winnow.curate.steps import build_step
from winnow.curate.steps.language import Language
from winnow.errors import WinnowError

ENGLISH = "The committee will publish its annual report on the state of the national parks."
KOREAN = (
    "대한민국은 민주공화국이다. 대한민국의 주권은 국민에게 있고, 모든 권력은 국민으로부터 나온다."
)
GERMAN = "Die Bundesregierung hat heute einen neuen Bericht über den Zustand der Wälder vorgelegt."


@pytest.fixture(scope="module")
def lid176(shared_data: Path) -> str:
    """The real fastText lid.176 model, read in place."""
    return str(shared_data / "langid" / "lid.176.ftz")


@pytest.fixture(params=["py3langid", "fasttext"])
def make(request: pytest.FixtureRequest, lid176: str):
    """Build the step with each backend."""

    def build(**params) -> Language:
        model = None if request.param == "py3langid" else lid176
        return Language(model_path=model, **params)

    return build


def frame(*texts: str | None) -> pl.DataFrame:
    return pl.DataFrame(
        {"id": [str(i) for i in range(len(texts))], "text": list(texts), "n": range(len(texts))}
    )


def test_tags_and_reasons(make) -> None:
    step = make(languages=["en", "ko"])
    out = step.score(frame(ENGLISH, KOREAN, GERMAN, "  12345 !!  ", None))
    assert out.columns == ["id", "text", "n", "language", "language_score"]
    assert out["n"].to_list() == [0, 1, 2, 3, 4]
    assert out["language"].to_list() == ["en", "ko", "de", None, None]
    scores = out["language_score"].to_list()
    assert all(s > 0.65 for s in scores[:3])
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[3:] == [0.0, 0.0]
    assert out.select(step.reason()).to_series().to_list() == [
        None,
        None,
        "language_not_allowed",
        "language_not_allowed",
        "language_not_allowed",
    ]


def test_without_languages_the_step_only_labels(make) -> None:
    """Issue 18: with no `languages`, tables, numbers and code (letterless or low-scoring)
    are labelled but never dropped, whatever `min_score` says."""
    table = "| 2021 | 2022 |\n|------|------|\n| 1.5  | 2.75 |"
    code = "for (i = 0; i < n; i++) { x[i] = y[i] * 2; }"
    texts = (ENGLISH, "", "ok", "12345 !! 67.8", table, code, None)
    for step in (make(), make(min_score=0.65), make(min_score=1.0)):
        out = step.score(frame(*texts))
        assert out.with_columns(r=step.reason())["r"].to_list() == [None] * len(texts)
        assert out["language"][0] == "en" and out["language"].to_list()[1:2] == [None]
        assert out["language"][3] is None and out["language_score"][3] == 0.0


def test_score_threshold_with_a_language_list(make) -> None:
    step = make(languages=["en"], min_score=0.65)
    out = step.score(frame(ENGLISH, "", "ok"))
    reasons = out.select(step.reason()).to_series().to_list()
    assert reasons[:2] == [None, "language_not_allowed"]
    strict = make(languages=["en"], min_score=1.0)
    assert out.select(strict.reason()).to_series().to_list()[0] == (
        "language_score_below_threshold"
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"languages": []}, "empty list, which would drop every row"),
        ({"min_score": 1.01}, "'min_score' is 1.01, but it must be between 0 and 1"),
        ({"min_score": float("nan")}, "'min_score' is NaN"),
        ({"max_chars": 0}, "'max_chars' is 0, but it must be 1 or more"),
    ],
)
def test_bad_parameters(params: dict, message: str) -> None:
    with pytest.raises(WinnowError, match=message):
        build_step({"step": "language", **params}, "recipe.yaml: steps[1]")


def test_newlines_are_fine_and_empty_frame(make) -> None:
    step = make()
    out = step.score(frame("Line one of the text.\nLine two of the same English text.\n"))
    assert out["language"].to_list() == ["en"]
    empty = step.score(frame().cast({"text": pl.Utf8, "id": pl.Utf8}))
    assert empty.columns[-2:] == ["language", "language_score"] and empty.height == 0


def test_missing_model_names_path(tmp_path: Path) -> None:
    missing = tmp_path / "lid.176.bin"
    with pytest.raises(WinnowError, match=str(missing)):
        build_step({"step": "language", "model_path": str(missing)}, "recipe.yaml")
    broken = tmp_path / "broken.ftz"
    broken.write_bytes(b"not a model")
    with pytest.raises(WinnowError, match="is not a fastText model"):
        Language(model_path=str(broken)).score(frame("Some English text to classify."))
    with pytest.raises(
        WinnowError, match=r"a list of strings or null; write e.g. 'languages: \[en\]'"
    ):
        build_step({"step": "language", "languages": "en"}, "recipe.yaml")


def test_real_english_web_text(make, shared_data: Path) -> None:
    lines = (shared_data / "web" / "c4_demo.jsonl").read_text(encoding="utf-8").splitlines()
    out = make(languages=["en"]).score(frame(*[json.loads(line)["text"] for line in lines]))
    share = (out["language"] == "en").mean()
    assert share >= 0.98


def test_real_korean_text(make, shared_data: Path) -> None:
    constitution = (shared_data / "korean" / "constitution.txt").read_text(encoding="utf-8")
    with gzip.open(shared_data / "korean" / "news_comments.txt.gz", "rt", encoding="utf-8") as f:
        comments = [line.strip() for _, line in zip(range(300), f, strict=False)]
    comments = [c for c in comments if len(c) >= 20]
    step = make(languages=["ko"])
    out = step.score(frame(constitution, *comments))
    assert out["language"][0] == "ko" and out["language_score"][0] > 0.9
    assert (out["language"] == "ko").mean() >= 0.95


def test_only_the_first_max_chars_are_classified() -> None:
    english = "The weather was fine and we walked along the river to the old mill. " * 3
    korean = "한글은 조선의 세종대왕이 백성을 위하여 만든 문자이다. " * 40
    df = pl.DataFrame({"id": ["a"], "text": [english + korean]})
    assert Language(max_chars=150).score(df)["language"].item() == "en"
    assert Language(max_chars=None).score(df)["language"].item() == "ko"
