"""Reward model: TRL's RewardTrainer (Bradley-Terry on chosen/rejected) over a one-score head,
with exact pairwise accuracy on a held-out split in the run's results and metrics."""

from __future__ import annotations

import json
from typing import Any

from winnow.errors import WinnowError
from winnow.train.runner import Context, Prepared, build_trainer, train_loss, warn_unused
from winnow.train.runs import now
from winnow.train.scoring import pairwise_accuracy


def prepare(ctx: Context) -> Prepared:
    """The reward trainer on the preference set, with eval_fraction of the pairs held out."""
    from trl import RewardConfig, RewardTrainer

    job = ctx.job
    trainer, train, held = build_trainer(ctx, RewardTrainer, RewardConfig, "SEQ_CLS")
    ctx.extra["held_out"] = held
    used = len(trainer.train_dataset)
    if not used:
        raise WinnowError(
            f"dataset {job.data}: every pair is longer than max_length {job.max_length} tokens "
            "and RewardTrainer would skip them all; raise --max-length."
        )
    data = {
        "pairs": len(train),
        "pairs_used": used,
        "pairs_over_max_length": len(train) - used,
        "eval_pairs": len(held) if held is not None else 0,
    }
    warn_unused(data["pairs"], data["pairs_used"], job.max_length)
    return Prepared(trainer, data)


def finish(ctx: Context, trainer: Any) -> dict[str, Any]:
    """Train loss, and pairwise accuracy on the held-out pairs (also logged as a metric)."""
    results: dict[str, Any] = train_loss(trainer)
    held = ctx.extra["held_out"]
    if held is not None:
        measured = pairwise_accuracy(trainer.model, ctx.tokenizer, held)
        results["eval_pairwise_accuracy"] = measured["accuracy"]
        row = {"step": trainer.state.global_step, "time": now(), **results}
        with ctx.run.metrics_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
    return results
