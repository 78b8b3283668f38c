"""Curation steps, by name in `STEPS`.

`STEPS` imports a step's module (and the libraries it needs) only when the step is first
asked for, so loading a recipe imports its own steps and no others; this package itself
imports nothing heavy. `Step`, `build_step` and `register` come from `base`, loaded on first
use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from winnow.curate.steps.registry import STEPS, StepRegistry

if TYPE_CHECKING:
    from winnow.curate.steps.base import Step, build_step, register

__all__ = ["STEPS", "Step", "StepRegistry", "build_step", "register"]

FROM_BASE = ("Step", "build_step", "register")
"""Names this package hands out from `base`, which imports Polars."""


def __getattr__(name: str) -> Any:
    """`Step`, `build_step` and `register` from `base`, imported on first use."""
    if name in FROM_BASE:
        from winnow.curate.steps import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
