"""Run a step over tiny inline documents as the runner would, and read back its reasons."""

import polars as pl

from winnow.curate.steps import Step


def reasons(step_class: type[Step], texts: list[str], **params: object) -> list[str | None]:
    """Score and judge texts with a fresh step, checking the input columns stay first."""
    step = step_class(**params)
    scored = step.score(pl.DataFrame({"text": texts, "id": range(len(texts))}))
    assert scored.columns[:2] == ["text", "id"]
    return scored.select(step.reason()).to_series().to_list()
