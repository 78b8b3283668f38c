"""KTO (Kahneman-Tversky optimisation): TRL's KTOTrainer on answers labelled desirable or
undesirable, the unpaired rows `winnow curate preference` imports; chosen/rejected pairs
count as one desirable and one undesirable answer each. LoRA optional."""

from __future__ import annotations

from typing import Any

from winnow.console import console
from winnow.train.runner import Context, Prepared, build_trainer, last_logged, train_loss

SUMMARY_KEYS = ("rewards/margins", "rewards/chosen", "rewards/rejected", "kl")
"""KTO metrics copied from the last training log into the results."""

BALANCE = (1.0, 4 / 3)
"""The KTO paper's range for desirable weight x desirable rows over undesirable weight x
undesirable rows."""


def balance(job: Any, desirable: int, undesirable: int) -> float | None:
    """The weighted desirable-to-undesirable ratio, said aloud when outside the paper's range."""
    if not desirable or not undesirable:
        console.print(
            f"[yellow]{desirable:,} desirable and {undesirable:,} undesirable answers: KTO "
            "learns from both kinds; add the missing one[/]"
        )
        return None
    ratio = job.desirable_weight * desirable / (job.undesirable_weight * undesirable)
    if not BALANCE[0] <= ratio <= BALANCE[1]:
        console.print(
            f"[yellow]desirable weight x {desirable:,} / (undesirable weight x {undesirable:,}) "
            f"= {ratio:.2f}, outside the KTO paper's [1, 1.33]; set desirable_weight or "
            "undesirable_weight with --set[/]"
        )
    return ratio


def prepare(ctx: Context) -> Prepared:
    """The KTO trainer on the labelled answers, shuffled by the seed (KTO reads its batches in
    order, as its KL estimate pairs each answer with a neighbour's prompt)."""
    from trl import KTOConfig, KTOTrainer

    job = ctx.job
    ctx.dataset = ctx.dataset.shuffle(seed=job.seed)
    trainer, train, held = build_trainer(
        ctx,
        KTOTrainer,
        KTOConfig,
        "CAUSAL_LM",
        beta=job.beta,
        desirable_weight=job.desirable_weight,
        undesirable_weight=job.undesirable_weight,
    )
    desirable = sum(train["label"])
    data = {
        "rows": len(train),
        "desirable": desirable,
        "undesirable": len(train) - desirable,
        "weighted_ratio": balance(job, desirable, len(train) - desirable),
        "eval_rows": len(held) if held is not None else 0,
    }
    return Prepared(trainer, data)


def finish(ctx: Context, trainer: Any) -> dict[str, Any]:
    """Train loss and the last logged rewards and KL, plus eval metrics on held-out rows."""
    results = train_loss(trainer) | last_logged(trainer, SUMMARY_KEYS)
    if trainer.eval_dataset is not None:
        metrics = trainer.evaluate()
        results.update({k: v for k, v in metrics.items() if k in ("eval_loss", "eval_kl")})
    return results
