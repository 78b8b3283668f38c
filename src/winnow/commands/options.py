"""Options shared by every command."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

WorkspaceOption = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder (else $WINNOW_HOME, else ./workspace).",
        show_default=False,
    ),
]

console = Console()
