"""Supervised fine-tuning: TRL's SFTTrainer on prompt/completion conversations, with loss on
the answer tokens only, and a token-level preview of that mask before any step is taken.

TRL drops rows whose answer is cut off entirely by max_length without a word; here they are
counted (input rows minus prepared rows), reported and recorded, and a set with no trainable
token at all stops the job.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.text import Text

from winnow.console import console
from winnow.errors import WinnowError
from winnow.train.runner import Context, Prepared, build_trainer, train_loss

PREVIEW_TOKENS = 80
"""Tokens shown per previewed row, from the start."""


def mask_preview(tokenizer: Any, input_ids: list[int], labels: list[int]) -> Text:
    """A row's tokens, masked ones (label -100) dim, trained ones bold green."""
    text = Text()
    for token, label in zip(input_ids[:PREVIEW_TOKENS], labels[:PREVIEW_TOKENS], strict=True):
        piece = tokenizer.decode([token]).replace("\n", "\\n")
        text.append(f"{piece}|", style="dim" if label == -100 else "bold green")
    if len(input_ids) > PREVIEW_TOKENS:
        text.append(f" ... {len(input_ids) - PREVIEW_TOKENS} more tokens", style="italic")
    return text


SAMPLE_ROWS = 256
"""Rows whose length decides whether packing pays, when the job leaves it out."""


def packing_pays(ctx: Context) -> tuple[bool, str]:
    """Whether packing cuts padding: the median of the first rows, rendered with the chat
    template, is at most half of max_length (so a bin holds two rows or more); and why."""
    import statistics

    tokenizer, rows = ctx.tokenizer, ctx.dataset.select(range(min(SAMPLE_ROWS, len(ctx.dataset))))
    lengths = [
        len(
            tokenizer(
                tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False),
                add_special_tokens=False,
            )["input_ids"]
        )
        for row in rows
    ]
    median = statistics.median(lengths) if lengths else 0
    pays = 2 * median <= ctx.job.max_length
    verdict = "at most" if pays else "over"
    return pays, f"median of {len(lengths)} rows {median:g} tokens, {verdict} half of max_length"


def packing_mode(ctx: Context) -> str:
    """How rows are packed: not at all, into bins kept as rows, or TRL's padding-free row."""
    from winnow.train.packing import rows_packed

    if not ctx.job.packing:
        return "none"
    return "bins as rows" if rows_packed(ctx.model) else "padding-free"


def mask_counts(rows: int, prepared: Any, packing: bool) -> dict[str, int]:
    """Rows in and out, rows with no trainable token, and prompt/answer token totals."""
    labels = prepared["labels"]
    trained = sum(sum(1 for x in row if x != -100) for row in labels)
    total = sum(len(row) for row in labels)
    return {
        "rows": rows,
        "prepared_rows": len(prepared),
        "rows_without_trainable_tokens": 0 if packing else rows - len(prepared),
        "trainable_tokens": trained,
        "masked_tokens": total - trained,
    }


def prepare(ctx: Context) -> Prepared:
    """The trainer, the mask preview printed, the empty-mask check made."""
    from trl import SFTConfig, SFTTrainer

    from winnow.train.packing import RowPackedSFTTrainer

    job = ctx.job
    rule = "given"
    if job.packing is None:
        job.packing, rule = packing_pays(ctx)
    mode = packing_mode(ctx)
    trainer, train, held = build_trainer(
        ctx,
        RowPackedSFTTrainer if mode == "bins as rows" else SFTTrainer,
        SFTConfig,
        "CAUSAL_LM",
        packing=job.packing,
        completion_only_loss=True,
        eos_token=ctx.tokenizer.eos_token,
    )
    prepared = trainer.train_dataset
    counts = mask_counts(len(train), prepared, job.packing)
    if counts["trainable_tokens"] == 0:
        raise WinnowError(
            f"dataset {job.data}: no answer token is left to train on within max_length "
            f"{job.max_length} (all {len(train):,} rows are prompt only); raise --max-length or "
            "shorten the prompts."
        )
    if rule != "given":
        console.print(escape(f"packing {'on' if job.packing else 'off'}: {rule}"))
    console.print("[bold]loss mask preview[/] (dim: masked prompt/padding, green: trained)")
    for index in range(min(job.preview_rows, len(prepared))):
        row = prepared[index]
        ids, labels = list(row["input_ids"]), list(row["labels"])
        console.print(escape(f"row {index}:"), mask_preview(ctx.tokenizer, ids, labels))
    if counts["rows_without_trainable_tokens"]:
        console.print(
            f"[yellow]{counts['rows_without_trainable_tokens']:,} of {len(train):,} rows have no "
            f"answer token within max_length {job.max_length} and are left out[/]"
        )
    eval_rows = len(held) if held is not None else 0
    data = {**counts, "eval_rows": eval_rows, "packing": mode, "packing_rule": rule}
    return Prepared(trainer, data)


def finish(ctx: Context, trainer: Any) -> dict[str, Any]:
    """Final train loss, and eval loss when a split was held out."""
    results = train_loss(trainer)
    if trainer.eval_dataset is not None:
        results["eval_loss"] = trainer.evaluate()["eval_loss"]
    return results
