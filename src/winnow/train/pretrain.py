"""Pretraining (or continued pretraining): the causal-LM objective on a text dataset, packed
into max_length blocks, with a held-out split for eval loss and perplexity."""

from __future__ import annotations

from typing import Any

from winnow.train.runner import Context, Prepared, build_trainer, train_loss
from winnow.train.runs import perplexity


def prepare(ctx: Context) -> Prepared:
    """TRL's SFTTrainer on `text`, wrapped packing (documents joined by EOS), no masking."""
    from trl import SFTConfig, SFTTrainer

    job = ctx.job
    trainer, train, held = build_trainer(
        ctx,
        SFTTrainer,
        SFTConfig,
        "CAUSAL_LM",
        dataset_text_field="text",
        packing=True,
        packing_strategy="wrapped",
        completion_only_loss=False,
    )
    blocks = trainer.train_dataset
    data = {
        "train_documents": len(train),
        "eval_documents": len(held) if held is not None else 0,
        "train_blocks": len(blocks),
        "train_tokens": sum(len(ids) for ids in blocks["input_ids"]),
        "block_tokens": job.max_length,
    }
    return Prepared(trainer, data)


def finish(ctx: Context, trainer: Any) -> dict[str, Any]:
    """Final train loss, and eval loss with perplexity on the held-out documents."""
    results = train_loss(trainer)
    if trainer.eval_dataset is not None:
        loss = trainer.evaluate()["eval_loss"]
        results.update(eval_loss=loss, eval_perplexity=perplexity(loss))
    return results
