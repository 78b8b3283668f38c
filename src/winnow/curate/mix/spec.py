"""What a mix is asked for: the budget, the weighted inputs and the options, read and checked."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from winnow.errors import WinnowError

BUDGET = re.compile(
    r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmb]?)\s*(docs?|documents?|tokens?)\s*$", re.IGNORECASE
)
"""A budget: a number, an optional k/M/B multiplier and a unit, e.g. '5k docs', '2M tokens'."""

MULTIPLIERS = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
"""What a budget's k/M/B suffix multiplies by (any case)."""


@dataclass(frozen=True)
class Budget:
    """How much the mix holds: a whole number of documents or of tokens."""

    amount: int
    unit: str
    text: str


@dataclass(frozen=True)
class MixInput:
    """One --input argument: what to read and its weight."""

    arg: str
    weight: float
    text: str


@dataclass
class MixOptions:
    """What a mix draws, and how."""

    inputs: list[MixInput]
    budget: Budget
    seed: int = 0
    max_epochs: int = 4
    tokenizer: str | None = None
    warnings: list[str] = field(default_factory=list)


def parse_budget(text: str) -> Budget:
    """Read '1000docs', '5k docs', '2M tokens' or '2000000tokens' into a budget."""
    match = BUDGET.match(text)
    if match is None:
        raise WinnowError(
            f"--budget '{text}' is not a budget; write a number with an optional k/M/B suffix "
            "and a unit, e.g. '1000docs', '5k docs' or '2M tokens'."
        )
    number, suffix, unit = match.groups()
    amount = Decimal(number) * MULTIPLIERS[suffix.lower()]
    if amount < 1 or amount != amount.to_integral_value():
        raise WinnowError(
            f"--budget '{text}' is {amount} {unit}; a budget must be a whole number of at "
            "least 1, e.g. '1000docs'."
        )
    kind = "tokens" if unit.lower().startswith("token") else "docs"
    return Budget(int(amount), kind, text)


def parse_input(text: str) -> MixInput:
    """Read 'NAME:WEIGHT' (a dataset, file or glob and a non-negative number); no ':' means 1."""
    arg, sep, tail = text.rpartition(":")
    if not sep:
        return MixInput(text, 1.0, text)
    if not arg:
        raise WinnowError(f"--input '{text}' names nothing before ':'; write NAME:WEIGHT.")
    try:
        weight = float(tail)
    except ValueError:
        raise WinnowError(
            f"--input '{text}': weight '{tail}' is not a number; write NAME:WEIGHT with a "
            f"non-negative number, e.g. '{arg}:0.5'."
        ) from None
    if not math.isfinite(weight) or weight < 0:
        raise WinnowError(
            f"--input '{text}': weight {tail} is not allowed; use a finite number of 0 or more, "
            f"e.g. '{arg}:0.5'."
        )
    return MixInput(arg, weight, text)


def shares_of(inputs: list[MixInput]) -> list[float]:
    """Weights normalised to proportions that sum to 1."""
    if not inputs:
        raise WinnowError(
            "no --input given; pass --input NAME:WEIGHT once per input, e.g. "
            "--input web:0.7 --input ko:0.3."
        )
    total = sum(item.weight for item in inputs)
    if total <= 0:
        raise WinnowError(
            "--input: every weight is 0; give at least one input a positive weight, e.g. 'web:1'."
        )
    return [item.weight / total for item in inputs]
