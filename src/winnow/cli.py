"""The `winnow` command: one verb per stage, errors printed as one clear sentence."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console
from rich.text import Text

from winnow.commands import ablate, curate, dashboard, data, demo, evaluate, jobs, labels, train
from winnow.commands.train.sampling import generate
from winnow.console import console
from winnow.errors import WinnowError, storage_error

app = typer.Typer(
    name="winnow",
    help="Curate LLM training data, train small models on it, and evaluate them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(curate.app, name="curate")
app.add_typer(data.app, name="data")
app.command("demo")(demo.demo)
app.command("ablate")(ablate.ablate)
app.add_typer(train.app, name="train")
app.command("generate")(generate)
app.add_typer(evaluate.app, name="evaluate")
app.add_typer(labels.app, name="labels")
app.command("dashboard")(dashboard.dashboard)
app.add_typer(jobs.app, name="jobs")


def main() -> None:
    """Entry point: run the app; a WinnowError, a write the storage refused (disk full,
    read-only, no permission) and Ctrl-C each end as one line on stderr, without a traceback."""
    try:
        app()
    except WinnowError as exc:
        fail(str(exc), 2)
    except KeyboardInterrupt:
        fail("interrupted (Ctrl-C).", 130)
    except BrokenPipeError:
        # the reader of stdout left (`winnow data sql ... --format csv | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except Exception as exc:
        refused = storage_error(exc)
        if refused is None:
            raise
        fail(str(refused), 2)


def fail(message: str, code: int) -> None:
    """Print `message` literally (no markup or emoji codes from names or data) as one line on
    stderr, unwrapped, and exit with `code`."""
    errors = Console(stderr=True, soft_wrap=True, highlight=False, emoji=False)
    errors.quiet = console.quiet
    errors.print(Text.assemble(("error:", "red"), " ", message))
    sys.exit(code)
