"""Odd Korean forms through both shipped Korean recipes: every row judged, none altered or lost."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from tests.cli_helpers import run_cli
from winnow.workspace import Workspace

PROSE = (
    "대한민국은 민주공화국이다. 대한민국의 주권은 국민에게 있고, 모든 권력은 국민으로부터 "
    "나온다. 국가는 개인이 가지는 불가침의 기본적 인권을 확인하고 이를 보장할 의무를 진다."
)
FORMS = {
    "mixed scripts": "오늘 ChatGPT랑 Claude를 비교해 봤는데 GPT-4o가 더 빨랐어요 😀 東京 여행 중",
    "jamo only": "ㅋㅋㅋㅋㅋ ㅠㅠ ㅎㅎ",
    "compatibility jamo words": "ㄱㄴㄷㄹ ㅏㅑㅓㅕ",
    "half-width Hangul": "ﾡﾤﾾ ﾳﾵ ﾡﾤﾾ",
    "full-width Latin and digits": "ｈｅｌｌｏ　ｗｏｒｌｄ　１２３　ＡＢＣ　댓글입니다",
    "Hanja": "大韓民國憲法 第一條 大韓民國은 民主共和國이다",
    "Hanja and Hangul prose": PROSE.replace("대한민국", "大韓民國"),
    "decomposed Hangul (NFD)": unicodedata.normalize("NFD", PROSE),
    "circled numbers and rules": "① 국회의원은 ∼ 한다.\n② ─────────\n③ 「법률」 제1조·제2조",
    "prose": PROSE,
    "empty after spaces": "\u3000 \u3000",
}


def texts_of(version: Path) -> list[str]:
    """The texts of the kept and rejected splits of a version."""
    files = sorted(version.glob("kept/*.parquet")) + sorted(version.glob("rejected/*.parquet"))
    return [t for f in files for t in pl.read_parquet(f, columns=["text"])["text"].to_list()]


@pytest.mark.parametrize("recipe", ["web-ko", "comments-ko"])
def test_korean_forms_are_judged_never_altered_or_lost(
    recipe: str, tmp_path: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each odd form comes out once, kept or rejected with a reason, as normalize documents."""
    source = tmp_path / "forms.jsonl"
    rows = [{"id": name, "text": text} for name, text in FORMS.items()]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    code, out = run_cli(capsys, "curate", "run", recipe, "--source", str(source), "--output", "k")
    assert code == 0 and "Traceback" not in out, out
    version = Workspace.resolve(workspace).dataset("k").path
    counts = json.loads((version / "manifest.json").read_text(encoding="utf-8"))["counts"]
    # normalize drops rows it leaves empty, with the reason `empty`, in the rejected split
    assert counts["input"] == counts["kept"] + counts["rejected"] == len(FORMS)
    # normalize's documented rewrites: NFC, and Unicode spaces (here U+3000) to ' '
    expected = [unicodedata.normalize("NFC", t).replace("\u3000", " ") for t in FORMS.values()]
    found = texts_of(version)
    assert len(found) == len(FORMS)
    normalized_empty = [t for t in found if not t.strip()]
    assert Counter(t for t in found if t.strip()) == Counter(t for t in expected if t.strip())
    assert len(normalized_empty) == 1
    rejected = pl.concat(
        [pl.read_parquet(f) for f in version.glob("rejected/*.parquet")], how="diagonal_relaxed"
    )
    assert rejected["reason"].null_count() == 0 and rejected["step"].null_count() == 0
    reasons = dict(zip(rejected["id"], rejected["reason"], strict=True))
    assert reasons["empty after spaces"] == "empty_after_normalize"
    assert reasons["Hanja"] == "language_not_allowed"
    if recipe == "comments-ko":
        jamo = ("jamo only", "compatibility jamo words", "half-width Hangul")
        assert {reasons[name] for name in jamo} == {"jamo_only"}
        assert "mixed scripts" not in reasons and "full-width Latin and digits" not in reasons
        # the NFD copy comes first and is the same text once normalize composes it
        assert reasons["prose"] == "duplicate"
