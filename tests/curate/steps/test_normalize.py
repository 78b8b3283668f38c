"""The normalize step: each rewriting rule on tiny inline documents, and its drop reason."""

import polars as pl
import pytest

from winnow.curate.steps import build_step
from winnow.curate.steps.normalize import Normalize
from winnow.errors import WinnowError


def run(step: Normalize, *texts: str | None) -> list[dict]:
    """Score tiny documents and attach the reason, as the runner does."""
    df = pl.DataFrame({"id": [str(i) for i in range(len(texts))], "text": list(texts)})
    return step.score(df).with_columns(reason=step.reason()).to_dicts()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Cafe\u0301", "Caf\u00e9"),  # NFC composes
        ("a\x00b\x07c\x7f\x9bd\ufeff", "abcd"),  # C0/C1 controls and the BOM removed
        ("a\r\nb\rc\u2028d", "a\nb\nc\nd"),  # line breaks unified
        ("a   b \t c", "a b c"),  # a run folds into its first character
        ("a\t\tb", "a\tb"),  # a tab survives alone
        ("a\u00a0b\u3000c", "a b c"),  # other Unicode spaces become ' '
        ("  line one  \n\t line two\t", "line one\nline two"),  # lines stripped
        ("a\n\n\nb\n\n\n\n\n\nc", "a\n\n\nb\n\n\nc"),  # at most two blank lines in a row
        ("\n\n  text \n\n", "text"),
        ("&amp; &lt;", "&amp; &lt;"),  # entities stay unless html_unescape
        ("MiXeD", "MiXeD"),
    ],
)
def test_default_rules(raw: str, expected: str) -> None:
    [row] = run(Normalize(), raw)
    assert row["text"] == expected
    assert row["normalize_changed"] is (raw != expected)
    assert row["reason"] is None


def test_html_unescape_and_lowercase() -> None:
    step = Normalize(html_unescape=True, lowercase=True)
    [row] = run(step, "Tom &amp; Jerry&#39;s &#x27;Caf&eacute;&#x27;&nbsp;&nbsp;x &amp;lt; &bogus;")
    assert row["text"] == "tom & jerry's 'caf\u00e9' x &lt; &bogus;"
    assert row["normalize_changed"] is True


def test_max_blank_lines_zero() -> None:
    [row] = run(Normalize(max_blank_lines=0), "a\n\nb\n \nc")
    assert row["text"] == "a\nb\nc"


def test_empty_after_normalize_keeps_rows_and_columns() -> None:
    df = pl.DataFrame(
        {"id": ["a", "b", "c", "d"], "text": ["ok", " \x01\t\n ", None, ""], "extra": [1, 2, 3, 4]}
    )
    step = Normalize()
    out = step.score(df)
    assert out.columns == ["id", "text", "extra", "normalize_changed"]
    assert out["id"].to_list() == ["a", "b", "c", "d"]
    assert out["extra"].to_list() == [1, 2, 3, 4]
    assert out.select(step.reason()).to_series().to_list() == [
        None,
        "empty_after_normalize",
        "empty_after_normalize",
        "empty_after_normalize",
    ]
    assert out["normalize_changed"].to_list() == [False, True, True, False]


def test_recipe_parameters() -> None:
    step = build_step({"step": "normalize", "lowercase": True}, "recipe.yaml")
    assert isinstance(step, Normalize) and step.lowercase
    with pytest.raises(WinnowError, match="max_blank_lines"):
        build_step({"step": "normalize", "max_blank_lines": -1}, "recipe.yaml")
