"""accelerate configs: one written for a strategy and this machine, as `accelerate config`
writes it (DDP, FSDP2 or DeepSpeed ZeRO-2), or the user's own, read as accelerate reads it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from winnow.errors import WinnowError
from winnow.workspace import Workspace

HEADER = (
    "# accelerate config written by winnow train --launcher accelerate ({what}).\n"
    "# Use it as is with: winnow train METHOD ... --launcher accelerate --accelerate-config FILE\n"
)
"""First lines of a generated config, so a copy found later says where it came from."""

CPU_NOTE = (
    "# On the CPU, distributed_type MULTI_GPU with use_cpu: true is how accelerate launch starts\n"
    "# N processes (torchrun, gloo); MULTI_CPU starts one unless mpirun is configured.\n"
)
"""Why a CPU config with several processes says MULTI_GPU."""


def distributed_type(strategy: str, processes: int) -> str:
    """accelerate's distributed_type for a strategy (DDP in one process is plain NO)."""
    if strategy == "fsdp":
        return "FSDP"
    if strategy == "deepspeed":
        return "DEEPSPEED"
    return "MULTI_GPU" if processes > 1 else "NO"


def fsdp_config(layers: str | None) -> dict[str, Any]:
    """FSDP2, full shard, each decoder layer (e.g. LlamaDecoderLayer) wrapped on its own, a full
    state dict saved: right for small models that fit on each GPU while training."""
    config: dict[str, Any] = {
        "fsdp_activation_checkpointing": False,
        "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
        "fsdp_cpu_ram_efficient_loading": False,
        "fsdp_offload_params": False,
        "fsdp_reshard_after_forward": True,
        "fsdp_state_dict_type": "FULL_STATE_DICT",
        "fsdp_version": 2,
    }
    if layers:
        config["fsdp_transformer_layer_cls_to_wrap"] = layers
    return config


def deepspeed_config(grad_accum: int) -> dict[str, Any]:
    """ZeRO-2 (optimizer state and gradients sharded, weights whole, nothing offloaded); the
    accumulation steps must match the job's or the trainer refuses the config."""
    return {
        "gradient_accumulation_steps": grad_accum,
        "gradient_clipping": 1.0,
        "offload_optimizer_device": "none",
        "offload_param_device": "none",
        "zero3_init_flag": False,
        "zero_stage": 2,
    }


def generate_config(
    strategy: str,
    processes: int,
    gpus: int,
    bf16: bool,
    grad_accum: int = 1,
    layers: str | None = None,
) -> dict[str, Any]:
    """The accelerate config, as `accelerate config` writes it, for this strategy and machine."""
    kind = distributed_type(strategy, processes)
    config: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE",
        "debug": False,
        "distributed_type": kind,
        "downcast_bf16": "no",
        "enable_cpu_affinity": False,
        "machine_rank": 0,
        "main_training_function": "main",
        "mixed_precision": "bf16" if gpus and bf16 else "no",
        "num_machines": 1,
        "num_processes": processes,
        "rdzv_backend": "static",
        "same_network": True,
        "use_cpu": gpus == 0,
    }
    if kind != "NO":
        config["gpu_ids"] = "all"
        config["main_process_port"] = 0  # a free port, so launches side by side do not collide
    if strategy == "fsdp":
        config["fsdp_config"] = fsdp_config(layers)
    if strategy == "deepspeed":
        config["deepspeed_config"] = deepspeed_config(grad_accum)
    return config


def write_config(config: dict[str, Any], path: Path, what: str) -> Path:
    """The config as YAML with a header saying where it came from (renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    note = CPU_NOTE if config["use_cpu"] and config["distributed_type"] == "MULTI_GPU" else ""
    text = HEADER.format(what=what) + note + yaml.safe_dump(config, sort_keys=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_config(path: Path) -> dict[str, Any]:
    """The user's accelerate config, read the way accelerate launch reads it, or one sentence
    naming the file."""
    from accelerate.commands.config.config_args import load_config_from_file

    if not path.is_file():
        raise WinnowError(
            f"--accelerate-config {path}: no such file; give an accelerate config YAML (accelerate "
            "config writes one) or drop the option to have one written."
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        first = f"{getattr(exc, 'problem', None)} at line {mark.line + 1}" if mark else str(exc)
        raise WinnowError(
            f"--accelerate-config {path}: not YAML ({first}); fix the file or drop the option."
        ) from exc
    if not isinstance(data, dict) or "distributed_type" not in data:
        raise WinnowError(
            f"--accelerate-config {path}: not an accelerate config (no distributed_type); write "
            "one with accelerate config or drop the option."
        )
    try:
        load_config_from_file(str(path))
    except (ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise WinnowError(
            f"--accelerate-config {path}: accelerate cannot use it ({first}); fix the file."
        ) from exc
    return data


def layer_classes(ws: Workspace, base: str) -> str | None:
    """The decoder-layer class(es) FSDP wraps, from the base's architecture; None lets
    accelerate take the model's own _no_split_modules when it loads it."""
    if base == "tiny":
        return "LlamaDecoderLayer"
    from winnow.files import read_json
    from winnow.train.models import resolve_base

    found = resolve_base(base, ws)
    config = Path(found.path) / "config.json"
    if found.kind not in ("run", "folder") or not config.is_file():
        return None
    import transformers

    names = read_json(config).get("architectures") or []
    model = getattr(transformers, names[0], None) if names else None
    layers = getattr(model, "_no_split_modules", None)
    return ",".join(layers) if layers else None
