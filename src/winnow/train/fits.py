"""Whether a job's base fits the device, checked before any weight is loaded, and whether its
tokenizer fits its embeddings once loaded: each a line instead of an out-of-memory kill or a
CUDA index error minutes later.

The estimate counts the parameters of the base's architecture on the meta device (no memory)
and multiplies by what training keeps per parameter: full fine-tuning 16 bytes (fp32 weights,
gradients and AdamW's two moments), LoRA the frozen weights in their load dtype, QLoRA half
a byte (4-bit) plus a tenth for quantization constants; DPO and KTO without adapters hold a
second copy of the weights as the reference. Activations come on top, so a job the estimate
passes can still run out of memory at a large batch size.
"""

from __future__ import annotations

from typing import Any

from winnow.errors import WinnowError
from winnow.train.models import Base

GIB = 1024**3
WITH_REFERENCE = ("dpo", "kto")
"""Methods that keep a reference copy of the weights when trained without adapters."""


def parameters(base: Base) -> int | None:
    """The base's parameter count from its config alone, or None when it cannot be built."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        config = AutoConfig.from_pretrained(base.path, **base.load_args())
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
    except Exception:  # noqa: BLE001 - an architecture this cannot size is loaded unchecked
        return None
    return sum(p.numel() for p in model.parameters())


def bytes_per_parameter(method: str, lora: str, device: dict[str, Any]) -> tuple[float, str]:
    """What training keeps per parameter, and what that is."""
    half = device["type"] == "cuda"
    if lora == "qlora":
        return 0.55, "4-bit weights"
    if lora == "lora":
        return (2.0, "16-bit frozen weights") if half else (4.0, "fp32 frozen weights")
    if method in WITH_REFERENCE:
        return 16.0 + (2.0 if half else 4.0), "weights, gradients, AdamW moments and a reference"
    return 16.0, "fp32 weights, gradients and AdamW's two moments"


def available(device: dict[str, Any]) -> tuple[float, str]:
    """Memory one training process may use: a GPU's total, or the machine's free RAM."""
    if device["type"] == "cuda":
        import torch

        return torch.cuda.mem_get_info()[1] / GIB, f"GPU ({device['name']}) has"
    import psutil

    return psutil.virtual_memory().available / GIB, "machine has free"


def check_fits(method: str, lora: str, base: Base, device: dict[str, Any]) -> None:
    """One line when the base cannot fit for this method, before anything is loaded."""
    if base.kind == "tiny":
        return
    count = parameters(base)
    if count is None:
        return
    per, what = bytes_per_parameter(method, lora, device)
    need = count * per * 1.1 / GIB
    have, where = available(device)
    if need > have:
        hint = "use --lora lora or --lora qlora (on a GPU), " if lora == "none" else ""
        raise WinnowError(
            f"--base {base.ref}: {count / 1e9:.2f}B parameters need about {need:,.1f} GiB to "
            f"train ({per:g} bytes a parameter: {what}, before activations) and this {where} "
            f"{have:,.1f} GiB; {hint}pick a smaller base or a larger machine."
        )


def check_vocabulary(tokenizer: Any, model: Any, base: Base) -> None:
    """One line when the tokenizer makes ids the model has no embedding for."""
    rows = model.get_input_embeddings().num_embeddings
    if len(tokenizer) > rows:
        raise WinnowError(
            f"--base {base.ref}: its tokenizer has {len(tokenizer):,} tokens but the model's "
            f"embeddings have {rows:,} rows, so some ids have no embedding; give the tokenizer "
            "that was saved with this model."
        )
