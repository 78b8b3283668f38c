"""Tokens reused row by row across steps equal a fresh split of the rows the step gets."""

import random

import numpy as np
import polars as pl
import pytest

from tests.conftest import SHARED_DATA
from tests.curate.samples import read_texts
from winnow.curate.text.stats import TOKEN_CACHE, Tokenizer, tokens_of
from winnow.curate.text.tokens import Tokens

FIELDS = ("first", "hashes", "chars", "flags")


def fresh(texts: pl.Series, tokenizer: Tokenizer) -> Tokens:
    """A split with nothing cached."""
    TOKEN_CACHE.clear()
    return tokens_of(texts, tokenizer)


def assert_same(got: Tokens, want: Tokens) -> None:
    """Same tokens, features and parts of speech, row by row."""
    assert got.strings() == want.strings()
    for field in FIELDS:
        assert np.array_equal(getattr(got, field), getattr(want, field)), field
    assert (got.tags is None) == (want.tags is None)
    if want.tags is not None:
        assert np.array_equal(got.tags, want.tags)


@pytest.mark.parametrize(
    ("path", "tokenizer"),
    [("web/c4_demo.jsonl", "eojeol"), ("korean/constitution.txt", "kiwi")],
)
def test_filtered_and_edited_rows_reuse_the_earlier_split(path: str, tokenizer: Tokenizer) -> None:
    texts = read_texts(SHARED_DATA / path)[:200]
    if tokenizer == "kiwi":
        pytest.importorskip("kiwipiepy")
    rng = random.Random(7)
    column = pl.Series(texts + [None, ""])
    fresh(column, tokenizer)
    tokens_of(column, tokenizer)  # the whole column, cached
    # a later step's rows: some removed, a third with their last line cut (as C4 does), a
    # new text, and duplicates of one text
    kept = [t for t in texts if rng.random() < 0.7]
    later = [t.rsplit("\n", 1)[0] + " tail" if rng.random() < 0.3 else t for t in kept]
    later += ["a text no earlier step saw.", later[0], None]
    step = pl.Series(later)
    reused = tokens_of(step, tokenizer)
    assert_same(reused, fresh(step, tokenizer))
    # the same column again is the cached object itself; an empty column has no tokens
    assert tokens_of(step, tokenizer) is tokens_of(step, tokenizer)
    assert tokens_of(pl.Series([], dtype=pl.String), tokenizer).rows_count == 0
