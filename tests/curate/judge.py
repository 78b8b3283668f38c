"""Run a step over tiny inline documents as the runner would, and read back its verdicts."""

import polars as pl

from winnow.curate.runner import global_keys
from winnow.curate.steps import Step
from winnow.curate.steps.base import GlobalContext


def reasons(step_class: type[Step], texts: list[str], **params: object) -> list[str | None]:
    """Score and judge texts with a fresh step, checking the input columns stay first."""
    step = step_class(**params)
    scored = step.score(pl.DataFrame({"text": texts, "id": range(len(texts))}))
    assert scored.columns[:2] == ["text", "id"]
    return scored.select(step.reason()).to_series().to_list()


def decide_global(
    step: Step, shards: list[pl.DataFrame], context: GlobalContext | None = None
) -> pl.DataFrame:
    """Score each shard and decide over their stacked keys, as the runner does in one process."""
    return step.decide(global_keys(step, [step.score(shard) for shard in shards]), context)
