"""Shared fixtures: the real data folder beside the project, and offline hubs."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data in ../shared/data; tests read it from there, never copy it."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"{SHARED_DATA} is missing: clone the project beside its shared/ folder.")
    return SHARED_DATA


@pytest.fixture()
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh workspace folder, also set as WINNOW_HOME for commands run in the test."""
    home = tmp_path / "workspace"
    monkeypatch.setenv("WINNOW_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory, shared_data: Path):  # noqa: ANN201
    """A small curated workspace (web, instruct, pairs), built once; copy it before writing."""
    from tests.workspaces import build_small

    return build_small(tmp_path_factory.mktemp("small") / "workspace", shared_data)
