"""The options of `winnow train METHOD`, in the order its help lists them: the method's config
fields (help from the config), the job YAML after --output, then --set, --resume, --workspace."""

from __future__ import annotations

import inspect
import types
import typing
from typing import Annotated, Any

import typer

from winnow.commands.options import WorkspaceOption
from winnow.train.config import field_help, field_types
from winnow.train.methods import Method

KEYWORD = inspect.Parameter.KEYWORD_ONLY
"""Every option is passed by name."""

CONFIG = inspect.Parameter(
    "config",
    KEYWORD,
    default=None,
    annotation=Annotated[
        str | None,
        typer.Option(
            "--config", help="Job YAML: a path or a name in catalogs/jobs/.", show_default=False
        ),
    ],
)

AFTER = (
    inspect.Parameter(
        "sets",
        KEYWORD,
        default=None,
        annotation=Annotated[
            list[str] | None,
            typer.Option(
                "--set",
                help="Any config field as KEY=VALUE (e.g. --set warmup_ratio=0.1); repeat for "
                "more.",
                show_default=False,
            ),
        ],
    ),
    inspect.Parameter(
        "resume",
        KEYWORD,
        default=False,
        annotation=Annotated[
            bool, typer.Option("--resume", help="Continue run --output from its last checkpoint.")
        ],
    ),
    inspect.Parameter("workspace", KEYWORD, default=None, annotation=WorkspaceOption),
)
"""The options after the method's own."""


def field_option(method: Method, name: str, kind: Any) -> inspect.Parameter:
    """A config field (of type `kind`) as an option that is None unless given, so the job YAML
    and the config's default decide otherwise (hence no default shown)."""
    if isinstance(kind, types.UnionType):
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    dashed = name.replace("_", "-")
    declared = [f"--{dashed}/--no-{dashed}"] if kind is bool else []
    option = typer.Option(*declared, help=field_help(method.config, name), show_default=False)
    return inspect.Parameter(name, KEYWORD, default=None, annotation=Annotated[kind | None, option])


def method_options(method: Method) -> list[inspect.Parameter]:
    """All options of the method's command but the launcher ones."""
    kinds = field_types(method.config)
    fields = [field_option(method, name, kinds[name]) for name in method.options]
    at = method.options.index("output") + 1
    return [*fields[:at], CONFIG, *fields[at:], *AFTER]
