"""The held-out text a perplexity eval reads: the documents a pretraining run held out of the
same dataset (same fraction, seed and document limit, chosen as `train.blocks` chooses them),
else a fixed 5% of it, or all of it when asked (reference text the model never trained on)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from winnow.errors import WinnowError
from winnow.files import read_json
from winnow.train.blocks import held_out
from winnow.train.data import load_training_set
from winnow.train.token_shards import BATCH_ROWS
from winnow.workspace import DatasetVersion, Workspace

DEFAULT_SPLIT = (0.05, 0, None)
"""Fraction, seed and document limit of the held-out split when the model's run did not
hold one out."""


def run_split(ws: Workspace, base: Any, fingerprint: str) -> tuple[float, int, int | None] | None:
    """The (fraction, seed, max_rows) the model's own run held out of this data, if it trained
    on it."""
    if not base.run:
        return None
    record = read_json(ws.root / "runs" / base.run["name"] / "run.json")
    trained = any(i["fingerprint"] == fingerprint for i in record.get("inputs", []))
    config = record.get("config", {})
    fraction = config.get("eval_fraction", 0)
    if not trained or fraction <= 0:
        return None
    return fraction, config["seed"], config.get("max_rows")


def documents(version: DatasetVersion) -> Iterator[str]:
    """The kept texts a pretraining run reads, in its order: kept files sorted, empty ones
    left out (as the token shards leave them out)."""
    import pyarrow.parquet as pq

    for path in sorted((version.path / "kept").glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(BATCH_ROWS, columns=["text"]):
            yield from (text for text in batch.column(0).to_pylist() if text)


def heldout_values(
    ws: Workspace, ref: str, base: Any, folder: Path, whole: bool = False
) -> dict[str, str]:
    """Write the held-out documents of dataset `ref` to FOLDER/heldout.jsonl (those the
    model's pretraining run held out, else all of them with `whole`, else a fixed 5%); the
    task values."""
    version, record = load_training_set(ws, ref, "text")
    split = run_split(ws, base, record["fingerprint"])
    fraction, seed, max_rows = split or ((1.0, 0, None) if whole else DEFAULT_SPLIT)
    count = sum(1 for _ in documents(version))
    within = min(count, max_rows or count)
    if within < 2:
        raise WinnowError(f"--perplexity {ref}: too few documents ({count}) to hold any out.")
    held = held_out(within, fraction, seed)
    path = folder / "heldout.jsonl"
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        for position, text in enumerate(documents(version)):
            if position < within and held[position]:
                handle.write(json.dumps({"text": text}) + "\n")
                written += 1
    (folder / "heldout.json").write_text(
        json.dumps({"dataset": record, "fraction": fraction, "seed": seed, "documents": written}),
        encoding="utf-8",
    )
    return {"heldout_files": str(path.resolve()), "heldout_format": "json"}
