"""Run the dashboard app in Streamlit's AppTest on a workspace, on a chosen page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import winnow.dashboard

APP = Path(winnow.dashboard.__file__).parent / "app.py"


def open_page(monkeypatch: pytest.MonkeyPatch, root: Path, page: str, **query: str) -> AppTest:
    """The app on workspace `root`, switched to views/PAGE.py with query parameters."""
    monkeypatch.setenv("WINNOW_HOME", str(root))
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.switch_page(f"views/{page}.py")
    for key, value in query.items():
        app.query_params[key] = value
    return app.run()


def texts(app: AppTest) -> str:
    """Every markdown, caption, text and message on the page, joined."""
    parts = [
        e.value
        for kind in ("markdown", "caption", "text", "error", "info", "warning")
        for e in getattr(app, kind)
    ]
    return "\n".join(str(p) for p in parts)


def labeller(
    monkeypatch: pytest.MonkeyPatch, root: Path, task: str, name: str, ref: str
) -> AppTest:
    """The Label page with a task, an annotator and a dataset chosen."""
    app = open_page(monkeypatch, root, "label", dataset=ref)
    app.selectbox(key="task").set_value(task).run()
    app.text_input(key="annotator").input(name).run()
    assert not app.exception, app.exception
    return app
