"""Contamination: the datasets a model was trained on (followed through its runs' lineage)
checked for n-grams shared with each eval set, with the decontaminate step's 13-gram index."""

from __future__ import annotations

from typing import Any

import polars as pl

from winnow.curate.steps.decontaminate import Decontaminate
from winnow.workspace import Workspace

TEXT_COLUMNS = (
    "text",
    "prompt",
    "completion",
    "chosen",
    "rejected",
    "instruction",
    "input",
    "output",
)
"""Columns whose text a model was trained on, whichever kind of set it is."""


def training_inputs(run: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every input dataset of a run summary and of the runs it was built on."""
    found: list[dict[str, Any]] = []
    while run:
        found += run.get("inputs", [])
        run = (run.get("base") or {}).get("run")
    return found


def dataset_text(ws: Workspace, ref: str) -> pl.DataFrame:
    """One `text` row per kept row of a dataset version: its trained-on columns joined."""
    version = ws.dataset(ref)
    files = sorted((version.path / "kept").glob("*.parquet"))
    schema = pl.scan_parquet(files).collect_schema()
    columns = [c for c in TEXT_COLUMNS if c in schema]
    frame = pl.read_parquet(files, columns=columns)
    parts = [as_text(c, frame.schema[c]).fill_null("") for c in columns]
    return frame.select(pl.concat_str(parts, separator="\n").alias("text"))


def as_text(column: str, dtype: pl.DataType) -> pl.Expr:
    """A column as plain text: chat messages (a list of role/content structs) become their
    contents one per line, anything else its string form."""
    if isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
        contents = pl.col(column).list.eval(pl.element().struct.field("content"))
        return contents.list.join("\n")
    return pl.col(column).cast(pl.Utf8)


def contamination(
    ws: Workspace, lineage: dict[str, Any] | None, eval_sets: dict[str, str], n: int = 13
) -> dict[str, Any]:
    """Per eval set: the training documents that share an n-gram with it, per dataset, and a
    sample n-gram; empty when the model has no lineage in this workspace."""
    names = set(ws.names())
    inputs = [i for i in training_inputs(lineage) if i["name"] in names]
    sets = sorted(set(eval_sets.values()))
    if not inputs or not sets:
        return {"checked": [], "n": n, "eval_sets": {}}
    step = Decontaminate(evals=sets, n=n)
    found: dict[str, Any] = {name: {"documents": 0, "datasets": {}} for name in sets}
    for item in inputs:
        scored = step.score(dataset_text(ws, item["ref"]))
        hits = scored.filter(pl.col("decontaminate_matches") > 0)
        for row in hits.iter_rows(named=True):
            for name in row["decontaminate_benchmarks"]:
                entry = found[name]
                entry["documents"] += 1
                entry["datasets"][item["ref"]] = entry["datasets"].get(item["ref"], 0) + 1
                entry.setdefault(
                    "example",
                    {"item": row["decontaminate_item"], "ngram": row["decontaminate_ngram"]},
                )
    return {"checked": [i["ref"] for i in inputs], "n": n, "eval_sets": found}


def flagged_tasks(report: dict[str, Any], eval_sets: dict[str, str]) -> set[str]:
    """Tasks whose eval set shares n-grams with the training data."""
    hit = {name for name, entry in report["eval_sets"].items() if entry["documents"]}
    return {task for task, name in eval_sets.items() if name in hit}
