"""The step contract: measure into score columns, then decide keep or drop with a reason."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Union

import polars as pl

from winnow.curate.rules import Rule
from winnow.curate.steps.registry import STEPS
from winnow.errors import WinnowError

if TYPE_CHECKING:
    from winnow.curate.executors import Executor
    from winnow.workspace import Workspace


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
    version: ClassVar[int] = 1
    """The version of the step's rules: bump it whenever a change to the code or to a default
    changes what the step writes. It enters the recipe hash, so a run never resumes from (or
    is mistaken for) shards an older version made; the manifest records it."""

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

    def rules(self) -> tuple[Rule, ...]:
        """The threshold rules `reason` applies with these parameters, in its order, so that a
        removal is explained by the very comparison that made it; the default has none."""
        return ()

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


def bounds(low: float | None = None, high: float | None = None) -> dict[str, Any]:
    """Field metadata declaring the range a numeric parameter must lie in (None: open).

    Use as `field(default=0.65, metadata=bounds(0, 1))`. A numeric parameter that declares no
    range must be 0 or more; declare `bounds(None, None)` for one that may be negative. NaN is
    never accepted.
    """
    return {"range": (low, high)}


DEFAULT_RANGE = (0, None)
"""The range of a numeric parameter that declares none: thresholds and counts are never
negative, and a negative one would silently reject (or keep) every row."""


def build_step(spec: dict[str, Any], where: str) -> Step:
    """Make a step from a recipe entry such as {step: c4, min_words: 3}, naming bad keys.

    Each parameter is checked against the type annotation of its dataclass field and against
    its declared range (see `bounds`) before the step is built, so a wrong value fails when the
    recipe loads, in one sentence, rather than deep inside a run.
    """
    params = dict(spec)
    name = params.pop("step", None)
    if name is None:
        raise WinnowError(f"{where}: a step entry has no 'step' key; add e.g. 'step: normalize'.")
    if not isinstance(name, str) or name not in STEPS:
        known = ", ".join(sorted(STEPS))
        raise WinnowError(f"{where}: unknown step '{name}'; use one of: {known}.")
    cls = STEPS[name]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in params:
        if key not in fields:
            allowed = ", ".join(sorted(fields)) or "none"
            raise WinnowError(
                f"{where}: step '{name}' has no parameter '{key}'; its parameters are: {allowed}."
            )
    hints = typing.get_type_hints(cls)
    for key, value in params.items():
        check_parameter(value, fields[key], hints.get(key, Any), f"{where}: step '{name}'")
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise WinnowError(f"{where}: step '{name}' rejected its parameters: {exc}.") from exc


def check_parameter(value: Any, field: dataclasses.Field, hint: Any, where: str) -> None:
    """Raise a one-sentence WinnowError when `value` does not fit the field's type or range."""
    key = field.name
    example = example_of(field)
    if isinstance(value, str | int | float) and conforms([value], hint):
        example = f"[{value}]"  # one value where a list belongs
    fix = f"write e.g. '{key}: {example}'" if example else "fix the value in the recipe"
    if not conforms(value, hint):
        raise WinnowError(
            f"{where}: parameter '{key}' is {value!r} ({kind_of(value)}), but it must be "
            f"{expected(hint)}; {fix}."
        )
    low, high = field.metadata.get("range", DEFAULT_RANGE)
    for number in numbers_in(value):
        if math.isnan(number):
            raise WinnowError(
                f"{where}: parameter '{key}' is NaN, which no row's score can be compared "
                f"with; {fix}."
            )
        if (low is not None and number < low) or (high is not None and number > high):
            raise WinnowError(
                f"{where}: parameter '{key}' is {number!r}, but it must be "
                f"{describe_range(low, high)}; {fix}."
            )


def conforms(value: Any, hint: Any) -> bool:
    """Whether a value read from YAML fits a field's type annotation (lists stand for tuples)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (Union, types.UnionType):
        return any(conforms(value, arg) for arg in args)
    if hint is type(None) or hint is None:
        return value is None
    if origin is Literal:
        return value in args
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if origin is list:
        return isinstance(value, list) and all(conforms(v, args[0]) for v in value)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(conforms(v, args[0]) for v in value)
        return len(value) == len(args) and all(map(conforms, value, args))
    if origin is dict:
        key, item = args or (Any, Any)
        return isinstance(value, dict) and all(
            conforms(k, key) and conforms(v, item) for k, v in value.items()
        )
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def expected(hint: Any) -> str:
    """A type annotation in words: 'a whole number or null', 'a list of strings'."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return " or ".join(expected(arg) for arg in args)
    if hint is type(None) or hint is None:
        return "null"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    words = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}
    if hint in words:
        return words[hint]
    if origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        return f"a list of {plural(args[0])}"
    if origin is tuple:
        return "a list [" + ", ".join(expected(a) for a in args) + "]"
    if origin is dict:
        return f"a mapping from {plural(args[0])} to {plural(args[1])}"
    return getattr(hint, "__name__", str(hint))


def plural(hint: Any) -> str:
    """'strings', 'whole numbers', 'lists [a whole number, a number]' for an element type."""
    words = {bool: "true/false values", int: "whole numbers", float: "numbers", str: "strings"}
    if typing.get_origin(hint) is tuple and Ellipsis not in typing.get_args(hint):
        return "lists [" + ", ".join(expected(a) for a in typing.get_args(hint)) + "]"
    return words.get(hint, expected(hint))


def kind_of(value: Any) -> str:
    """What a YAML value is, in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def numbers_in(value: Any) -> list[float]:
    """Every number in a parameter value, nested lists and mapping values included."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [value]
    if isinstance(value, list | tuple):
        return [n for v in value for n in numbers_in(v)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers_in(v)]
    return []


def describe_range(low: float | None, high: float | None) -> str:
    """A declared range in words."""
    if low is not None and high is not None:
        return f"between {low} and {high}"
    if low is not None:
        return f"{low} or more"
    return f"{high} or less"


def example_of(field: dataclasses.Field) -> str:
    """The field's default as YAML would spell it, for a one-line fix; empty when none fits."""
    default = field.default
    if default is dataclasses.MISSING or default is None or default == "":
        return ""
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, int | float | str):
        return str(default)
    return ""


def first_reason(*rules: tuple[pl.Expr, str] | Rule) -> pl.Expr:
    """Chain (condition, reason) pairs and declared rules so a row gets the first reason whose
    condition holds."""
    if not rules:
        return pl.lit(None, dtype=pl.Utf8)
    pairs = [(r.expr(), r.reason) if isinstance(r, Rule) else r for r in rules]
    cond, why = pairs[0]
    chain = pl.when(cond).then(pl.lit(why))
    for cond, why in pairs[1:]:
        chain = chain.when(cond).then(pl.lit(why))
    return chain.otherwise(pl.lit(None, dtype=pl.Utf8))
