"""Failures a user can cause or meet end in one clear line (the path or key, what was expected,
what to do), a non-zero exit code, and nothing half-written left behind (issue 18).

Storage failures are tested twice where the machine allows: simulated in-process (the write
raises the error the operating system or Polars raises, which always runs), and for real in a
private mount namespace (`unshare -m`: a read-only bind mount, a tmpfs that fills up), skipped
where mounting is not permitted. Running as root, chmod would not stop a write, so neither
test relies on file modes."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.cli_helpers import run_cli_streams as winnow
from tests.workspaces import Small
from winnow.commands.demo import DEMO_SAMPLE
from winnow.errors import WinnowError
from winnow.workspace import NAME_MAX, Workspace, check_name

DEDUP = "steps:\n  - step: exact_dedup\n"
"""A one-step recipe: quick, and it keeps the text as written."""


def one_line(code: int, err: str) -> str:
    """The single `error:` line of a failed command (exit code 2, no traceback)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, (code, err)
    assert lines[0].startswith("error: ") and lines[0].endswith("."), lines[0]
    return lines[0]


def recipe(tmp_path: Path) -> str:
    """The one-step recipe as a file."""
    path = tmp_path / "dedup.yaml"
    path.write_text(DEDUP)
    return str(path)


def leftovers(root: Path) -> list[str]:
    """Staged or temporary names under a folder: what a failed write must not leave."""
    if not root.exists():
        return []
    marks = (".partial-", "final", ".tmp", ".winnow-export-")
    return sorted(str(p) for p in root.rglob("*") if any(m in p.name for m in marks))


# --- the workspace path -------------------------------------------------------------------


def test_workspace_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A workspace path that is a file, or lies under one, is refused before any write."""
    afile = tmp_path / "notes.txt"
    afile.write_text("not a folder")
    args = ["curate", "run", recipe(tmp_path), "--source", str(DEMO_SAMPLE), "--output", "web"]
    line = one_line(*winnow(capsys, *args, "-w", str(afile))[::2])
    assert f"workspace {afile} is a file, not a folder" in line and "--workspace" in line
    line = one_line(*winnow(capsys, "data", "list", "-w", str(afile / "ws"))[::2])
    assert f"lies under {afile}, which is a file" in line
    assert afile.read_text() == "not a folder"


# --- read-only and full storage, simulated -------------------------------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.EROFS, "the filesystem is read-only"), (errno.EACCES, "permission is denied")],
)
def test_unwritable_workspace_simulated(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    words: str,
) -> None:
    """Simulated: every folder creation under the workspace raises the OSError a read-only
    mount (EROFS) or a folder without write permission (EACCES) raises; one line names the
    folder, nothing is written."""
    home = tmp_path / "ws"
    home.mkdir()
    mkdir = Path.mkdir

    def refused(self: Path, *args: object, **kwargs: object) -> None:
        if self.is_relative_to(home):
            raise OSError(code, os.strerror(code), str(self))
        mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", refused)
    args = ["curate", "run", recipe(tmp_path), "--source", str(DEMO_SAMPLE), "--output", "web"]
    line = one_line(*winnow(capsys, *args, "-w", str(home))[::2])
    assert f"{home / 'datasets'}" in line and words in line and "--workspace" in line
    assert list(home.iterdir()) == []


def test_disk_full_at_the_manifest_removes_the_staged_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated: the rename that completes manifest.json raises ENOSPC, as a full disk does.
    The staged version (final/) and the temporary file are removed, the line names the file
    and says the disk is full, and a rerun (disk freed) resumes and finishes."""
    home = tmp_path / "ws"
    replace = os.replace

    def full(src: object, dst: object, *args: object, **kwargs: object) -> None:
        if Path(str(dst)).name == "manifest.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        replace(src, dst, *args, **kwargs)  # type: ignore[arg-type]

    args = ["curate", "run", recipe(tmp_path), "--source", str(DEMO_SAMPLE), "--output", "web"]
    monkeypatch.setattr(os, "replace", full)
    line = one_line(*winnow(capsys, *args, "-w", str(home))[::2])
    monkeypatch.setattr(os, "replace", replace)
    assert "cannot write" in line and "the disk is full (no space left on device)" in line
    assert "/final/manifest.json" in line and str(home / "datasets" / "web") in line
    assert Workspace(home).versions("web") == [] and leftovers(home) == []
    code, out, err = winnow(capsys, *args, "-w", str(home))
    assert code == 0, err
    assert Workspace(home).dataset("web").version == "v1" and leftovers(home) == []


def test_disk_full_in_a_polars_write_removes_the_staged_version(
    shared_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Simulated: Polars' Parquet writer raises the error it raises on a full disk (a
    ComputeError carrying the OS text, no errno). The preference set's staged version is
    removed; the line names the shard and says the disk is full."""
    home = tmp_path / "ws"

    def full(self: pl.DataFrame, file: object, *args: object, **kwargs: object) -> None:
        raise pl.exceptions.ComputeError(
            "parquet: File out of specification: underlying IO error: No space left on device "
            "(os error 28)"
        )

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full)
    pairs = str(shared_data / "preference" / "dpo_en_demo.json")
    args = ["curate", "preference", "--source", pairs, "--output", "p", "-w", str(home)]
    line = one_line(*winnow(capsys, *args)[::2])
    assert "cannot write" in line and "part-00000.parquet" in line
    assert "the disk is full" in line and str(home / "datasets" / "p") in line
    assert Workspace(home).versions("p") == [] and leftovers(home) == []


# --- read-only and full storage, for real in a private mount namespace --------------------


def namespaced(script: str) -> subprocess.CompletedProcess[str]:
    """Run a shell script in a mount namespace of its own: its mounts vanish with it."""
    return subprocess.run(
        ["unshare", "-m", "sh", "-euc", script], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def mounts(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Skip unless this process may mount in a namespace of its own (root, CAP_SYS_ADMIN)."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare command")
    probe = tmp_path_factory.mktemp("probe")
    done = namespaced(f"mount -t tmpfs -o size=16k tmpfs {probe}")
    if done.returncode != 0:
        pytest.skip(f"mounting is not permitted here: {done.stderr.strip()}")


def test_real_read_only_and_full_disk(
    mounts: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """For real: a workspace on a read-only bind mount can be listed but not written (one
    line), and an export onto a full tmpfs leaves neither the file nor its staging folder."""
    home = tmp_path / "ws"
    args = ["curate", "run", recipe(tmp_path), "--source", str(DEMO_SAMPLE), "--output", "web"]
    assert winnow(capsys, *args, "-w", str(home))[0] == 0
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    cli = f"{sys.executable} -m winnow"
    script = f"""
mount --bind {home} {home} && mount -o remount,ro,bind {home}
{cli} data list -w {home} > /dev/null
set +e
{cli} curate run {recipe(tmp_path)} --source {DEMO_SAMPLE} --output again -w {home} \
    2> {tmp_path}/ro.err
echo "ro=$?"
mount -t tmpfs -o size=4k tmpfs {tiny}
{cli} data export web -o {tiny}/web.jsonl -w {home} 2> {tmp_path}/full.err
echo "full=$?"
echo "left=$(ls -A {tiny})"
"""
    done = namespaced(script)
    assert done.returncode == 0, done.stderr
    assert "ro=2" in done.stdout and "full=2" in done.stdout, done.stdout
    line = one_line(2, (tmp_path / "ro.err").read_text())
    assert str(home / "datasets" / "again") in line and "the filesystem is read-only" in line
    line = one_line(2, (tmp_path / "full.err").read_text())
    assert f"cannot write {tiny}/web.jsonl: the disk is full" in line
    assert "left=\n" in done.stdout  # no file, no staging folder on the full disk
    assert Workspace(home).versions("again") == []


# --- names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("web\n", "is not allowed; use letters"),
        ("a" * (NAME_MAX + 1), f"has {NAME_MAX + 1} characters"),
        ("[red]x:x:", "is not allowed; use letters"),
    ],
)
def test_names_with_a_newline_or_too_long_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, words: str
) -> None:
    """A trailing newline no longer passes the `$` of the pattern; a name over NAME_MAX is
    refused; the line shows the name escaped, so it stays one line of plain text."""
    with pytest.raises(WinnowError, match="is not allowed"):
        check_name(name)
    home = tmp_path / "ws"
    args = ["curate", "run", recipe(tmp_path), "--source", str(DEMO_SAMPLE), "--output", name]
    line = one_line(*winnow(capsys, *args, "-w", str(home))[::2])
    assert words in line and "[red]x:x:" in line if name.startswith("[") else words in line
    assert not (home / "datasets").exists()
    assert check_name("a" * NAME_MAX) == "a" * NAME_MAX


# --- evaluate: checked before the run folder ------------------------------------------------


@pytest.fixture()
def model_home(tmp_path: Path) -> tuple[Path, Path]:
    """A workspace with one small dataset, and a model folder with a config (nothing in it
    is loaded: every check below fails before the model is)."""
    home = tmp_path / "ws"
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return home, folder


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--model", "./no/such/model", "--suite", "core"], "--model ./no/such/model: no such"),
        (["--tasks", "winnow_arc_easy,no_such_task"], "--tasks no_such_task: no such lm-eval"),
        (["--suite", "core", "--perplexity", "nope"], "--perplexity nope: no dataset 'nope'"),
    ],
)
def test_evaluate_checks_before_the_run_folder(
    model_home: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    words: str,
) -> None:
    """A missing model path, an unknown task and an unknown --perplexity set are one line, and
    no (failed) eval run folder is left in runs/."""
    home, folder = model_home
    (home / "runs" / "earlier").mkdir(parents=True)
    monkeypatch.chdir(folder.parent)
    model = [] if "--model" in extra else ["--model", str(folder)]
    line = one_line(*winnow(capsys, "evaluate", *model, *extra, "-w", str(home))[::2])
    assert words in line
    assert [p.name for p in (home / "runs").iterdir()] == ["earlier"]


# --- one damaged Parquet file ----------------------------------------------------------------


@pytest.fixture()
def damaged(small: Small, tmp_path: Path) -> tuple[Workspace, Path]:
    """A copy of the small workspace whose preference set has a shard cut to garbage."""
    ws = small.copy(tmp_path / "ws").ws
    shard = sorted((ws.dataset("pairs").path / "kept").glob("*.parquet"))[0]
    shard.write_bytes(b"PAR1 not really")
    return ws, shard


def test_damaged_file_does_not_block_other_datasets(
    damaged: tuple[Workspace, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """head, sql and export of the other datasets work (sql warns, naming the damaged file);
    asked for, the damaged one is one line naming its file, and its export leaves nothing."""
    ws, shard = damaged
    w = ["-w", str(ws.root)]
    code, out, err = winnow(capsys, "data", "head", "web", "-n", "2", *w)
    assert code == 0 and "web@v1 kept" in out and err == ""
    code, out, err = winnow(capsys, "data", "sql", "SELECT count(*) AS n FROM web", *w)
    assert code == 0 and re.search(r"│ \d+ │", out)
    assert "warning:" in err and str(shard) in err and "pairs@v1" in err
    target = tmp_path / "out" / "web.parquet"
    code, out, err = winnow(capsys, "data", "export", "web", "-o", str(target), *w)
    assert code == 0 and pl.read_parquet(target).height > 0

    for args in (
        ["data", "head", "pairs"],
        ["data", "sql", "SELECT count(*) FROM pairs"],
        ["data", "export", "pairs", "-o", str(tmp_path / "out" / "pairs.jsonl")],
        ["data", "export", "pairs", "--format", "trl", "-o", str(tmp_path / "out" / "t.jsonl")],
    ):
        code, out, err = winnow(capsys, *args, *w)
        line = one_line(code, "\n".join(x for x in err.splitlines() if "warning:" not in x))
        assert f"{shard}: not a readable Parquet file" in line and "pairs@v1" in line, line
        assert "restore the file" in line
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["web.parquet"]


def test_damaged_manifest_is_one_line_and_listed(
    small: Small, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A manifest.json cut short: `data list` still lists the rest and warns; `data show`
    names the file."""
    ws = small.copy(tmp_path / "ws").ws
    manifest = ws.dataset("pairs").path / "manifest.json"
    manifest.write_text('{"name": ')
    code, out, err = winnow(capsys, "data", "list", "-w", str(ws.root))
    assert code == 0 and "web@v1" in out and "damaged" in out and str(manifest) in err
    line = one_line(*winnow(capsys, "data", "show", "pairs", "-w", str(ws.root))[::2])
    assert f"{manifest}: not a readable manifest" in line


# --- data printed literally; sql --format --------------------------------------------------


@pytest.fixture()
def odd(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A workspace with a dataset whose text holds an emoji code, markup, and a wide row."""
    source = tmp_path / "odd.jsonl"
    rows = [
        {"id": "emoji", "text": "it failed :x: twice"},
        {"id": "markup", "text": "see [red]x[/red] and [bold]y"},
        {"id": "wide", "text": "word " * 2000},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    home = tmp_path / "ws"
    args = ["curate", "run", recipe(tmp_path), "--source", str(source), "--output", "odd"]
    assert winnow(capsys, *args, "-w", str(home))[0] == 0
    return home


def test_data_is_printed_literally(odd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`:x:` and `[red]x[/red]` in data are shown as typed, not as an emoji or as colour."""
    for args in (["data", "head", "odd"], ["data", "sql", "SELECT id, text FROM odd"]):
        code, out, err = winnow(capsys, *args, "-w", str(odd))
        assert code == 0, err
        assert ":x:" in out and "❌" not in out
        assert "[red]x[/red]" in out and "[bold]y" in out


def test_sql_formats_keep_wide_values_whole(odd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """csv: a header and every row through the csv module; json: one object per line; both
    keep the 10,000-character value whole, where the table shortens it."""
    query = "SELECT id, text, length(text) AS n FROM odd ORDER BY id"
    code, out, err = winnow(capsys, "data", "sql", query, "--format", "csv", "-w", str(odd))
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["id", "text", "n"] and [r[0] for r in rows[1:]] == [
        "emoji",
        "markup",
        "wide",
    ]
    assert rows[1][1] == "it failed :x: twice" and rows[3][1] == "word " * 2000
    code, out, err = winnow(capsys, "data", "sql", query, "--format", "json", "-w", str(odd))
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in records] == ["emoji", "markup", "wide"]
    assert records[1]["text"] == "see [red]x[/red] and [bold]y" and records[2]["n"] == 10_000
    code, out, err = winnow(capsys, "data", "sql", query, "--format", "json", "--limit", "1",
                            "-w", str(odd))  # fmt: skip
    assert code == 0 and len(out.splitlines()) == 1
    code, out, err = winnow(capsys, "data", "sql", query, "-w", str(odd))
    assert code == 0 and "word " * 2000 not in out
    line = one_line(*winnow(capsys, "data", "sql", query, "--format", "xml", "-w", str(odd))[::2])
    assert "--format 'xml' is unknown; use one of: table, csv, json" in line


# --- other bad input to the data commands -----------------------------------------------------


def test_other_bad_data_input_is_one_line(
    odd: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown version or split, a query that fails while rows are read, an export under a
    file or onto a folder: one line each; an existing file is replaced whole."""
    w = ["-w", str(odd)]
    line = one_line(*winnow(capsys, "data", "show", "odd@v7", *w)[::2])
    assert "dataset 'odd' has no version 'v7'; it has: v1" in line
    line = one_line(*winnow(capsys, "data", "head", "odd", "--split", "kep", *w)[::2])
    assert "--split 'kep' is unknown" in line
    line = one_line(*winnow(capsys, "data", "sql", "SELECT 'x'::int", *w)[::2])
    assert "the query failed: Conversion Error" in line
    target = tmp_path / "odd.jsonl"
    target.write_text("replaced only when the new file is whole")
    under = target / "x.jsonl"
    line = one_line(*winnow(capsys, "data", "export", "odd", "-o", str(under), *w)[::2])
    assert f"--output {under}: {target} is a file" in line
    code, out, err = winnow(capsys, "data", "export", "odd", "-o", str(target), *w)
    assert code == 0 and len(target.read_text().splitlines()) == 3
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    line = one_line(*winnow(capsys, "data", "export", "odd", "-o", str(folder), *w)[::2])
    assert "is a folder; give a file name in it instead" in line
    assert leftovers(tmp_path) == []
