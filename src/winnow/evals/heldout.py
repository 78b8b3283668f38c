"""The held-out text a perplexity eval reads: the documents a pretraining run held out of the
same dataset (same fraction and seed), else a fixed 5% of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from winnow.errors import WinnowError
from winnow.files import read_json
from winnow.train.data import load_training_set, split
from winnow.workspace import Workspace

DEFAULT_SPLIT = (0.05, 0)
"""Fraction and seed of the held-out split when the model's run did not hold one out."""


def run_split(ws: Workspace, base: Any, fingerprint: str) -> tuple[float, int] | None:
    """The (fraction, seed) the model's own run held out of this data, if it trained on it."""
    if not base.run:
        return None
    record = read_json(ws.root / "runs" / base.run["name"] / "run.json")
    trained = any(i["fingerprint"] == fingerprint for i in record.get("inputs", []))
    fraction = record.get("config", {}).get("eval_fraction", 0)
    return (fraction, record["config"]["seed"]) if trained and fraction > 0 else None


def heldout_values(ws: Workspace, ref: str, base: Any, folder: Path) -> dict[str, str]:
    """Write the held-out documents of dataset `ref` to FOLDER/heldout.jsonl; the task values."""
    dataset, record = load_training_set(ws, ref, "text")
    fraction, seed = run_split(ws, base, record["fingerprint"]) or DEFAULT_SPLIT
    _, held = split(dataset, fraction, seed)
    if held is None:
        raise WinnowError(
            f"--perplexity {ref}: too few documents ({len(dataset)}) to hold any out."
        )
    path = folder / "heldout.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for text in held["text"]:
            handle.write(json.dumps({"text": text}) + "\n")
    (folder / "heldout.json").write_text(
        json.dumps({"dataset": record, "fraction": fraction, "seed": seed, "documents": len(held)}),
        encoding="utf-8",
    )
    return {"heldout_files": str(path.resolve()), "heldout_format": "json"}
