"""`winnow demo`: the main job on the embedded default, on a sample shipped with Winnow."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from winnow.commands import instruct, train
from winnow.commands.curate import curate_with_progress
from winnow.commands.evaluate import print_scores
from winnow.commands.options import WorkspaceOption, console
from winnow.curate.runner import RunOptions
from winnow.workspace import Workspace

DEMO_FOLDER = Path(__file__).resolve().parents[1] / "resources" / "demo"
DEMO_SAMPLE = DEMO_FOLDER / "web_sample.jsonl"
"""A small web-like sample written for Winnow: clean text, boilerplate, copies, Korean."""
INSTRUCT_SAMPLE = DEMO_FOLDER / "instruct_sample.json"
"""Alpaca-style rows written for Winnow: good answers, a refusal, a template leftover, an
empty answer, a degenerate one and a repeated instruction."""


def invoked_as() -> str:
    """How to call winnow again: by name when it is on PATH, else by the path just used."""
    invoked = sys.argv[0]
    if shutil.which("winnow") == invoked:
        return "winnow"
    relative = os.path.relpath(invoked)
    return invoked if relative.startswith("..") else relative


def free_run(ws: Workspace, stem: str) -> str:
    """The first of STEM, STEM-2, STEM-3... with no run yet, so the demo can run again."""
    name, number = stem, 1
    while (ws.root / "runs" / name).exists():
        number += 1
        name = f"{stem}-{number}"
    return name


def demo(workspace: WorkspaceOption = None) -> None:
    """Curate the bundled web sample ('demo' recipe) and instruction sample ('demo-instruct'),
    pretrain a tiny model on the web sample, fine-tune it on the instructions, evaluate it."""
    ws = Workspace.resolve(workspace)
    console.print(f"[bold]Winnow demo[/]: curating {DEMO_SAMPLE.name} into {ws.root}")
    dataset = curate_with_progress(ws, "demo", str(DEMO_SAMPLE), "demo-web", RunOptions())
    command = invoked_as()
    console.print(f"Next: {command} data head {dataset.name} --split rejected", highlight=False)
    console.print(
        f'      {command} data sql \'SELECT reason, count(*) FROM "{dataset.name}_rejected" '
        "GROUP BY reason'",
        highlight=False,
    )
    console.print(f"[bold]Winnow demo[/]: importing {INSTRUCT_SAMPLE.name} as an instruction set")
    instruct.instruct(
        source=str(INSTRUCT_SAMPLE),
        output="demo-instruct",
        recipe="demo-instruct",
        workspace=str(ws.root),
    )
    console.print(
        f"Next: {command} data export demo-instruct --format trl -o demo-instruct.jsonl",
        highlight=False,
    )
    base, tuned = free_run(ws, "demo-base"), free_run(ws, "demo-sft")
    console.print(f"[bold]Winnow demo[/]: pretraining a tiny model on demo-web as {base}")
    train.pretrain(base="tiny", data="demo-web", output=base, max_steps=40, workspace=str(ws.root))
    console.print(f"[bold]Winnow demo[/]: fine-tuning {base} on demo-instruct as {tuned}")
    train.sft(base=base, data="demo-instruct", output=tuned, max_steps=20, workspace=str(ws.root))
    console.print(
        f'Next: {command} generate --model {tuned} --prompt "Name three primary colours."',
        highlight=False,
    )
    evaluate_demo(ws, tuned, command)
    console.print(
        f"Next: {command} dashboard -w {ws.root}   (browse, label, run jobs, compare evals)",
        highlight=False,
    )


def evaluate_demo(ws: Workspace, model: str, command: str) -> None:
    """Score the fine-tuned model on 20 ARC-Easy and HaluEval QA documents, when the shared
    eval data is there."""
    from winnow.evals.catalog import load_catalog
    from winnow.evals.run import EvalOptions, evaluate

    root = load_catalog().data_root
    if not (root / "evals").is_dir():
        console.print(f"Skipping the eval step: no eval data under {root} ($WINNOW_DATA_ROOT).")
        return
    console.print(f"[bold]Winnow demo[/]: evaluating {model} on 20 ARC-Easy and HaluEval QA items")
    tasks = "winnow_arc_easy,winnow_halueval_qa"
    name = free_run(ws, f"eval-{model}")
    run = evaluate(ws, EvalOptions(model=model, tasks=tasks, limit=20, output=name))
    print_scores(run.record)
    console.print(
        f"Next: {command} evaluate --model {model} --suite core --limit 50", highlight=False
    )
