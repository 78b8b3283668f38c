"""The launcher options every training method's command takes (declared once here), and the
Launch they ask for, checked before anything is loaded."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

import typer

from winnow.train.launch.arguments import Launch, command_line, parse_launch

LAUNCH_PANEL = "Several processes"
"""The help panel of the launcher options."""

LAUNCH_OPTIONS: dict[str, tuple[Any, Any]] = {
    "launcher": (
        Annotated[
            str,
            typer.Option(
                help="none (train in this process) or accelerate (the same job under "
                "accelerate launch).",
                rich_help_panel=LAUNCH_PANEL,
            ),
        ],
        "none",
    ),
    "strategy": (
        Annotated[
            str | None,
            typer.Option(
                help="ddp, fsdp or deepspeed (GPUs): the accelerate config written for the launch.",
                show_default="ddp",
                rich_help_panel=LAUNCH_PANEL,
            ),
        ],
        None,
    ),
    "num_processes": (
        Annotated[
            int | None,
            typer.Option(
                help="Processes the written config starts.",
                show_default="the CUDA GPUs, else 1",
                rich_help_panel=LAUNCH_PANEL,
            ),
        ],
        None,
    ),
    "accelerate_config": (
        Annotated[
            str | None,
            typer.Option(
                help="Your own accelerate config YAML, used as is (instead of --strategy and "
                "--num-processes).",
                show_default=False,
                rich_help_panel=LAUNCH_PANEL,
            ),
        ],
        None,
    ),
}
"""The launcher options every training method takes: name -> (annotation, default)."""

LAUNCH_HELP = (
    "Several processes: add --launcher accelerate (--strategy ddp|fsdp|deepspeed, "
    "--num-processes N, or --accelerate-config FILE) to run the job under accelerate launch, "
    "e.g. winnow train sft ... --launcher accelerate --num-processes 2."
)
"""The paragraph added to each training method's help, before its example."""

CONTEXT = "launch_context"
"""The parameter that gets the click context, whose command line the ranks are given."""


def launch_options() -> list[inspect.Parameter]:
    """The launcher options, then the context, as parameters of a command."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    return [
        *(
            inspect.Parameter(name, keyword, annotation=kind, default=default)
            for name, (kind, default) in LAUNCH_OPTIONS.items()
        ),
        inspect.Parameter(CONTEXT, keyword, annotation=typer.Context),
    ]


def with_launch_help(doc: str) -> str:
    """A method's help with the launcher paragraph before its example."""
    head, example, tail = inspect.cleandoc(doc).partition("\n\nExample:")
    return f"{head}\n\n{LAUNCH_HELP}{example}{tail}"


def chosen_launch(given: dict[str, Any]) -> Launch | None:
    """Take the launcher options and the context out of a command's arguments: the launch
    they ask for (None: train here), with the rest of the command line to pass on."""
    context = given.pop(CONTEXT)
    chosen = {name: given.pop(name) for name in LAUNCH_OPTIONS}
    return parse_launch(**chosen, args=command_line(context, LAUNCH_OPTIONS))
