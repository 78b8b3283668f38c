"""Settings a practitioner would pick when the job leaves them out: the learning rate by
method, adapters and model size, and gradient checkpointing where memory is what limits.

The learning rates follow published recipes: LoRA and QLoRA at 2e-4 (1e-4 from 20B
parameters), as the QLoRA paper trains; full fine-tuning at 2e-5 for 1-10B models (Alpaca,
Zephyr's SFT), 1e-5 above, 5e-5 below 1B; DPO and KTO at 5e-7 for
full fine-tuning of 1B+ models (Zephyr's DPO), 1e-6 below 1B (TRL's default), 5e-6 with
adapters; ORPO, which has no reference model, at 8e-6 (its paper's rate for Mistral-7B);
and a small model trained from scratch or nearly (under 50M parameters) at 5e-4 (5e-5 for
preference methods), where the larger steps are what make it learn in few steps.
"""

from __future__ import annotations

import math
from typing import Any

PREFERENCE = ("dpo", "kto")
"""Methods whose loss compares answers against a reference; they take far smaller steps."""

SMALL = 50_000_000
"""Below this many parameters a model is small enough for from-scratch learning rates."""

BILLION = 1_000_000_000

CHECKPOINT_FROM = BILLION
"""Parameters from which full fine-tuning on a GPU recomputes activations to save memory."""

LR_HELP = (
    "Peak learning rate; left out, picked by method and size: full fine-tuning 5e-4 under 50M "
    "parameters, 5e-5 under 1B, 2e-5 to 10B, 1e-5 above; LoRA/QLoRA 2e-4 (1e-4 from 20B); "
    "DPO/KTO 5e-5 under 50M, 1e-6 under 1B, 5e-7 above, 5e-6 with LoRA; ORPO 5e-5 under "
    "50M, else 8e-6."
)


def learning_rate(method: str, lora: str, parameters: int) -> tuple[float, str]:
    """The default peak learning rate for a job, and the rule that chose it."""
    size = f"{parameters / 1e6:,.1f}M parameters"
    if method == "orpo":
        if parameters < SMALL:
            return 5e-5, f"orpo, small model ({size})"
        return 8e-6, f"orpo on {size} (the ORPO paper's rate)"
    if method in PREFERENCE:
        if parameters < SMALL:
            return 5e-5, f"{method}, small model ({size})"
        if lora != "none":
            return 5e-6, f"{method} with {lora} adapters"
        rate = 1e-6 if parameters < BILLION else 5e-7
        return rate, f"{method}, full fine-tuning of {size}"
    if lora != "none":
        rate = 2e-4 if parameters < 20 * BILLION else 1e-4
        return rate, f"{lora} adapters on {size}"
    if parameters < SMALL:
        return 5e-4, f"small model ({size})"
    if parameters < BILLION:
        return 5e-5, f"full fine-tuning of {size}"
    rate = 2e-5 if parameters < 10 * BILLION else 1e-5
    return rate, f"full fine-tuning of {size}"


def lora_rank(parameters: int) -> int:
    """The default LoRA rank by model size: 8 under 1B parameters, 16 under 10B, 64 above."""
    if parameters < BILLION:
        return 8
    return 16 if parameters < 10 * BILLION else 64


def gradient_checkpointing(lora: str, parameters: int, device: dict[str, Any]) -> bool:
    """On a GPU for QLoRA (as its paper runs) and for models of 1B+ parameters, where
    activations, not compute, limit the batch; off on the CPU, where memory is plentiful and
    recomputing costs a third more time."""
    if device["type"] != "cuda":
        return False
    return lora == "qlora" or parameters >= CHECKPOINT_FROM


def planned_steps(job: Any, rows: int, processes: int) -> int:
    """Optimizer steps the trainer will take: max_steps when given, else epochs over `rows`
    training rows (or blocks) as transformers' Trainer counts them."""
    if job.max_steps:
        return int(job.max_steps)
    batches = math.ceil(rows / (job.batch_size * processes))
    return max(1, math.ceil(job.epochs * max(1, math.ceil(batches / job.grad_accum))))
