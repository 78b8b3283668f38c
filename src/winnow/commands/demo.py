"""`winnow demo`: the main job on the embedded default, on a sample shipped with Winnow."""

from __future__ import annotations

from pathlib import Path

from winnow.commands.curate import curate_with_progress
from winnow.commands.options import WorkspaceOption, console
from winnow.curate.runner import RunOptions
from winnow.workspace import Workspace

DEMO_SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "demo" / "web_sample.jsonl"
"""A small web-like sample written for Winnow: clean text, boilerplate, copies, Korean."""


def demo(workspace: WorkspaceOption = None) -> None:
    """Curate the bundled web sample with the 'demo' recipe and print the report."""
    ws = Workspace.resolve(workspace)
    console.print(f"[bold]Winnow demo[/]: curating {DEMO_SAMPLE.name} into {ws.root}")
    dataset = curate_with_progress(ws, "demo", str(DEMO_SAMPLE), "demo-web", RunOptions())
    console.print(
        f"Next: winnow data head {dataset.name} --workspace {ws.root}   "
        f"winnow data head {dataset.name} --split rejected --workspace {ws.root}"
    )
