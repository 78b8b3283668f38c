"""Options shared by every command."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

WorkspaceOption = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder or file:// URL (else $WINNOW_HOME, else ./workspace); "
        "object storage is for sources and 'winnow data push', not workspaces.",
        show_default=False,
    ),
]


def new_table(title: str | None, *columns: str) -> Table:
    """A left-titled table with the given column headers, the house style of every command."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table
