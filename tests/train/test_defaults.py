"""The settings a job leaves out: learning rate, LoRA rank, gradient checkpointing and the
steps a run by epochs plans, by method, adapters, model size and device."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from winnow.train.defaults import gradient_checkpointing, learning_rate, lora_rank, planned_steps

CPU = {"type": "cpu"}
GPU = {"type": "cuda"}


@pytest.mark.parametrize(
    ("method", "lora", "parameters", "rate"),
    [
        ("pretrain", "none", 1_000_000, 5e-4),
        ("sft", "none", 135_000_000, 5e-5),
        ("sft", "none", 7_000_000_000, 2e-5),
        ("sft", "none", 70_000_000_000, 1e-5),
        ("sft", "lora", 7_000_000_000, 2e-4),
        ("sft", "qlora", 70_000_000_000, 1e-4),
        ("dpo", "none", 1_000_000, 5e-5),
        ("dpo", "none", 360_000_000, 1e-6),
        ("kto", "none", 7_000_000_000, 5e-7),
        ("dpo", "lora", 7_000_000_000, 5e-6),
        ("orpo", "none", 7_000_000_000, 8e-6),
        ("reward", "none", 135_000_000, 5e-5),
    ],
)
def test_learning_rate_by_method_adapters_and_size(
    method: str, lora: str, parameters: int, rate: float
) -> None:
    chosen, rule = learning_rate(method, lora, parameters)
    assert chosen == rate and rule


def test_lora_rank_checkpointing_and_planned_steps() -> None:
    assert [lora_rank(n) for n in (1e6, 7e9, 7e10)] == [8, 16, 64]
    assert not gradient_checkpointing("qlora", 7_000_000_000, CPU)
    assert gradient_checkpointing("qlora", 135_000_000, GPU)
    assert gradient_checkpointing("none", 1_000_000_000, GPU)
    assert not gradient_checkpointing("lora", 135_000_000, GPU)
    job = SimpleNamespace(max_steps=None, epochs=2.0, batch_size=8, grad_accum=2)
    assert planned_steps(job, 1_000, 1) == 2 * 63
    assert planned_steps(job, 1_000, 2) == 2 * 32
    assert planned_steps(SimpleNamespace(**{**vars(job), "max_steps": 7}), 1_000, 1) == 7
    half = SimpleNamespace(**{**vars(job), "epochs": 0.5, "grad_accum": 1})
    assert planned_steps(half, 10, 1) == 1
