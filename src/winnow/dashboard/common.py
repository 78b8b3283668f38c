"""What every dashboard page shares: the workspace, choices kept in the URL (so a link or a
reload opens the same dataset, run or row), links between pages, and errors shown on the page
instead of breaking it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from winnow.dashboard.url_state import choice
from winnow.errors import WinnowError
from winnow.workspace import DatasetVersion, Workspace

PAGES = {
    "home": "views/home.py",
    "datasets": "views/datasets.py",
    "runs": "views/runs.py",
    "label": "views/label.py",
    "jobs": "views/jobs.py",
    "evals": "views/evals.py",
    "ablations": "views/ablations.py",
}
"""url path -> page script (views/, not pages/, which Streamlit would also list), in menu order."""


def workspace() -> Workspace:
    """The workspace `winnow dashboard` was started on ($WINNOW_HOME)."""
    return Workspace.resolve(os.environ.get("WINNOW_HOME"))


def link(page: str, label: str, **query: str | list[str]) -> None:
    """A link to another page, carrying what it should open."""
    st.page_link(PAGES[page], label=label, query_params=query or None)


@contextmanager
def shown_errors(what: str) -> Iterator[None]:
    """Show a failure of one part of a page as one message; the rest of the page goes on."""
    try:
        yield
    except WinnowError as exc:
        st.error(f"{what}: {exc}")
    except Exception as exc:  # noqa: BLE001 - one broken part must not take the page down
        st.error(f"{what} could not be read: {type(exc).__name__}: {exc}")


def dataset_refs(ws: Workspace) -> list[str]:
    """Every NAME@VERSION in the workspace, newest version of each name first."""
    return [v.ref for name in ws.names() for v in reversed(ws.versions(name))]


def pick_dataset(
    ws: Workspace, key: str, allowed: Callable[[DatasetVersion], bool] | None = None
) -> DatasetVersion | None:
    """A dataset version chosen from the workspace's list, kept in the `dataset` query
    parameter; only names on the list are ever opened (no paths from the URL)."""
    refs = dataset_refs(ws)
    if allowed is not None:
        refs = [r for r in refs if readable_allowed(ws, r, allowed)]
    if not refs:
        st.info(
            f"No datasets in {ws.root} yet. Make one with `winnow curate run` or `winnow demo`."
        )
        return None
    return ws.dataset(choice(st.selectbox, "Dataset", refs, key, "dataset"))


def readable_allowed(ws: Workspace, ref: str, allowed: Callable[[DatasetVersion], bool]) -> bool:
    """Whether a version passes a page's filter; an unreadable manifest does not."""
    try:
        return allowed(ws.dataset(ref))
    except (OSError, ValueError, KeyError):
        return False


def app_dir() -> Path:
    """The folder of the Streamlit app script."""
    return Path(__file__).parent
