"""`winnow dashboard`: the Streamlit app over a workspace, on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

import winnow.dashboard
from winnow.commands.options import WorkspaceOption
from winnow.console import console

APP = Path(winnow.dashboard.__file__).parent / "app.py"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def streamlit_argv(host: str, port: int) -> list[str]:
    """The `streamlit run` command line (through `winnow.dashboard.serve`, which imports the
    pages' modules before the server listens): headless, no usage statistics, no file watching."""
    return [
        sys.executable,
        "-m",
        "winnow.dashboard.serve",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "minimal",
        "--browser.gatherUsageStats",
        "false",
    ]


def dashboard(
    workspace: WorkspaceOption = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on; anything but loopback exposes the workspace.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
) -> None:
    """Browse and label data, run jobs and compare evals in a browser.

    Pages: Datasets (manifests, lineage, funnel, rows with search and filters), Label (quality,
    answer rating, pairwise; agreement; export), Jobs (curation, training and eval jobs as
    separate processes), Evals (scores, deltas, flips, contamination, loss curves).

    Example: winnow dashboard -w workspace --port 8501, then open http://127.0.0.1:8501
    """
    from winnow.workspace import Workspace

    ws = Workspace.resolve(workspace)
    if not ws.root.is_dir():
        console.print(f"[yellow]no workspace at {ws.root} yet[/]: `winnow demo` makes one.")
    if host not in LOOPBACK:
        console.print(
            f"[yellow]listening on {host}[/]: anyone who reaches this address can read, label "
            "and start jobs in this workspace."
        )
    console.print(f"Winnow dashboard on http://{host}:{port} over {ws.root} (Ctrl+C stops it)")
    env = {**os.environ, "WINNOW_HOME": str(ws.root)}
    sys.stdout.flush()
    # streamlit replaces this process, so a stop signal reaches the server itself
    os.execve(sys.executable, streamlit_argv(host, port), env)
