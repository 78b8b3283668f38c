"""`winnow train pretrain|sft|dpo|reward`: one command per registered training method, built
from its config fields, that trains in this process or starts the job under accelerate launch."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from winnow.commands.train.launcher import chosen_launch, launch_options, with_launch_help
from winnow.commands.train.options import method_options
from winnow.commands.train.report import print_run
from winnow.console import console
from winnow.errors import WinnowError
from winnow.train.config import load_config
from winnow.train.launch.arguments import Launch
from winnow.train.methods import Method
from winnow.train.ranks import is_main

if TYPE_CHECKING:
    from winnow.workspace import Workspace


def method_command(method: Method) -> Callable[..., None]:
    """The command of a method: its options (see options.py), then the launcher ones."""

    def command(**given: Any) -> None:
        """Check the launcher options, then train here or under accelerate launch."""
        launch = chosen_launch(given)
        options = {name: given[name] for name in method.options}
        run_job(
            method,
            options,
            given["workspace"],
            config=given["config"],
            sets=given["sets"],
            resume=given["resume"],
            launch=launch,
        )

    parameters = [*method_options(method), *launch_options()]
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__doc__ = with_launch_help(method.help)
    command.__name__ = command.__qualname__ = method.name
    return command


def run_job(
    method: Method,
    options: dict[str, Any],
    workspace: str | None,
    config: str | None = None,
    sets: list[str] | None = None,
    resume: bool = False,
    launch: Launch | None = None,
) -> None:
    """Build the job's config (from the run's own record when resuming), then train and report,
    or start it under accelerate launch when --launcher accelerate asks for it."""
    from winnow.train.launch.relaunch import relaunch
    from winnow.train.runner import execute
    from winnow.workspace import Workspace

    console.quiet = not is_main()
    ws = Workspace.resolve(workspace)
    start = resumed_config(ws, options.get("output")) if resume else None
    job, path = load_config(method.config, config, options, list(sets or []), start)
    if launch is not None:
        raise typer.Exit(relaunch(ws, job, launch, resume))
    shown = f"train {method.name}: {job.data} on base {job.base} -> runs/{job.output}"
    console.print(escape(shown))
    run = execute(ws, method, job, path, resume)
    print_run(run.record)


def resumed_config(ws: Workspace, output: str | None) -> dict[str, Any]:
    """The stored config of the run --resume continues."""
    from winnow.files import read_json

    record = ws.root / "runs" / str(output) / "run.json"
    if not output or not record.is_file():
        raise WinnowError(f"--resume: no run '{output}' in {ws.root / 'runs'}; check --output.")
    return read_json(record)["config"]
