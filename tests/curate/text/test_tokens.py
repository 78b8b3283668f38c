"""The compiled tokenizer against its specification as one regex, and the token tests.

`SPEC` is the tokenizer written as a single Polars regex over the spaced text (what the
steps used before the compiled scan): the scan must give the same tokens on real web and
Korean documents and on texts chosen for each rule.
"""

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.curate.samples import TRICKY, read_texts
from winnow.curate.text.stats import PUNCTUATION_SET, spaced, tokens_of
from winnow.curate.text.tokens import (
    ALPHA,
    LETTER,
    SPACE,
    WORD,
    char_classes,
    hash_strings,
    tokenize,
)

_CORE = r"[^\s\p{P}\p{S}@_]"
SPEC = "|".join(
    (
        r"(?i:n['’]t|['’](?:s|re|ll|ve|m|d))(?-u:\b)",
        r"(?:\p{L}\.){2,}",
        r"\p{L}\.",
        r"(?i:mr|mrs|ms|dr|prof|jr|sr|st|mt|vs|inc|ltd|co|corp|jan|feb|mar|apr|jun|jul|aug"
        r"|sep|sept|oct|nov|dec)\.",
        r"(?:[+-]\p{N}|" + _CORE + r"|[@_])(?:[^\s…]*" + _CORE + r")?",
        r"\.{2,}|-{2,}|'{2,}|/{2,}|…|:\)|\):|:\(|;\)",
        r"\S",
    )
)

RULES = [
    ("I don't know, it's fine.", ["I", "do", "n't", "know", ",", "it", "'s", "fine", "."]),
    ("We’ll see; they're here", ["We", "’ll", "see", ";", "they", "'re", "here"]),
    ("cannot dont Im", ["can", "not", "do", "nt", "I", "m"]),
    ("The U.S. and e.g. J. Smith", ["The", "U.S.", "and", "e.g.", "J.", "Smith"]),
    ("Mr. Kim met Dr. Lee in Sept. at Acme Inc.", ["Mr.", "Kim", "met", "Dr.", "Lee", "in"]),
    ("mail me@example.com or _x_", ["mail", "me@example.com", "or", "_x", "_"]),
    ("see https://example.com/a-b?q=1.", ["see", "https://example.com/a-b?q=1", "."]),
    ("well-known 3-4 +5 -2.5", ["well", "-", "known", "3", "-", "4", "+5", "-2.5"]),
    ("wait... what -- ok // :) ): :( ;)", ["wait", "...", "what", "--", "ok", "//", ":)"]),
    ('(quoted) [x] "y"', ["(", "quoted", ")", "[", "x", "]", '"', "y", '"']),
    ("a…b 1,000.50 C++", ["a", "…", "b", "1,000.50", "C", "+", "+"]),
    ("한국어 텍스트입니다. 좋아요!", ["한국어", "텍스트입니다", ".", "좋아요", "!"]),
]


def spec_tokens(texts: list[str | None]) -> list[list[str]]:
    """Tokens by the one-regex specification."""
    column = pl.Series(texts, dtype=pl.String).fill_null("")
    found = pl.select(spaced(pl.lit(column)).str.extract_all(SPEC)).to_series().to_list()
    return [tokens or [] for tokens in found]


def scan_tokens(texts: list[str | None]) -> list[list[str]]:
    """Tokens by the compiled scan."""
    column = pl.Series(texts, dtype=pl.String).fill_null("")
    return tokenize(pl.select(spaced(pl.lit(column))).to_series(), PUNCTUATION_SET).strings()


@pytest.mark.parametrize(("text", "expected"), RULES, ids=[t for t, _ in RULES])
def test_each_rule(text: str, expected: list[str]):
    tokens = scan_tokens([text])[0]
    assert tokens[: len(expected)] == expected
    assert tokens == spec_tokens([text])[0]


def test_tricky_texts_and_nulls():
    texts = [*TRICKY, "n't", "'s", "n'tx", "mr.x", "st.", "..", "'", "’", "x’", "a.b.c."]
    assert scan_tokens(texts) == spec_tokens(texts)
    assert scan_tokens([None, ""]) == [[], []]
    assert scan_tokens([]) == []


@pytest.mark.parametrize("korean", [False, True], ids=["web", "korean"])
def test_real_corpus_matches_the_spec(shared_data: Path, korean: bool):
    if korean:
        texts = read_texts(shared_data / "korean" / "news_comments.txt.gz")[:3000]
    else:
        web = shared_data / "web"
        paths = [*sorted(web.glob("*.jsonl")), *sorted(web.glob("*.jsonl.gz"))]
        texts = [t for path in [*paths, web / "wiki_demo.txt"] for t in read_texts(path)]
    scanned, specified = scan_tokens(texts), spec_tokens(texts)
    assert sum(map(len, specified)) > 20_000
    assert [i for i, (a, b) in enumerate(zip(scanned, specified, strict=True)) if a != b] == []


def test_token_tests_and_hashes():
    tokens = tokens_of(pl.Series(["the — 3.5 abc!! the", "the"]))
    assert tokens.strings() == [["the", "—", "3.5", "abc", "!", "!", "the"], ["the"]]
    assert tokens.counts.tolist() == [7, 1]
    assert tokens.chars.tolist() == [3, 1, 3, 3, 1, 1, 3, 3]
    words = [True, False, True, True, False, False, True, True]
    assert (tokens.flags & WORD > 0).tolist() == words
    assert (tokens.flags & ALPHA > 0).tolist() == [
        True,
        False,
        False,
        True,
        False,
        False,
        True,
        True,
    ]
    (the,) = hash_strings(["the"])
    assert tokens.hashes[[0, 6, 7]].tolist() == [the] * 3
    assert tokens.hashes[3] != the


def test_char_classes_are_kept_in_the_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WINNOW_CACHE", str(tmp_path))
    char_classes.cache_clear()
    try:
        made = char_classes(PUNCTUATION_SET)
        (saved,) = (tmp_path / "tables").glob("char-classes-*.npy")
        assert np.array_equal(np.load(saved), made)
        assert made[ord("a")] & LETTER and made[ord(" ")] & SPACE and made[ord("한")] & LETTER
        saved.write_bytes(b"not a table")  # a damaged file is made again, not trusted
        char_classes.cache_clear()
        assert np.array_equal(char_classes(PUNCTUATION_SET), made)
        assert np.array_equal(np.load(saved), made)
    finally:
        char_classes.cache_clear()
