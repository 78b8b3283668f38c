"""What this machine trains and evaluates on: CUDA with bf16 when there is one, else the CPU,
and how many processes a launcher started. Training, its launcher and evaluation all read it."""

from __future__ import annotations

import os
from typing import Any


def world_size() -> int:
    """How many processes the launcher started (1 when run directly)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def device_info() -> dict[str, Any]:
    """CUDA with bf16 when available, else the CPU; and how many processes train."""
    import torch

    if torch.cuda.is_available():
        return {
            "type": "cuda",
            "name": torch.cuda.get_device_name(0),
            "count": torch.cuda.device_count(),
            "bf16": torch.cuda.is_bf16_supported(),
            "processes": world_size(),
        }
    return {"type": "cpu", "name": "cpu", "count": 1, "bf16": False, "processes": world_size()}


def cuda_gpus() -> int:
    """How many CUDA GPUs this machine has (0 without CUDA)."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def bf16_supported() -> bool:
    """Whether the GPUs do bf16, as device_info decides it for the trainer."""
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def peak_gpu_memory() -> dict[str, float]:
    """The most GPU memory this process's tensors held, in GiB (nothing without CUDA)."""
    import torch

    if not torch.cuda.is_available():
        return {}
    return {"peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 1024**3, 3)}
