"""Pretraining (or continued pretraining): the causal-LM objective on a text dataset. The
text is tokenized once into packed token shards (cached per dataset and tokenizer, in
parallel with --workers) and streamed as max_length blocks; a held-out share of the
documents gives eval loss and perplexity."""

from __future__ import annotations

from time import perf_counter
from typing import Any

from winnow.console import console
from winnow.errors import WinnowError
from winnow.train.blocks import split_blocks
from winnow.train.ranks import main_first
from winnow.train.runner import Context, Prepared, train_loss, trainer_args
from winnow.train.runs import perplexity
from winnow.train.token_shards import ShardSet, build_shards


def token_shards(ctx: Context) -> tuple[ShardSet, dict[str, Any]]:
    """The dataset's token shards (tokenized now unless cached), with a progress bar, and
    what run.json records about them."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    started = perf_counter()
    files = len(list((ctx.dataset.path / "kept").glob("*.parquet")))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} files"),
        TimeElapsedColumn(),
    )
    with main_first(), Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("tokenizing", total=files)
        shards, reused = build_shards(
            ctx.ws, ctx.dataset, ctx.tokenizer, ctx.job.workers, lambda _: progress.advance(task)
        )
    record = {
        "path": str(shards.folder),
        "reused": reused,
        "documents": shards.documents,
        "tokens": shards.tokens,
        "dtype": shards.dtype,
        "seconds": round(perf_counter() - started, 2),
    }
    return shards, record


def prepare(ctx: Context) -> Prepared:
    """transformers' Trainer on blocks streamed from the token shards (documents joined by
    EOS, no masking)."""
    from transformers import Trainer, TrainingArguments, default_data_collator

    job = ctx.job
    shards, record = token_shards(ctx)
    train, held = split_blocks(shards, job.max_length, job.eval_fraction, job.seed, job.max_rows)
    if not len(train):
        raise WinnowError(
            f"dataset {ctx.dataset.ref}: {train.tokens:,} training tokens, fewer than one block "
            f"of max_length {job.max_length}; lower --max-length or give more text."
        )
    held = held if held is not None and len(held) else None
    trainer = Trainer(
        model=ctx.model,
        args=TrainingArguments(**trainer_args(job, ctx.run, held is not None)),
        train_dataset=train,
        eval_dataset=held,
        data_collator=default_data_collator,
        processing_class=ctx.tokenizer,
    )
    data = {
        "train_documents": train.documents,
        "eval_documents": held.documents if held is not None else 0,
        "train_blocks": len(train),
        "train_tokens": len(train) * job.max_length,
        "eval_blocks": len(held) if held is not None else 0,
        "eval_blocks_held_out": held.blocks if held is not None else 0,
        "block_tokens": job.max_length,
        "token_shards": record,
    }
    return Prepared(trainer, data)


def finish(ctx: Context, trainer: Any) -> dict[str, Any]:
    """Final train loss, and eval loss with perplexity on the held-out documents."""
    results = train_loss(trainer)
    if trainer.eval_dataset is not None:
        loss = trainer.evaluate()["eval_loss"]
        results.update(eval_loss=loss, eval_perplexity=perplexity(loss))
    return results
