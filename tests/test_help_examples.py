"""Every command's --help carries an example of itself (issue 8), found by walking the app.

The example is the help paragraph that starts with 'Example:'; a line ending in a backslash
continues on the next, and a comma after a word ends the command (prose may follow, as in
'..., then open http://...'). Nothing runs: the examples are only parsed.
"""

from __future__ import annotations

import inspect
import shlex
from collections.abc import Iterator
from typing import Any

import pytest
import typer

from winnow.cli import app

ROOT = typer.main.get_command(app)


def runnable(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """(path, command) for every leaf command, and for every group that runs on its own."""
    subcommands = getattr(command, "commands", None)
    if subcommands is None or getattr(command, "invoke_without_command", False):
        yield " ".join(path), command
    for name, sub in (subcommands or {}).items():
        yield from runnable(sub, (*path, name))


COMMANDS = dict(runnable(ROOT, ("winnow",)))


def example(command: Any) -> str | None:
    """The example of a command's help, continuation lines joined; None when there is none."""
    lines = inspect.cleandoc(command.help or "").splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Example:"):
            text = line.removeprefix("Example:").strip()
            for following in lines[index + 1 :]:
                if not text.endswith("\\"):
                    break
                text = text[:-1].rstrip() + " " + following.strip()
            return text
    return None


def argv(text: str) -> list[str]:
    """The example's words as the shell splits them, up to the word a comma ends."""
    words = []
    for word in shlex.split(text):
        words.append(word.removesuffix(","))
        if word.endswith(","):
            break
    return words


def test_the_walk_finds_every_command() -> None:
    """The walk reaches nested groups and runnable groups, not just the first level."""
    for path in (
        "winnow demo",
        "winnow data sql",
        "winnow curate quality train",
        "winnow evaluate",
    ):
        assert path in COMMANDS
    assert "winnow curate" not in COMMANDS and len(COMMANDS) > 30


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_help_has_an_example_of_the_command(path: str) -> None:
    """The help holds 'Example:' followed by `winnow` and this command's own path."""
    command = COMMANDS[path]
    assert "Example:" in (command.help or ""), f"'{path} --help' has no 'Example:' line"
    shown = example(command)
    assert shown is not None, f"'{path} --help': 'Example:' does not start a line"
    assert shown.startswith("winnow "), f"'{path}' example does not start with winnow: {shown}"
    assert shown == path or shown.startswith(path + " "), (
        f"'{path}' example runs another command: {shown}"
    )


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_example_parses(path: str) -> None:
    """The example's options and arguments are ones the command accepts (parsed, not run)."""
    command = COMMANDS[path]
    shown = example(command)
    assert shown is not None
    words = argv(shown)[len(path.split()) :]
    command.make_context(path, words)
