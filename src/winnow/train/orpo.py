"""ORPO (odds-ratio preference optimisation): TRL's ORPOTrainer (trl.experimental) on
chosen/rejected pairs, supervised loss and preference in one stage, no reference model."""

from __future__ import annotations

from typing import Any

from winnow.train.runner import (
    Context,
    Prepared,
    build_trainer,
    last_logged,
    train_loss,
    warn_unused,
)

SUMMARY_KEYS = ("rewards/accuracies", "rewards/margins", "nll_loss", "log_odds_ratio")
"""ORPO metrics copied from the last training log into the results."""


def prepare(ctx: Context) -> Prepared:
    """The ORPO trainer on the preference set (a held-out split when eval_fraction > 0)."""
    from trl.experimental.orpo import ORPOConfig, ORPOTrainer

    job = ctx.job
    trainer, train, held = build_trainer(ctx, ORPOTrainer, ORPOConfig, "CAUSAL_LM", beta=job.beta)
    data = {
        "pairs": len(train),
        "pairs_used": len(trainer.train_dataset),
        "eval_pairs": len(held) if held is not None else 0,
    }
    warn_unused(data["pairs"], data["pairs_used"], job.max_length)
    return Prepared(trainer, data)


def finish(ctx: Context, trainer: Any) -> dict[str, Any]:
    """Train loss and the last logged rewards, NLL and log odds ratio; eval loss if held out."""
    results = train_loss(trainer) | last_logged(trainer, SUMMARY_KEYS)
    if trainer.eval_dataset is not None:
        results["eval_loss"] = trainer.evaluate()["eval_loss"]
    return results
