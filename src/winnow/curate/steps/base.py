"""The step contract: measure into score columns, then decide keep or drop with a reason."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl

from winnow.errors import WinnowError

if TYPE_CHECKING:
    from winnow.curate.executors import Executor
    from winnow.workspace import Workspace

STEPS: dict[str, type[Step]] = {}


@dataclasses.dataclass(frozen=True)
class GlobalContext:
    """What a global step may use while it decides: a scratch folder inside the run's staging
    area (removed with it) and the workspace, for indexes of other datasets."""

    workdir: Path
    workspace: Workspace


def verdict_path(workdir: Path, shard: int) -> Path:
    """Where a global step leaves its verdict on one shard (by the shard's position)."""
    return workdir / "verdicts" / f"{shard:06d}.parquet"


def register(cls: type[Step]) -> type[Step]:
    """Add a step class to the registry under its `name`, which is part of the interface."""
    STEPS[cls.name] = cls
    return cls


@dataclasses.dataclass
class Step:
    """One curation step; its dataclass fields are its recipe parameters.

    `score` adds the step's columns (and may rewrite `text`); `reason` is an expression over
    the scored frame that is the drop reason (a string) or null to keep. Steps with
    scope "global" see every shard at once (deduplication) and implement `decide` instead.
    """

    name: ClassVar[str] = ""
    scope: ClassVar[str] = "row"
    prefix: ClassVar[str] = ""
    """What the names of the step's score columns start with; they are part of the output."""
    sharded: ClassVar[bool] = False
    """Whether a global step also decides shard by shard on a cluster (`decide_sharded`)."""

    def col(self, name: str) -> str:
        """The full name of one of the step's score columns, so every step names them alike."""
        return f"{self.prefix}{name}"

    @property
    def key_columns(self) -> tuple[str, ...]:
        """For global steps: the columns `decide` needs of every row besides `id`; none here."""
        return ()

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Return `df` with this step's score columns added; the default adds none."""
        return df

    def reason(self) -> pl.Expr:
        """Return the drop reason for each row, or null to keep it; the default keeps all."""
        return pl.lit(None, dtype=pl.Utf8)

    def tally(self, frame: pl.DataFrame) -> dict[str, int]:
        """Counts worth reporting beyond removals (rows flagged per benchmark, clusters by size).

        Row steps get each scored shard, global steps the frame `decide` returned; the counts
        are summed over shards into the manifest and printed by the report. The default
        counts nothing.
        """
        return {}

    def describe(self) -> dict[str, Any]:
        """Settings worth showing beside the step's counts (derived ones, such as LSH bands)."""
        return {}

    def decide(self, keys: pl.DataFrame, context: GlobalContext | None = None) -> pl.DataFrame:
        """For global steps: judge all rows at once.

        Score columns whose names start with "__" reach `decide` as keys but are dropped
        before the shards are written, for data only the decision needs.
        `keys` holds `__shard`, `__row`, `id` and the step's `key_columns` for every row of
        every shard, in stable order. Return `__shard`, `__row`, `reason` (null keeps) and any
        extra columns that describe a removal (they are attached to rejected rows only;
        other columns whose names start with "__" are for `tally` and are not attached).
        """
        return keys.select("__shard", "__row", pl.lit(None, dtype=pl.Utf8).alias("reason"))

    def decide_sharded(
        self, scored: list[Path], context: GlobalContext, executor: Executor
    ) -> dict[str, int]:
        """For `sharded` global steps: judge the scored shard files with jobs on `executor`.

        Writes each shard's verdict (as `decide` would return it for that shard's rows) to
        `verdict_path(context.workdir, position)` and returns the tally; no process holds all
        keys at once.
        """
        raise NotImplementedError(f"step {self.name} decides in one process only")


def build_step(spec: dict[str, Any], where: str) -> Step:
    """Make a step from a recipe entry such as {step: c4, min_words: 3}, naming bad keys."""
    params = dict(spec)
    name = params.pop("step", None)
    if name is None:
        raise WinnowError(f"{where}: a step entry has no 'step' key; add e.g. 'step: normalize'.")
    if name not in STEPS:
        known = ", ".join(sorted(STEPS))
        raise WinnowError(f"{where}: unknown step '{name}'; use one of: {known}.")
    cls = STEPS[name]
    fields = {f.name for f in dataclasses.fields(cls)}
    for key in params:
        if key not in fields:
            allowed = ", ".join(sorted(fields)) or "none"
            raise WinnowError(
                f"{where}: step '{name}' has no parameter '{key}'; its parameters are: {allowed}."
            )
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise WinnowError(f"{where}: step '{name}' rejected its parameters: {exc}.") from exc


def first_reason(*rules: tuple[pl.Expr, str]) -> pl.Expr:
    """Chain (condition, reason) rules so a row gets the first reason whose condition holds."""
    if not rules:
        return pl.lit(None, dtype=pl.Utf8)
    cond, why = rules[0]
    chain = pl.when(cond).then(pl.lit(why))
    for cond, why in rules[1:]:
        chain = chain.when(cond).then(pl.lit(why))
    return chain.otherwise(pl.lit(None, dtype=pl.Utf8))
