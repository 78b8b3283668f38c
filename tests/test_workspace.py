"""Workspace resolution, version naming and DuckDB views."""

from pathlib import Path

import polars as pl
import pytest

from winnow.errors import WinnowError
from winnow.workspace import Workspace, check_name


def test_resolve_prefers_option_then_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINNOW_HOME", str(tmp_path / "env"))
    assert Workspace.resolve(tmp_path / "opt").root == (tmp_path / "opt").resolve()
    assert Workspace.resolve().root == (tmp_path / "env").resolve()
    monkeypatch.delenv("WINNOW_HOME")
    monkeypatch.chdir(tmp_path)
    assert Workspace.resolve().root == (tmp_path / "workspace").resolve()


def test_versions_sort_numerically_and_unfinished_are_ignored(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    for version in ("v1", "v2", "v10"):
        folder = tmp_path / "datasets" / "web" / version / "kept"
        folder.mkdir(parents=True)
        pl.DataFrame({"id": [version], "text": ["x"]}).write_parquet(folder / "part-00000.parquet")
        (folder.parent / "manifest.json").write_text("{}")
    (tmp_path / "datasets" / "web" / ".staging-abc").mkdir()
    (tmp_path / "datasets" / "web" / "v11").mkdir()  # no manifest: a crashed write
    assert [v.version for v in ws.versions("web")] == ["v1", "v2", "v10"]
    assert ws.dataset("web").version == "v10"
    assert ws.next_version("web") == "v11"
    con = ws.connect()
    assert con.execute('SELECT id FROM "web"').fetchall() == [("v10",)]
    assert con.execute('SELECT id FROM "web@v2"').fetchall() == [("v2",)]


def test_unknown_dataset_and_version_name_what_exists(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    with pytest.raises(WinnowError, match="no dataset 'nope'.*winnow curate run"):
        ws.dataset("nope")


@pytest.mark.parametrize("name", ["has space", "a@b", "../up", ""])
def test_bad_dataset_names_are_refused(name: str) -> None:
    with pytest.raises(WinnowError, match="not allowed"):
        check_name(name)
