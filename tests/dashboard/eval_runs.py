"""Eval and training runs planted as files, as `winnow evaluate` and `winnow train` write them
(run.json, scores.parquet, samples/TASK.jsonl, lm-eval's own samples file, metrics.jsonl),
for the Evals page tests: no model runs."""

from __future__ import annotations

import json
import math
from importlib import metadata
from pathlib import Path

import numpy as np
import polars as pl

from winnow.evals.scores import SCHEMA

TASK = "arc_easy"

QUESTIONS = [
    ("Which city is the capital of France?", ["Paris", "Lyon", "Marseille"], 0),
    ("Which gas do plants take in for photosynthesis?", ["oxygen", "carbon dioxide", "helium"], 1),
    ("Which planet is closest to the Sun?", ["Venus", "Mars", "Mercury"], 2),
    ("How many legs does a spider have?", ["six", "eight", "ten"], 1),
] * 5
"""(question, choices, index of the right choice) of each planted document."""


def plant_eval(root: Path, name: str, right: list[bool], created_at: str) -> Path:
    """An eval run of TASK on len(right) documents: right[i] says whether the model chose the
    right answer of document i (else the next choice)."""
    folder = root / "runs" / name
    (folder / "samples").mkdir(parents=True)
    (folder / "lm_eval" / "model").mkdir(parents=True)
    ours, theirs = [], []
    for i, ok in enumerate(right):
        question, choices, gold = QUESTIONS[i % len(QUESTIONS)]
        picked = gold if ok else (gold + 1) % len(choices)
        scores = [-5.0 - j for j in range(len(choices))]
        scores[picked] = -1.0
        doc_hash = f"hash-{i}"
        ours.append(
            {
                "doc_id": i,
                "doc_hash": doc_hash,
                "target": gold,
                "filter": "none",
                "metrics": {"acc": float(ok)},
                "filtered_resps": [[s, False] for s in scores],
            }
        )
        arguments = {
            f"gen_args_{j}": {"arg_0": f"Question: {question}\nAnswer:", "arg_1": f" {c}"}
            for j, c in enumerate(choices)
        }
        theirs.append(
            {
                "doc_id": i,
                "doc": {"question": question, "choices": choices, "gold": gold},
                "target": str(gold),
                "arguments": arguments,
                "filtered_resps": [[str(s), "False"] for s in scores],
                "filter": "none",
                "metrics": ["acc"],
                "doc_hash": doc_hash,
                "acc": float(ok),
            }
        )
    lines = "".join(json.dumps(r) + "\n" for r in ours)
    (folder / "samples" / f"{TASK}.jsonl").write_text(lines)
    lines = "".join(json.dumps(r) + "\n" for r in theirs)
    (folder / "lm_eval" / "model" / f"samples_{TASK}_2026-01-01T00-00-00.jsonl").write_text(lines)
    write_scores(folder, name, right)
    record = {
        "name": name,
        "method": "evaluate",
        "status": "completed",
        "created_at": created_at,
        "settings": {"limit": None, "num_fewshot": None, "apply_chat_template": False},
        "model": {"chat_template_hash": "same", "path": f"models/{name}", "kind": "local"},
        "versions": {"lm_eval": metadata.version("lm_eval")},
        "tasks": {TASK: {"version": 1.0, "num_fewshot": 0, "config_hash": "c"}},
    }
    (folder / "run.json").write_text(json.dumps(record))
    return folder


def write_scores(folder: Path, name: str, right: list[bool]) -> None:
    """scores.parquet: the mean accuracy and its standard error."""
    values = np.array(right, dtype=float)
    row = {
        "run": name,
        "task": TASK,
        "alias": TASK,
        "is_group": False,
        "metric": "acc",
        "filter": "none",
        "value": float(values.mean()),
        "stderr": float(values.std(ddof=1) / math.sqrt(len(values))),
        "samples": len(values),
        "higher_is_better": True,
        "contaminated": False,
    }
    pl.DataFrame([row], schema=SCHEMA).write_parquet(folder / "scores.parquet")


def plant_training(root: Path, name: str) -> Path:
    """A finished training run that logged its training loss every step and eval loss every
    other step."""
    folder = root / "runs" / name
    folder.mkdir(parents=True)
    record = {"name": name, "method": "sft", "status": "completed", "created_at": "2026-01-01"}
    (folder / "run.json").write_text(json.dumps(record))
    rows = [
        {"step": s, "loss": 3.0 / s} | ({"eval_loss": 0.5 + 1.0 / s} if s % 2 == 0 else {})
        for s in range(1, 7)
    ]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def plant_all(root: Path) -> None:
    """Three eval runs (base; tuned: 10 documents gained, 1 lost; again: as tuned) and one
    training run."""
    base = [i % 2 == 0 for i in range(20)]
    tuned = [True] * 18 + [False, True]
    plant_eval(root, "base", base, "2026-01-01T00:00:00")
    plant_eval(root, "tuned", tuned, "2026-01-02T00:00:00")
    plant_eval(root, "again", tuned, "2026-01-03T00:00:00")
    plant_training(root, "sft-a")
