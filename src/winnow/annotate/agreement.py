"""An annotation dataset's scores as one more annotator, so `winnow labels agreement` puts the
LLM beside the people who labelled the same items in the dashboard."""

from __future__ import annotations

import polars as pl

from winnow.errors import WinnowError
from winnow.labels.tasks import LabelTask
from winnow.workspace import DatasetVersion


def machine_labels(version: DatasetVersion, task: LabelTask) -> dict[str, dict[str, str]]:
    """{"llm:<annotator>": {item id: score}} for an annotation dataset, else nothing; a score
    the task cannot hold is one sentence naming both scales."""
    if version.manifest.get("kind") != "annotations":
        return {}
    files = sorted((version.path / "kept").glob("*.parquet"))
    if not files:
        return {}
    frame = pl.scan_parquet(files).select("id", "score").collect()
    labels = {row_id: str(score) for row_id, score in frame.iter_rows()}
    outside = sorted(set(labels.values()) - set(task.values), key=int)
    if outside:
        raise WinnowError(
            f"{version.ref} holds scores {', '.join(outside)} that label task '{task.name}' "
            f"cannot hold (its values: {', '.join(task.values)}); label it with a task on the "
            "prompt's scale, such as edu-0to5."
        )
    annotator = version.manifest["annotate"]["annotator"]
    return {f"llm:{annotator.get('model') or annotator.get('url')}": labels}
