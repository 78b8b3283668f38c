"""numba keeps compiled kernels in a per-user cache folder, never beside the source: $WINNOW_CACHE
or the XDG cache, unless the user set NUMBA_CACHE_DIR, which wins. Each check runs in a fresh
interpreter, since numba reads its folder when it is first imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import winnow
from winnow.numba_cache import default_dir

SOURCE = Path(winnow.__file__).resolve().parent
"""The winnow package's source folder, where numba's own default would put the kernels."""

CACHED = """
import json, numba
from winnow.curate.text.hashing import table_bits
print(json.dumps([numba.config.CACHE_DIR, table_bits._cache._cache_path]))
"""
"""Code that prints numba's folder and where one of winnow's kernels is cached."""


def run(code: str, **env: str | None) -> list[str]:
    """Run `code` with the cache variables unset but for `env`; return the JSON it prints."""
    names = ("NUMBA_CACHE_DIR", "WINNOW_CACHE", "XDG_CACHE_HOME")
    environ = {k: v for k, v in os.environ.items() if k not in names}
    environ.update({k: v for k, v in env.items() if v is not None})
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def outside_source(path: str) -> bool:
    """Whether a folder lies outside the winnow source tree."""
    return not Path(path).resolve().is_relative_to(SOURCE)


def test_winnow_cache(tmp_path: Path) -> None:
    """$WINNOW_CACHE is winnow's cache root: numba's kernels go to its numba/ folder."""
    folder, kernel = run(CACHED, WINNOW_CACHE=str(tmp_path))
    assert folder == str(tmp_path / "numba")
    assert Path(kernel).is_relative_to(tmp_path / "numba") and outside_source(kernel)


def test_xdg_then_home(tmp_path: Path) -> None:
    """Without WINNOW_CACHE: $XDG_CACHE_HOME/winnow/numba, else ~/.cache/winnow/numba."""
    folder, _ = run(CACHED, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    assert folder == str(tmp_path / "xdg" / "winnow" / "numba")
    folder, kernel = run(CACHED, HOME=str(tmp_path / "home"))
    assert folder == str(tmp_path / "home" / ".cache" / "winnow" / "numba")
    assert outside_source(kernel)


def test_user_setting_wins(tmp_path: Path) -> None:
    """A NUMBA_CACHE_DIR the user set is kept, WINNOW_CACHE or not."""
    mine = str(tmp_path / "mine")
    folder, kernel = run(CACHED, NUMBA_CACHE_DIR=mine, WINNOW_CACHE=str(tmp_path / "other"))
    assert folder == mine and Path(kernel).is_relative_to(mine)


def test_numba_imported_first(tmp_path: Path) -> None:
    """When numba was imported before winnow (so it read no folder), winnow still sets it."""
    folder, kernel = run("import numba\n" + CACHED, WINNOW_CACHE=str(tmp_path))
    assert folder == str(tmp_path / "numba") and Path(kernel).is_relative_to(folder)


def test_compiled_kernel_lands_in_cache(tmp_path: Path) -> None:
    """Calling a kernel writes its index and code into the cache folder."""
    code = CACHED + "table_bits(100)\n"
    run(code, WINNOW_CACHE=str(tmp_path))
    written = {p.suffix for p in (tmp_path / "numba").rglob("*") if p.is_file()}
    assert {".nbi", ".nbc"} <= written


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"WINNOW_CACHE": "/w", "XDG_CACHE_HOME": "/x"}, "/w/numba"),
        ({"WINNOW_CACHE": "", "XDG_CACHE_HOME": "/x"}, "/x/winnow/numba"),
        ({"XDG_CACHE_HOME": ""}, os.path.expanduser("~/.cache/winnow/numba")),
    ],
)
def test_default_dir(environ: dict[str, str], expected: str) -> None:
    """The folder chosen from the environment, empty variables counting as unset."""
    assert default_dir(environ) == expected
