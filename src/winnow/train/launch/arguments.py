"""The launcher options of a training command: checked into the Launch they ask for (or one
sentence on a bad combination) before anything is loaded, and the rest of the command line
passed on to the ranks."""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from winnow.devices import world_size
from winnow.errors import WinnowError
from winnow.train.launch.handoff import LAUNCH_ENV

LAUNCHERS = ("none", "accelerate")
"""--launcher values: train in this process, or under accelerate launch."""

STRATEGIES = ("ddp", "fsdp", "deepspeed")
"""--strategy values, each a kind of generated accelerate config."""


@dataclass(frozen=True)
class Launch:
    """A launch the command line asks for: the user's config file, or a strategy and process
    count to write one from; `args` is the command line to pass on, launcher options left out."""

    config_file: Path | None
    strategy: str
    num_processes: int | None
    args: tuple[str, ...]


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
    if world_size() > 1 or LAUNCH_ENV in os.environ:
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
