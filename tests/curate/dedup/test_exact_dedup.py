"""Exact dedup keeps the first copy in stable order and points copies at it."""

import polars as pl

from tests.curate.judge import decide_global
from winnow.curate.dedup.exact.exact_dedup import ExactDedup


def test_copies_across_shards_point_to_first() -> None:
    step = ExactDedup()
    first = pl.DataFrame({"id": ["a", "b"], "text": ["Hello  world\n", "other"]})
    second = pl.DataFrame({"id": ["c", "d"], "text": ["Hello world", "Hello World"]})
    verdict = decide_global(step, [first, second])
    assert verdict["reason"].to_list() == [None, None, "duplicate", None]
    assert verdict["duplicate_of"].to_list() == [None, None, "a", None]


def test_lowercase_option_folds_case() -> None:
    step = ExactDedup(lowercase=True)
    df = pl.DataFrame({"id": ["a", "b"], "text": ["Hello World", "hello world"]})
    verdict = decide_global(step, [df])
    assert verdict["duplicate_of"].to_list() == [None, "a"]


def test_hash_is_stable_across_runs() -> None:
    df = pl.DataFrame({"id": ["a"], "text": ["Stable text"]})
    assert ExactDedup().score(df)["exact_dedup_hash"][0] == "0b1a056891c779a99b73674d65fc69fe"
