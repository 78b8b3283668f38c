"""A job's source folder is checked file by file: a link inside it that leads out of the
workspace and the data root is refused, naming the link (issue 18)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from winnow.errors import WinnowError
from winnow.jobs import JobSpec, launch, list_jobs
from winnow.jobs.params import name, source
from winnow.jobs.store import jobs_dir
from winnow.workspace import NAME_MAX, Workspace


@pytest.fixture()
def raw(ws: Workspace) -> Path:
    """A source folder inside the workspace with one real file."""
    folder = ws.root / "raw"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jsonl").write_text('{"text": "inside"}\n')
    return folder


@pytest.mark.parametrize(
    ("where", "target"),
    [("b.jsonl", "/etc/hostname"), ("sub/c.jsonl", "/etc/hostname"), ("etc", "/etc")],
)
def test_a_link_leading_out_is_refused_by_name(
    ws: Workspace, raw: Path, where: str, target: str
) -> None:
    """A link to a file or a folder outside, at any depth, is one sentence naming the link;
    no job is started."""
    link = raw / where
    link.symlink_to(target)
    with pytest.raises(WinnowError) as caught:
        source(ws, "source", "raw")
    message = str(caught.value)
    assert message.startswith("parameter 'source': ") and f"{link} inside" in message
    assert os.path.realpath(target) in message and "\n" not in message
    assert message.endswith("copy the data in or remove the link.")
    spec = JobSpec("curate", {"recipe": "demo", "source": "raw", "output": "x"})
    with pytest.raises(WinnowError, match=f"{link} inside"):
        launch(ws, spec)
    assert list_jobs(ws) == [] and not jobs_dir(ws).exists()


def test_links_that_stay_inside_are_fine(ws: Workspace, raw: Path) -> None:
    """A link to another file of the workspace, a hidden link (sources skip hidden names) and
    a link back up the tree (walked once) pass."""
    (raw / "again.jsonl").symlink_to(raw / "a.jsonl")
    (raw / ".hidden").symlink_to("/etc")
    (raw / "sub" / "up").symlink_to(raw)
    assert source(ws, "source", "raw") == os.path.realpath(raw)


def test_long_names_are_refused(ws: Workspace) -> None:
    """A dataset or run name longer than NAME_MAX is refused like a bad character."""
    assert name("output", "a" * NAME_MAX) == "a" * NAME_MAX
    with pytest.raises(WinnowError, match=f"at most {NAME_MAX} characters long"):
        name("output", "a" * (NAME_MAX + 1))
