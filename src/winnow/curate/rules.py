"""Removal rules a step declares once: its decision compares with them and the dashboard
explains a removed row with them, so the two cannot drift apart."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

OPS: dict[str, tuple[Callable[[pl.Expr, Any], pl.Expr], Callable[[Any, Any], bool]]] = {
    "<": (operator.lt, operator.lt),
    ">": (operator.gt, operator.gt),
    ">=": (operator.ge, operator.ge),
    "not in": (
        lambda column, values: ~column.is_in(values).fill_null(False),
        lambda value, values: value not in values,
    ),
}
"""Each comparison over a polars column (for decisions) and over one row's value (to explain)."""


@dataclass(frozen=True)
class Rule:
    """A row's `column` compared by `op` with `limit`; when it holds, the row is removed for
    `reason` (a rule with no reason only picks a threshold, see `Either`)."""

    column: str
    op: str
    limit: Any
    """A value (a list for "not in"), or an `Either` whose value depends on the row."""
    reason: str = ""

    def expr(self) -> pl.Expr:
        """Whether each row breaks the rule, as the step decides; null counts as no."""
        limit = self.limit.expr() if isinstance(self.limit, Either) else self.limit
        return OPS[self.op][0](pl.col(self.column), limit)

    def threshold(self, row: Mapping[str, Any]) -> Any:
        """The limit one row (column -> value) was compared with."""
        return self.limit.pick(row) if isinstance(self.limit, Either) else self.limit

    def holds(self, row: Mapping[str, Any]) -> bool:
        """Whether one row breaks the rule, as `expr` decides: a null compares with nothing and is
        in no list."""
        value, limit = row.get(self.column), self.threshold(row)
        if limit is None:
            return False
        if value is None:
            return self.op == "not in"
        return OPS[self.op][1](value, limit)


@dataclass(frozen=True)
class Either:
    """A numeric threshold that depends on the row: `then` where `test` holds, else
    `otherwise`; None sets no bound."""

    test: Rule
    then: float | None
    otherwise: float | None

    def expr(self) -> pl.Expr:
        """Each row's threshold, for the decision."""
        return (
            pl.when(self.test.expr())
            .then(pl.lit(self.then, dtype=pl.Float64))
            .otherwise(pl.lit(self.otherwise, dtype=pl.Float64))
        )

    def pick(self, row: Mapping[str, Any]) -> float | None:
        """One row's threshold, as `expr` picks it."""
        return self.then if self.test.holds(row) else self.otherwise
