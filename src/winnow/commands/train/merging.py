"""`winnow train merge`: a --no-merge LoRA run's adapters merged into its base."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from winnow.commands.options import WorkspaceOption
from winnow.console import console


def merge(
    run: Annotated[str, typer.Argument(help="A run trained with --lora/qlora and --no-merge.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Merge a run's LoRA adapters (run/adapter) into its recorded base and write run/model.

    QLoRA adapters are merged into the base loaded in 16 bits (bf16 or fp16 on a GPU, fp32
    on the CPU), never into 4-bit weights. The run can then be a --base, be evaluated or be
    generated from like any other.

    Example: winnow train merge my-sft-lora
    """
    from winnow.train.merge import merge_run
    from winnow.workspace import Workspace

    folder = merge_run(Workspace.resolve(workspace), run)
    console.print(escape(f"run {run}: adapters merged into {folder}"))
