"""`winnow train METHOD ... --launcher accelerate`: the same job in several processes under
`accelerate launch`, with an accelerate config written for the strategy (or the user's own).

The launching process checks everything that needs no compute (options, job, strategy, config
file, run name), writes the config and runs `accelerate launch --config_file CFG -m winnow
train METHOD ...` with the same options less the launcher ones. The launched ranks train as
under any launcher (see ranks.py); WINNOW_LAUNCH tells them which config they run under, and
rank 0 copies it into the run folder as accelerate.yaml and records it in run.json.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable, Collection
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from rich.markup import escape

from winnow.commands.options import console
from winnow.errors import WinnowError
from winnow.workspace import Workspace, check_name

if TYPE_CHECKING:
    from winnow.train.config import JobConfig
    from winnow.train.jobs import Context, Prepare, Prepared
    from winnow.train.runs import RunFolder

LAUNCHERS = ("none", "accelerate")
"""--launcher values: train in this process, or under accelerate launch."""

STRATEGIES = ("ddp", "fsdp", "deepspeed")
"""--strategy values, each a kind of generated accelerate config."""

LAUNCH_ENV = "WINNOW_LAUNCH"
"""Environment variable that hands the launch (config file, strategy) down to the ranks."""

CONFIG_NAME = "accelerate.yaml"
"""The copy of the accelerate config kept in the run folder."""

GPU_STRATEGIES = {"FSDP": "fsdp", "DEEPSPEED": "deepspeed"}
"""accelerate distributed types that need CUDA GPUs, and their --strategy names."""

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


@dataclass(frozen=True)
class Launch:
    """A launch the command line asks for: the user's config file, or a strategy and process
    count to write one from; `args` is the command line to pass on, launcher options left out."""

    config_file: Path | None
    strategy: str
    num_processes: int | None
    args: tuple[str, ...]


REQUESTED: ContextVar[Launch | None] = ContextVar("winnow_launch", default=None)
"""The launch of the command being run (None: train in this process); set by the CLI wrapper."""


def parse_launch(
    launcher: str,
    accelerate_config: str | None,
    strategy: str | None,
    num_processes: int | None,
    args: tuple[str, ...] = (),
) -> Launch | None:
    """The launch the options ask for (None: train here), or one sentence on a bad combination,
    before anything is loaded."""
    if launcher not in LAUNCHERS:
        raise WinnowError(f"--launcher {launcher}: use none (this process) or accelerate.")
    given = {
        "--accelerate-config": accelerate_config,
        "--strategy": strategy,
        "--num-processes": num_processes,
    }
    named = [name for name, value in given.items() if value is not None]
    if launcher == "none":
        if named:
            raise WinnowError(
                f"{', '.join(named)}: only used with --launcher accelerate; add --launcher "
                f"accelerate or drop {'it' if len(named) == 1 else 'them'}."
            )
        return None
    if strategy is not None and strategy not in STRATEGIES:
        raise WinnowError(f"--strategy {strategy}: use ddp, fsdp or deepspeed.")
    if num_processes is not None and num_processes < 1:
        raise WinnowError(f"--num-processes {num_processes}: must be 1 or more.")
    if accelerate_config is not None and (strategy is not None or num_processes is not None):
        raise WinnowError(
            "--accelerate-config is used as is: set distributed_type and num_processes in the "
            "file, or drop --accelerate-config to have one written from --strategy and "
            "--num-processes."
        )
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 or LAUNCH_ENV in os.environ:
        raise WinnowError(
            "--launcher accelerate: this process already runs under a launcher; drop "
            "--launcher or start winnow train directly."
        )
    config = Path(accelerate_config).expanduser().absolute() if accelerate_config else None
    return Launch(config, strategy or "ddp", num_processes, args)


def command_line(ctx: Any, leave_out: Collection[str]) -> tuple[str, ...]:
    """The options this command was given on the command line (a typer/click Context), as words
    again, less `leave_out`: what the launched ranks are started with."""
    words: list[str] = []
    for param in ctx.command.params:
        name = param.name or ""
        source = ctx.get_parameter_source(name)
        if name in leave_out or source is None or source.name != "COMMANDLINE":
            continue
        value = ctx.params[name]
        values = list(value) if param.multiple else [value]
        if param.param_type_name != "option":
            words.extend(str(item) for item in values)
        elif param.is_flag and param.secondary_opts:
            words.append(param.opts[0] if value else param.secondary_opts[0])
        elif param.is_flag:
            words.extend([param.opts[0]] if value else [])
        else:
            for item in values:
                words.extend([param.opts[0], str(item)])
    return tuple(words)


def cuda_gpus() -> int:
    """How many CUDA GPUs this machine has (0 without CUDA)."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def bf16_supported() -> bool:
    """Whether the GPUs do bf16, as the trainer's own device check decides (jobs.device_info)."""
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


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


def check_run_name(ws: Workspace, name: str, resume: bool) -> None:
    """The run name is free (or, for --resume, taken), as the ranks will find it."""
    check_name(name)
    if not resume and (ws.root / "runs" / name).exists():
        raise WinnowError(
            f"run '{name}' already exists in {ws.root / 'runs'}; pick another --output or pass "
            "--resume to continue it."
        )


def launch_command(config_file: Path, args: Collection[str]) -> list[str]:
    """`accelerate launch --config_file CFG -m winnow ARGS`, with this Python, so the ranks run
    this very winnow whatever is on PATH."""
    launcher = [sys.executable, "-m", "accelerate.commands.launch"]
    return [*launcher, "--config_file", str(config_file), "-m", "winnow", *args]


def prepare_config(ws: Workspace, job: JobConfig, launch: Launch) -> tuple[Path, dict[str, Any]]:
    """The config file the launch runs under (the given one, or one written next to the run
    for its strategy) and what rank 0 records about it; checks come first."""
    gpus = cuda_gpus()
    if launch.config_file is not None:
        data = read_config(launch.config_file)
        kind = str(data["distributed_type"])
        if kind in GPU_STRATEGIES:
            what = f"--accelerate-config {launch.config_file} (distributed_type {kind})"
            check_strategy(GPU_STRATEGIES[kind], gpus, what)
        return launch.config_file, {"generated": False, "strategy": None}
    check_strategy(launch.strategy, gpus, f"--strategy {launch.strategy}")
    processes = launch.num_processes or max(gpus, 1)
    check_processes(processes, gpus)
    layers = layer_classes(ws, job.base) if launch.strategy == "fsdp" else None
    config = generate_config(
        launch.strategy, processes, gpus, bf16_supported(), job.grad_accum, layers
    )
    path = ws.root / "runs" / f".{job.output}.{os.getpid()}.{CONFIG_NAME}"
    count = f"{processes} process{'es' if processes > 1 else ''}"
    write_config(config, path, f"--strategy {launch.strategy}, {count}")
    return path, {"generated": True, "strategy": launch.strategy}


def relaunch(ws: Workspace, job: JobConfig, launch: Launch, resume: bool) -> int:
    """Run the job under accelerate launch, output streamed; accelerate's exit code. A written
    config is removed afterwards: rank 0 has kept a copy in the run folder."""
    check_run_name(ws, job.output, resume)
    config_file, passed = prepare_config(ws, job, launch)
    command = launch_command(config_file, ("train", job.method, *launch.args))
    env = {**os.environ, LAUNCH_ENV: json.dumps({**passed, "config_file": str(config_file)})}
    shown = " ".join(["accelerate", "launch", *command[3:]])
    console.print(escape(f"launch: {shown}"), highlight=False)
    try:
        return subprocess.run(command, env=env, check=False).returncode
    finally:
        if passed["generated"]:
            config_file.unlink(missing_ok=True)


def launched() -> dict[str, Any] | None:
    """What `--launcher accelerate` passed down to this rank (None when it did not start it)."""
    raw = os.environ.get(LAUNCH_ENV)
    return json.loads(raw) if raw else None


def record_launch(run: RunFolder) -> None:
    """Keep the accelerate config in the run folder and note it in run.json (saved with the
    next update), so the run says what it ran under."""
    passed = launched()
    if passed is None:
        return
    source = Path(passed["config_file"])
    content = source.read_bytes()
    if run.writer:
        tmp = run.path / f".{CONFIG_NAME}.{os.getpid()}.tmp"
        tmp.write_bytes(content)
        os.replace(tmp, run.path / CONFIG_NAME)
    run.record["launch"] = {
        "launcher": "accelerate",
        "strategy": passed["strategy"],
        "generated": passed["generated"],
        "config_file": CONFIG_NAME,
        "source": None if passed["generated"] else str(source),
        "sha256": hashlib.sha256(content).hexdigest(),
        "config": yaml.safe_load(content),
    }


def recording_launch(prepare: Prepare) -> Callable[[Context], Prepared]:
    """The method's prepare step, preceded by record_launch once the run folder exists."""

    def prepare_recorded(ctx: Context) -> Prepared:
        """Record the launch, then prepare as the method does."""
        record_launch(ctx.run)
        return prepare(ctx)

    return prepare_recorded
