"""Start-up: `winnow --help` and every `winnow COMMAND ... --help` import none of the heavy
libraries (data frames, numba, torch, lm-eval, Streamlit...), which cost seconds before the
first line; they load only when a command runs and needs them."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import typer

from winnow.cli import app

HEAVY = {
    "polars",
    "duckdb",
    "pyarrow",
    "numpy",
    "numba",
    "pandas",
    "scipy",
    "sklearn",
    "torch",
    "transformers",
    "datasets",
    "trl",
    "peft",
    "lm_eval",
    "streamlit",
    "trafilatura",
    "fasttext",
    "kiwipiepy",
    "py3langid",
    "ray",
    "tokenizers",
}
"""Top-level packages a help text must not import."""


def command_paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and group under a click command (typer's own copy of click), as the words
    that name it."""
    paths = [path]
    if hasattr(command, "list_commands"):
        context = command.context_class(command)
        for name in command.list_commands(context):
            paths += command_paths(command.get_command(context, name), (*path, name))
    return paths


PATHS = command_paths(typer.main.get_command(app))


def imported(argv: list[str]) -> set[str]:
    """The top-level packages `python -m winnow ARGV` imports, from Python's own import log."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "winnow", *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_every_command_is_listed() -> None:
    """The walk finds the whole tree (so the test below covers every help text)."""
    assert ("curate", "run") in PATHS and ("train", "sft") in PATHS and ("jobs", "limit") in PATHS
    assert len(PATHS) > 40


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "winnow")
def test_help_imports_nothing_heavy(path: tuple[str, ...]) -> None:
    """Each help text is printed without loading a heavy library."""
    assert not imported([*path, "--help"]) & HEAVY
