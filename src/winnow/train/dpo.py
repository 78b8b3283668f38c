"""DPO: TRL's DPOTrainer on chosen/rejected pairs, any loss TRL offers, LoRA optional.

With `reuse_ref_logps` (the default) the reference model's log-probs are computed once per
(prepared data, reference weights) and cached by TRL beside the converted dataset in
WINNOW_HOME/cache/train-data/, so later runs on the same data and base skip that pass. TRL
keys that cache on the prepared dataset's fingerprint, which also hashes the run's output
folder; the trainer here gives prepared data a fingerprint of what shapes its tokens only.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from winnow.devices import world_size
from winnow.errors import WinnowError
from winnow.train.defaults import planned_steps
from winnow.train.runner import (
    Context,
    Prepared,
    build_trainer,
    last_logged,
    train_loss,
    warn_unused,
)

SUMMARY_KEYS = ("rewards/accuracies", "rewards/margins", "rewards/chosen", "rewards/rejected")
"""DPO metrics copied from the last training log into the results."""


def loss_types() -> list[str]:
    """The loss names this TRL version's DPOConfig documents."""
    from trl import DPOConfig

    help_text = next(f for f in dataclasses.fields(DPOConfig) if f.name == "loss_type").metadata
    return re.findall(r"`'([a-z_]+)'`", help_text["help"])


def stable_trainer() -> type:
    """DPOTrainer whose prepared datasets are fingerprinted by data, tokenizer and length."""
    from datasets.fingerprint import Hasher
    from trl import DPOTrainer

    class StableDPOTrainer(DPOTrainer):
        """Prepared data named by what shapes it, so cached reference log-probs are found."""

        def _prepare_dataset(
            self, dataset: Any, processing_class: Any, args: Any, name: str
        ) -> Any:
            """TRL's preparation, then a fingerprint independent of the run's folder."""
            source = dataset._fingerprint
            prepared = super()._prepare_dataset(dataset, processing_class, args, name)
            parts = (source, Hasher.hash(processing_class), args.max_length, args.truncation_mode)
            prepared._fingerprint = Hasher.hash(parts)
            return prepared

    return StableDPOTrainer


def prepare(ctx: Context) -> Prepared:
    """The DPO trainer on the preference set (a held-out split when eval_fraction > 0)."""
    from trl import DPOConfig

    job = ctx.job
    known = loss_types()
    if job.loss_type not in known:
        raise WinnowError(f"loss_type '{job.loss_type}': use one of {', '.join(known)}.")
    steps = planned_steps(job, len(ctx.dataset), world_size())
    seen = steps * job.batch_size * job.grad_accum * world_size()
    precompute = job.reuse_ref_logps and seen >= len(ctx.dataset)
    trainer, train, held = build_trainer(
        ctx,
        stable_trainer(),
        DPOConfig,
        "CAUSAL_LM",
        beta=job.beta,
        loss_type=[job.loss_type],
        precompute_ref_log_probs=precompute,
    )
    data = {
        "pairs": len(train),
        "pairs_used": len(trainer.train_dataset),
        "eval_pairs": len(held) if held is not None else 0,
        "reference_log_probs": reference_mode(job.reuse_ref_logps, precompute, seen),
    }
    warn_unused(data["pairs"], data["pairs_used"], job.max_length)
    return Prepared(trainer, data)


def reference_mode(asked: bool, precompute: bool, seen: int) -> str:
    """How the reference log-probs were had: precomputing them for every pair pays only when
    the run sees every pair; a shorter run computes them live for the pairs it sees."""
    if precompute:
        return "precomputed, cached"
    return f"live (the run sees {seen:,} pairs, fewer than the set)" if asked else "live"


def finish(ctx: Context, trainer: Any) -> dict[str, Any]:
    """Train loss and the last logged rewards, plus eval metrics on the held-out pairs."""
    results = train_loss(trainer) | last_logged(trainer, SUMMARY_KEYS)
    if trainer.eval_dataset is not None:
        metrics = trainer.evaluate()
        results.update(
            {k: v for k, v in metrics.items() if k in ("eval_loss", "eval_rewards/accuracies")}
        )
    return results
