"""The `winnow` command: one verb per stage, errors printed as one clear sentence."""

from __future__ import annotations

import sys

import typer

from winnow.commands import curate, dashboard, data, demo, evaluate, jobs, labels, train
from winnow.commands.train.sampling import generate
from winnow.console import console
from winnow.errors import WinnowError

app = typer.Typer(
    name="winnow",
    help="Curate LLM training data, train small models on it, and evaluate them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(curate.app, name="curate")
app.add_typer(data.app, name="data")
app.command("demo")(demo.demo)
app.add_typer(train.app, name="train")
app.command("generate")(generate)
app.add_typer(evaluate.app, name="evaluate")
app.add_typer(labels.app, name="labels")
app.command("dashboard")(dashboard.dashboard)
app.add_typer(jobs.app, name="jobs")


def main() -> None:
    """Entry point: run the app and turn WinnowError into a message and exit code 2."""
    try:
        app()
    except WinnowError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(2)
