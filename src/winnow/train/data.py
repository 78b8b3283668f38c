"""Training data: a workspace dataset's kept rows as a `datasets.Dataset` in TRL's columns.

Each converted set is saved once under WINNOW_HOME/cache/train-data/, named for the dataset's
fingerprint, and loaded from there: tokenisation caches and DPO's reference log-probs then
stay valid across runs on the same data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from winnow.errors import WinnowError
from winnow.workspace import DatasetVersion, Workspace

NEEDS: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "instruct": ("prompt", "completion"),
    "preference": ("prompt", "chosen", "rejected"),
    "unpaired": ("prompt", "chosen", "rejected", "completion", "label"),
}
"""Columns each kind of training set is built from."""

MADE_BY = {
    "text": "a text set made by 'winnow curate run'",
    "instruct": "an instruction set made by 'winnow curate instruct'",
    "preference": "a preference set made by 'winnow curate preference'",
    "unpaired": "a preference set (labelled answers or pairs) made by 'winnow curate preference'",
}
"""Each kind of set and the command that makes it, for error messages."""


EMPTY = {
    "instruct": "curate an instruction set with rows first.",
    "preference": "DPO and reward models need chosen/rejected pairs and its rows are unpaired "
    "KTO rows; train those with winnow train kto.",
    "unpaired": "KTO needs labelled answers (completion, label) or chosen/rejected pairs.",
}
"""What to do when a dataset has no row of the kind a method trains on."""


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


def kept_files(version: DatasetVersion, columns: tuple[str, ...], kind: str) -> list[Path]:
    """The kept Parquet files, or one clear line when they lack a needed column."""
    files = sorted((version.path / "kept").glob("*.parquet"))
    schema = pl.scan_parquet(files).collect_schema() if files else {}
    missing = [c for c in columns if c not in schema]
    if missing:
        have = ", ".join(schema) or "none"
        raise WinnowError(
            f"dataset {version.ref} has no column {', '.join(missing)} (it has: {have}); "
            f"this job needs {MADE_BY[kind]}."
        )
    return files


def no_rows(version: DatasetVersion) -> WinnowError:
    """The one line for a dataset with nothing kept."""
    return WinnowError(f"dataset {version.ref} has no kept rows; curate some data first.")


def kept_rows(version: DatasetVersion, columns: tuple[str, ...], kind: str) -> pl.DataFrame:
    """The kept rows' needed columns, or one clear line when columns or rows are missing."""
    frame = pl.read_parquet(kept_files(version, columns, kind), columns=list(columns))
    if not frame.height:
        raise no_rows(version)
    return frame


def unpaired(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """KTO's rows: each labelled answer as it is, and each pair as its chosen answer
    (desirable) and its rejected one (undesirable)."""
    rows = []
    for row in frame.iter_rows(named=True):
        prompt = messages(row["prompt"])
        if row["chosen"] is not None and row["rejected"] is not None:
            rows.append({"prompt": prompt, "completion": messages(row["chosen"]), "label": True})
            rows.append({"prompt": prompt, "completion": messages(row["rejected"]), "label": False})
        elif row["completion"] is not None and row["label"] is not None:
            completion = messages(row["completion"])
            rows.append({"prompt": prompt, "completion": completion, "label": bool(row["label"])})
    return rows


def convert(frame: pl.DataFrame, kind: str) -> list[dict[str, Any]]:
    """Rows in TRL's form: prompt/completion, prompt/chosen/rejected or, for KTO,
    prompt/completion/label message lists."""
    if kind == "unpaired":
        return unpaired(frame)
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
    when given), or for text the version itself (pretraining streams its token shards); and
    its run.json record."""
    from datasets import Dataset, load_from_disk

    version = ws.dataset(ref)
    if kind == "text":
        files = kept_files(version, NEEDS[kind], kind)
        rows = pl.scan_parquet(files).select(pl.len()).collect().item() if files else 0
        if not rows:
            raise no_rows(version)
        return version, input_record(version, min(rows, max_rows or rows))
    cache = ws.root / "cache" / "train-data" / f"{version.manifest['fingerprint']}-{kind}"
    if not (cache / "dataset_info.json").is_file():
        rows = convert(kept_rows(version, NEEDS[kind], kind), kind)
        if not rows:
            raise WinnowError(f"dataset {version.ref} has no {kind} rows: {EMPTY[kind]}")
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
