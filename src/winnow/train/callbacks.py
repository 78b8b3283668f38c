"""The trainer callback that writes a run's metrics.jsonl; it subclasses transformers'
TrainerCallback, so it lives apart from runs.py, which the command line and the dashboard
import without loading transformers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from winnow.console import console
from winnow.train.runs import now, perplexity

SHOWN = (
    "loss",
    "eval_loss",
    "learning_rate",
    "grad_norm",
    "rewards/accuracies",
    "rewards/margins",
    "accuracy",
    "eval_accuracy",
    "train_loss",
)
"""Logged values echoed to the terminal; metrics.jsonl keeps them all."""


class MetricsLog(TrainerCallback):
    """Appends every trainer log (loss, learning rate, grad norm, DPO rewards...) as a line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        """One JSON line per log call, with the step, epoch and time (from rank 0 only)."""
        if not logs or not state.is_world_process_zero:
            return
        row = {"step": state.global_step, "epoch": state.epoch, "time": now(), **logs}
        if "eval_loss" in logs:
            row["eval_perplexity"] = perplexity(logs["eval_loss"])
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, default=float) + "\n")
        shown = [f"{k} {v:.4g}" for k, v in logs.items() if k in SHOWN and isinstance(v, float)]
        if shown:
            console.print(f"step {state.global_step}/{state.max_steps}  " + "  ".join(shown))
