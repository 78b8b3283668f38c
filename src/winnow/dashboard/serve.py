"""`python -m winnow.dashboard.serve run APP ...`: Streamlit's command line, with every module the
pages import imported first, so that the first visit to a page loads as fast as the next."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

from winnow.dashboard.common import PAGES

HERE = Path(__file__).parent

LAZY = ("pandas",)
"""Modules Streamlit imports only when a page draws its first table or chart."""


def imported_by(script: Path) -> list[str]:
    """The modules a page script imports at its top level."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def warm() -> list[str]:
    """Import every module the pages import (Streamlit runs a page as a script, so its imports
    would otherwise happen on the first visit) and those Streamlit imports for a first table;
    return their names."""
    names = sorted({n for script in PAGES.values() for n in imported_by(HERE / script)})
    names += LAZY
    for name in names:
        importlib.import_module(name)
    return names


def main() -> None:
    """Warm the imports, then hand the command line to Streamlit in this same process."""
    warm()
    from streamlit.web import cli

    cli.main(sys.argv[1:], prog_name="streamlit")


if __name__ == "__main__":
    main()
