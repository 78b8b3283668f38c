"""What the machine can run: FSDP and DeepSpeed need CUDA GPUs (DeepSpeed also its package),
and each process takes one GPU; checked before any process starts."""

from __future__ import annotations

import importlib.util

from winnow.errors import WinnowError

GPU_STRATEGIES = {"FSDP": "fsdp", "DEEPSPEED": "deepspeed"}
"""accelerate distributed types that need CUDA GPUs, and their --strategy names."""


def deepspeed_installed() -> bool:
    """Whether the deepspeed package can be imported."""
    return importlib.util.find_spec("deepspeed") is not None


def check_strategy(strategy: str, gpus: int, what: str) -> None:
    """FSDP and DeepSpeed need CUDA GPUs, DeepSpeed also its package: one sentence naming what
    is missing, before any process starts."""
    if strategy == "deepspeed" and not deepspeed_installed():
        if gpus == 0:
            raise WinnowError(
                f"{what} needs the deepspeed package (pip install deepspeed) and a CUDA GPU; "
                "use --strategy ddp on the CPU."
            )
        raise WinnowError(
            f"{what} needs the deepspeed package; pip install deepspeed, or use --strategy fsdp."
        )
    if strategy == "deepspeed" and gpus == 0:
        raise WinnowError(
            f"{what} needs a CUDA GPU and this machine has none; use --strategy ddp on the CPU."
        )
    if strategy == "fsdp" and gpus == 0:
        raise WinnowError(
            f"{what} needs CUDA GPUs and this machine has none; use --strategy ddp on the CPU."
        )


def check_processes(processes: int, gpus: int) -> None:
    """On GPUs each process takes one: refuse more processes than GPUs."""
    if gpus and processes > gpus:
        raise WinnowError(
            f"--num-processes {processes}: this machine has {gpus} CUDA GPU(s) and each process "
            f"takes one; give at most {gpus}."
        )
