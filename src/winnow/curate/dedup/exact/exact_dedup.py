"""Exact deduplication on normalized text, keeping the first copy in stable order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import polars as pl
import xxhash

from winnow.curate.dedup.exact import sharded as by_shard
from winnow.curate.steps.base import GlobalContext, Step, register
from winnow.errors import WinnowError

if TYPE_CHECKING:
    from winnow.curate.executors import Executor


def normalized_text(lowercase: bool, column: str = "text") -> pl.Expr:
    """The text as compared: NFC, whitespace runs folded, trimmed, optionally lower-cased."""
    expr = (
        pl.col(column)
        .cast(pl.Utf8)
        .fill_null("")
        .str.normalize("NFC")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    return expr.str.to_lowercase() if lowercase else expr


@register
@dataclass
class ExactDedup(Step):
    """Drop rows whose normalized text equals an earlier row's; they carry `duplicate_of`.

    `column` names the compared column (e.g. `instruction` for duplicate instructions in an
    instruct recipe). Column: `exact_dedup_hash` (xxh3-128 hex of the normalized text, stable
    across versions and machines). Reason: `duplicate`.
    """

    name: ClassVar[str] = "exact_dedup"
    prefix: ClassVar[str] = "exact_dedup_"
    scope: ClassVar[str] = "global"
    sharded: ClassVar[bool] = True
    lowercase: bool = False
    column: str = "text"

    @property
    def key_columns(self) -> tuple[str, ...]:
        """The hash is all `decide` needs of a row."""
        return (self.col("hash"),)

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Hash each row's normalized text with a stable hash (never Polars' own hash)."""
        if self.column not in df.columns:
            raise WinnowError(
                f"exact_dedup: the rows have no column '{self.column}'; name one of: "
                f"{', '.join(df.columns)}."
            )
        texts = df.select(normalized_text(self.lowercase, self.column)).to_series().to_list()
        hashes = [xxhash.xxh3_128_hexdigest(t.encode("utf-8")) for t in texts]
        return df.with_columns(pl.Series(self.col("hash"), hashes, dtype=pl.Utf8))

    def decide(self, keys: pl.DataFrame, context: GlobalContext | None = None) -> pl.DataFrame:
        """Keep the first row of each hash group; later ones point at its id."""
        first = keys.group_by(self.col("hash"), maintain_order=True).agg(
            pl.col("__shard").first().alias("__first_shard"),
            pl.col("__row").first().alias("__first_row"),
            pl.col("id").first().alias("__first_id"),
        )
        joined = keys.join(first, on=self.col("hash"), how="left", maintain_order="left")
        is_copy = (pl.col("__shard") != pl.col("__first_shard")) | (
            pl.col("__row") != pl.col("__first_row")
        )
        return joined.select(
            "__shard",
            "__row",
            pl.when(is_copy).then(pl.lit("duplicate")).alias("reason"),
            pl.when(is_copy).then(pl.col("__first_id")).alias("duplicate_of"),
        )

    def decide_sharded(
        self, scored: list[Path], context: GlobalContext, executor: Executor
    ) -> dict[str, int]:
        """The same verdicts as `decide`, through hash partitions (see `sharded`)."""
        return by_shard.decide(self, scored, context, executor)
