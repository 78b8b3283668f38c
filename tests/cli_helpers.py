"""Run the `winnow` command in-process and capture what it prints."""

from __future__ import annotations

import sys

import pytest

from winnow.cli import main
from winnow.console import console


def run_cli_streams(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Call `winnow ARGS...` as a user would; return the exit code, stdout and stderr."""
    argv = sys.argv
    console.width = 240
    sys.argv = ["winnow", *args]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = argv
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Call `winnow ARGS...` as a user would; return the exit code and the output on one line."""
    code, out, err = run_cli_streams(capsys, *args)
    return code, " ".join((out + err).split())
