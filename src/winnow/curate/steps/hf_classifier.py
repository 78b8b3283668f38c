"""Scores from any Hugging Face sequence-classification model (e.g. FineWeb-Edu's classifier).

The model and tokenizer load once per process from a local folder or, online, a hub id; rows
are scored in batches under `torch.inference_mode`, on CUDA when there is one (`device:
auto`). A regression head (one output, as FineWeb-Edu's educational-value scorer) gives its
raw output; a classifier gives the probability of `label` (default: the second of two labels,
else the predicted label, which then goes to `<column>_label`). Columns: `<column>` (default
`hf_score`) and, with `int_score`, `<column>_int` (rounded and clipped to 0-5, FineWeb-Edu's
convention). With a `threshold`, rows scoring below it are dropped as `below_threshold`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar

import numpy as np
import polars as pl

from winnow.curate.steps.base import Step, bounds, register
from winnow.errors import WinnowError


@cache
def load(model: str, device: str) -> tuple[Any, Any, str]:
    """Tokenizer, model on its device, and the device, loaded once per process."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    where = "cuda" if device == "auto" and torch.cuda.is_available() else device
    where = "cpu" if where == "auto" else where
    if where == "cuda" and not torch.cuda.is_available():
        raise WinnowError(
            "step hf_classifier: device 'cuda' was asked for but torch sees no CUDA GPU; use "
            "device: auto (CUDA when there is one, else CPU) or device: cpu."
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
        network = AutoModelForSequenceClassification.from_pretrained(model)
    except OSError as exc:
        raise WinnowError(
            f"step hf_classifier: cannot load model '{model}' ({str(exc).splitlines()[0]}); "
            "give a local folder with the model and tokenizer, or download the hub id once "
            "while online."
        ) from exc
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    if network.config.pad_token_id is None:
        network.config.pad_token_id = tokenizer.pad_token_id
    return tokenizer, network.to(where).eval(), where


@register
@dataclass
class HfClassifier(Step):
    """Score rows with a Hugging Face sequence classifier; optionally drop low scores."""

    name: ClassVar[str] = "hf_classifier"
    model: str = ""
    label: str | None = None
    threshold: float | None = field(default=None, metadata=bounds(None, None))  # raw outputs
    column: str = "hf_score"
    int_score: bool = False
    batch_size: int = 32
    max_length: int = 512
    device: str = "auto"

    def __post_init__(self) -> None:
        """Check the parameters before any shard is read."""
        where = "step hf_classifier"
        if not self.model:
            raise WinnowError(f"{where}: 'model' is required (a local folder or a hub id).")
        if self.device not in ("auto", "cpu", "cuda"):
            raise WinnowError(f"{where}: device must be auto, cpu or cuda.")
        if self.batch_size < 1 or self.max_length < 1:
            raise WinnowError(f"{where}: batch_size and max_length must be at least 1.")

    def _score_index(self, network: Any) -> int | None:
        """Which output is the score: None for the predicted label, else an index."""
        labels = network.config.num_labels
        if self.label is not None:
            index = network.config.label2id.get(self.label)
            if index is None:
                names = network.config.id2label
                known = ", ".join(names[i] for i in sorted(names))
                raise WinnowError(
                    f"step hf_classifier: model '{self.model}' has no label '{self.label}'; "
                    f"its labels are: {known}."
                )
            return int(index)
        return 0 if labels == 1 else (1 if labels == 2 else None)

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Score the shard in batches of `batch_size` texts, truncated to `max_length` tokens;
        texts go in length order (less padding, same scores) and the scores back in row order."""
        import torch

        tokenizer, network, device = load(self.model, self.device)
        index = self._score_index(network)
        column = df["text"].fill_null("")
        order = column.str.len_bytes().arg_sort().to_numpy()
        texts = column.gather(order).to_list()
        scores, predicted = np.zeros(len(texts)), np.zeros(len(texts), dtype=np.int64)
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = tokenizer(
                    texts[start : start + self.batch_size],
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                ).to(device)
                logits = network(**batch).logits.float()
                end = start + len(logits)
                if network.config.num_labels == 1:
                    scores[start:end] = logits[:, 0].cpu().numpy()
                    continue
                probs = torch.softmax(logits, dim=-1)
                predicted[start:end] = probs.argmax(dim=-1).cpu().numpy()
                chosen = probs[:, index] if index is not None else probs.max(dim=-1).values
                scores[start:end] = chosen.cpu().numpy()
        scores[order], predicted[order] = scores.copy(), predicted.copy()
        columns = [pl.Series(self.column, scores, dtype=pl.Float64)]
        if index is None:
            names = network.config.id2label
            columns.append(pl.Series(f"{self.column}_label", [names[i] for i in predicted]))
        if self.int_score:
            rounded = np.clip(np.round(scores), 0, 5).astype(np.int64)
            columns.append(pl.Series(f"{self.column}_int", rounded))
        return df.with_columns(columns)

    def reason(self) -> pl.Expr:
        """Drop rows below the threshold, when one is set."""
        if self.threshold is None:
            return pl.lit(None, dtype=pl.Utf8)
        low = pl.col(self.column) < self.threshold
        return pl.when(low).then(pl.lit("below_threshold")).otherwise(pl.lit(None, dtype=pl.Utf8))
