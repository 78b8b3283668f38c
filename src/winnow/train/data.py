"""Training data: a workspace dataset's kept rows as a `datasets.Dataset` in TRL's columns.

Each converted set is saved once under WINNOW_HOME/cache/train-data/, named for the dataset's
fingerprint, and loaded from there: tokenisation caches and DPO's reference log-probs then
stay valid across runs on the same data.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from winnow.errors import WinnowError
from winnow.workspace import DatasetVersion, Workspace

NEEDS: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "instruct": ("prompt", "completion"),
    "preference": ("prompt", "chosen", "rejected"),
}
"""Columns each kind of training set is built from."""

MADE_BY = {
    "text": "winnow curate run",
    "instruct": "winnow curate instruct",
    "preference": "winnow curate preference",
}
"""The command that makes each kind, for error messages."""


def messages(value: Any) -> list[dict[str, str]]:
    """Chat messages stored as JSON text (instruction sets) or nested lists (preference sets)."""
    parsed = json.loads(value) if isinstance(value, str) else value
    return [{"role": m["role"], "content": m["content"]} for m in parsed or []]


def input_record(version: DatasetVersion, rows: int) -> dict[str, Any]:
    """What run.json records about an input dataset."""
    manifest = version.manifest
    return {
        "name": version.name,
        "version": version.version,
        "ref": version.ref,
        "kind": manifest.get("kind", "pretraining"),
        "fingerprint": manifest["fingerprint"],
        "rows": rows,
    }


def kept_rows(version: DatasetVersion, columns: tuple[str, ...], kind: str) -> pl.DataFrame:
    """The kept rows' needed columns, or one clear line when columns or rows are missing."""
    files = sorted((version.path / "kept").glob("*.parquet"))
    schema = pl.scan_parquet(files).collect_schema() if files else {}
    missing = [c for c in columns if c not in schema]
    if missing:
        have = ", ".join(schema) or "none"
        raise WinnowError(
            f"dataset {version.ref} has no column {', '.join(missing)} (it has: {have}); "
            f"this job needs a {kind} set made by '{MADE_BY[kind]}'."
        )
    frame = pl.read_parquet(files, columns=list(columns))
    if not frame.height:
        raise WinnowError(f"dataset {version.ref} has no kept rows; curate some data first.")
    return frame


def convert(frame: pl.DataFrame, kind: str) -> list[dict[str, Any]]:
    """Rows in TRL's form: text, prompt/completion or prompt/chosen/rejected message lists."""
    if kind == "text":
        return [{"text": t} for t in frame["text"] if t]
    if kind == "preference":
        paired = frame.filter(pl.col("chosen").is_not_null() & pl.col("rejected").is_not_null())
        return [
            {k: messages(row[k]) for k in ("prompt", "chosen", "rejected")}
            for row in paired.iter_rows(named=True)
        ]
    return [
        {"prompt": messages(row["prompt"]), "completion": messages(row["completion"])}
        for row in frame.iter_rows(named=True)
    ]


def load_training_set(
    ws: Workspace, ref: str, kind: str, max_rows: int | None = None
) -> tuple[Any, dict[str, Any]]:
    """The dataset NAME[@vN] as a file-backed `datasets.Dataset` (its first `max_rows` rows
    when given), and its run.json record."""
    from datasets import Dataset, load_from_disk

    version = ws.dataset(ref)
    cache = ws.root / "cache" / "train-data" / f"{version.manifest['fingerprint']}-{kind}"
    if not (cache / "dataset_info.json").is_file():
        rows = convert(kept_rows(version, NEEDS[kind], kind), kind)
        if not rows:
            raise WinnowError(
                f"dataset {version.ref} has no {kind} rows a trainer can use (preference sets "
                "need chosen and rejected; KTO rows are unpaired)."
            )
        Dataset.from_list(rows).save_to_disk(str(cache))
    dataset = load_from_disk(str(cache))
    if max_rows is not None and max_rows < len(dataset):
        dataset = dataset.select(range(max_rows))
    return dataset, input_record(version, len(dataset))


def split(dataset: Any, fraction: float, seed: int) -> tuple[Any, Any]:
    """(train, held-out) with `fraction` of the rows held out (at least one when asked for)."""
    if fraction <= 0 or len(dataset) < 2:
        return dataset, None
    parts = dataset.train_test_split(test_size=max(1, round(len(dataset) * fraction)), seed=seed)
    return parts["train"], parts["test"]
