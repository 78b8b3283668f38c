"""SFT packing that pays off without flash attention: best-fit bins kept as rows of a batch.

TRL packs rows into max_length bins (best-fit decreasing) and then flattens a whole batch into
one padding-free row. That is what varlen kernels (flash attention) want; with sdpa or eager
attention, the usual case on a CPU, one 8x256-token row costs far more than eight 256-token
rows. Here each bin stays a row: position ids restart at every packed sequence and no attention
mask is passed, so transformers masks each sequence off from its neighbours row by row, and the
batch is dense with real tokens instead of padding.
"""

from __future__ import annotations

from typing import Any

from trl import SFTTrainer
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

VARLEN_ATTENTION = ("flash_attention_2", "flash_attention_3")
"""Attention implementations that take TRL's flattened padding-free batch as it is."""


def rows_packed(model: Any) -> bool:
    """Whether packed bins should stay rows: the model's attention has no varlen kernel."""
    return model.config._attn_implementation not in VARLEN_ATTENTION


class RowPackedCollator(DataCollatorForLanguageModeling):
    """Bins padded to a batch, per-sequence position ids, no attention mask, and the count of
    real (non-padding) tokens under `packed_tokens` for the trainer's token count."""

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        """TRL's padded batch with position ids, its attention mask turned into a count."""
        batch = super().torch_call(examples)
        batch["packed_tokens"] = batch.pop("attention_mask").sum()
        return batch


class RowPackedSFTTrainer(SFTTrainer):
    """SFTTrainer with TRL's packed dataset and the row-packed collator; `num_tokens` counts
    real tokens (TRL counts one row's length when no attention mask is passed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.data_collator = RowPackedCollator(
            pad_token_id=self._tokenizer.pad_token_id,
            return_position_ids=True,
            pad_to_multiple_of=self.args.pad_to_multiple_of,
        )

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        """TRL's loss on the batch, then the running token count set from the real tokens."""
        real = inputs.pop("packed_tokens")
        before = self._total_train_tokens
        result = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        if self.model.training:
            self._total_train_tokens = before + int(
                self.accelerator.gather_for_metrics(real).sum().item()
            )
            self._metrics["train"]["num_tokens"] = [self._total_train_tokens]
        return result
