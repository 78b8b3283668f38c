"""Reward-model scores of conversations, batched, for held-out accuracy and best-of-n."""

from __future__ import annotations

from typing import Any

SCORE_BATCH = 16
"""Conversations scored per forward pass."""


def score(model: Any, tokenizer: Any, conversations: list[list[dict[str, str]]]) -> list[float]:
    """The reward model's scalar for each conversation, rendered with the chat template."""
    import torch

    texts = [tokenizer.apply_chat_template(c, tokenize=False) for c in conversations]
    device = next(model.parameters()).device
    scores: list[float] = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(texts), SCORE_BATCH):
            batch = tokenizer(
                texts[start : start + SCORE_BATCH],
                return_tensors="pt",
                padding=True,
                truncation=True,
                add_special_tokens=False,
            ).to(device)
            logits = model(**batch).logits[:, 0]
            scores.extend(float(x) for x in logits.float().cpu())
    return scores


def pairwise_accuracy(model: Any, tokenizer: Any, pairs: Any) -> dict[str, float | int]:
    """Share of pairs whose chosen conversation outscores the rejected one."""
    chosen = [row["prompt"] + row["chosen"] for row in pairs]
    rejected = [row["prompt"] + row["rejected"] for row in pairs]
    better = score(model, tokenizer, chosen)
    worse = score(model, tokenizer, rejected)
    wins = sum(b > w for b, w in zip(better, worse, strict=True))
    return {"pairs": len(chosen), "accuracy": wins / len(chosen) if chosen else 0.0}
