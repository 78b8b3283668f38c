"""Exact dedup keeps the first copy in stable order and points copies at it."""

import polars as pl

from winnow.curate.steps.exact_dedup import ExactDedup


def keys_for(step: ExactDedup, shards: list[pl.DataFrame]) -> pl.DataFrame:
    """Score shards and stack their key columns as the runner does."""
    frames = [
        step.score(df)
        .select("id", "exact_dedup_hash")
        .with_row_index("__row")
        .with_columns(pl.lit(i, dtype=pl.Int64).alias("__shard"))
        for i, df in enumerate(shards)
    ]
    return pl.concat(frames)


def test_copies_across_shards_point_to_first() -> None:
    step = ExactDedup()
    first = pl.DataFrame({"id": ["a", "b"], "text": ["Hello  world\n", "other"]})
    second = pl.DataFrame({"id": ["c", "d"], "text": ["Hello world", "Hello World"]})
    verdict = step.decide(keys_for(step, [first, second]))
    assert verdict["reason"].to_list() == [None, None, "duplicate", None]
    assert verdict["duplicate_of"].to_list() == [None, None, "a", None]


def test_lowercase_option_folds_case() -> None:
    step = ExactDedup(lowercase=True)
    df = pl.DataFrame({"id": ["a", "b"], "text": ["Hello World", "hello world"]})
    verdict = step.decide(keys_for(step, [df]))
    assert verdict["duplicate_of"].to_list() == [None, "a"]


def test_hash_is_stable_across_runs() -> None:
    df = pl.DataFrame({"id": ["a"], "text": ["Stable text"]})
    assert ExactDedup().score(df)["exact_dedup_hash"][0] == "0b1a056891c779a99b73674d65fc69fe"
