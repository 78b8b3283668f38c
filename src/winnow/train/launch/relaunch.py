"""Start the job under `accelerate launch`: the run name and the machine checked, the config
written (or the user's read), the ranks started with this Python and the same options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from winnow.console import console
from winnow.devices import bf16_supported, cuda_gpus
from winnow.errors import WinnowError
from winnow.train.launch.accelerate_config import (
    generate_config,
    layer_classes,
    read_config,
    write_config,
)
from winnow.train.launch.arguments import Launch
from winnow.train.launch.checks import GPU_STRATEGIES, check_processes, check_strategy
from winnow.train.launch.handoff import CONFIG_NAME, LAUNCH_ENV
from winnow.workspace import Workspace, check_name

if TYPE_CHECKING:
    from winnow.train.config import JobConfig


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
