"""Exports and pushes to a moto S3 server, read back and compared with the local version."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
import s3fs

from tests.cli_helpers import run_cli
from tests.remote.conftest import Bucket
from winnow import remote
from winnow.curate.recipes import load_recipe
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import iter_documents, resolve_source
from winnow.workspace import DatasetVersion, Workspace


@pytest.fixture(scope="module")
def curated(local_data: Path, tmp_path_factory: pytest.TempPathFactory) -> DatasetVersion:
    """The local web folder curated with web-en into a workspace of its own, as `web@v1`."""
    ws = Workspace(tmp_path_factory.mktemp("curated") / "workspace")
    source = resolve_source(str(local_data / "web"))
    return run_recipe(ws, load_recipe("web-en"), source, "web", RunOptions())


@pytest.fixture()
def ws(curated: DatasetVersion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A private copy of the curated workspace, set as WINNOW_HOME."""
    root = tmp_path / "workspace"
    shutil.copytree(curated.path.parents[2], root)
    monkeypatch.setenv("WINNOW_HOME", str(root))
    return Workspace(root)


def local_files(version: DatasetVersion) -> list[str]:
    """Every file of a version folder, relative to it."""
    return sorted(p.relative_to(version.path).as_posix() for p in version.path.rglob("*.*"))


def test_export_writes_straight_to_s3(
    ws: Workspace, bucket: Bucket, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, fmt in (("kept.parquet", "plain"), ("rejected.jsonl", "plain"), ("trl.jsonl", "trl")):
        split = "rejected" if name.startswith("rejected") else "kept"
        args = ("data", "export", "web", "--split", split, "--format", fmt)
        code, out = run_cli(capsys, *args, "--output", bucket.url(f"exports/{name}"))
        assert code == 0 and f"to {bucket.url(f'exports/{name}')}" in out, out
        code, out = run_cli(capsys, *args, "--output", str(tmp_path / name))
        assert code == 0, out
    assert bucket.keys("exports") == ["kept.parquet", "rejected.jsonl", "trl.jsonl"]
    with bucket.fs.open(f"{bucket.name}/exports/kept.parquet", "rb") as stream:
        kept = pl.from_arrow(pq.read_table(stream))
    assert isinstance(kept, pl.DataFrame) and kept.height > 20
    assert kept.equals(pl.read_parquet(tmp_path / "kept.parquet"))
    for name in ("rejected.jsonl", "trl.jsonl"):
        uploaded = bucket.fs.cat_file(f"{bucket.name}/exports/{name}")
        assert uploaded == (tmp_path / name).read_bytes() and uploaded.count(b"\n") > 20

    code, out = run_cli(capsys, "data", "export", "web", "--format", "hf", "-o", bucket.url("hf"))
    assert code == 0, out
    assert {"dataset_info.json", "state.json"} <= set(bucket.keys("hf"))
    code, out = run_cli(capsys, "data", "export", "web", "--format", "hf", "-o", bucket.url("hf"))
    assert code == 2 and "already holds files" in out
    lf = bucket.url("lf/web.json")
    code, out = run_cli(capsys, "data", "export", "web", "--format", "llama-factory", "-o", lf)
    assert code == 2 and "needs a local folder" in out and not bucket.keys("lf")


@pytest.mark.filterwarnings("ignore:.*is empty; no documents")
def test_push_copies_the_version_with_the_manifest_last(
    ws: Workspace,
    bucket: Bucket,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    version = ws.dataset("web")
    uploaded: list[str] = []
    upload_file = remote.upload_file

    def recording(fs, local: Path, path: str) -> None:  # noqa: ANN001
        uploaded.append(path.rsplit("/web/v1/", 1)[-1])
        upload_file(fs, local, path)

    monkeypatch.setattr(remote, "upload_file", recording)
    code, out = run_cli(capsys, "data", "push", "web", bucket.url("datasets"))
    assert code == 0 and "pushed" in out, out
    assert uploaded[-1] == "manifest.json" and sorted(uploaded) == local_files(version)
    assert bucket.keys("datasets/web/v1") == local_files(version), "no temporary keys left"
    manifest = json.loads(bucket.fs.cat_file(f"{bucket.name}/datasets/web/v1/manifest.json"))
    assert manifest == version.manifest
    for split in ("kept", "rejected", "quarantine"):
        for path in sorted((version.path / split).glob("*.parquet")):
            key = f"{bucket.name}/datasets/web/v1/{split}/{path.name}"
            table = pq.read_table(io.BytesIO(bucket.fs.cat_file(key)))
            assert table.equals(pq.read_table(path))

    code, out = run_cli(capsys, "data", "push", "web@v1", bucket.url("datasets"))
    assert code == 0 and "already at" in out, out

    kept = bucket.url("datasets/web/v1/kept/")
    docs = pl.concat([b.docs for b in iter_documents(resolve_source(kept))])
    shards = sorted((version.path / "kept").glob("*.parquet"))
    local = pl.concat([pl.read_parquet(p) for p in shards], how="diagonal_relaxed")
    assert docs.select("id", "text").equals(local.select("id", "text"))
    code, out = run_cli(capsys, "curate", "run", "web-en", "--source", kept, "--output", "again")
    assert code == 0, out
    assert ws.dataset("again").manifest["counts"]["input"] == local.height


def test_an_interrupted_push_leaves_no_manifest(
    ws: Workspace,
    bucket: Bucket,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls = []
    put_file = s3fs.S3FileSystem._put_file

    async def failing(self, lpath, rpath, **kwargs):  # noqa: ANN001, ANN202
        calls.append(rpath)
        if len(calls) == 3:
            raise ConnectionResetError("connection reset by peer")
        return await put_file(self, lpath, rpath, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "_put_file", failing)
    code, out = run_cli(capsys, "data", "push", "web", bucket.url("datasets"))
    assert code == 2 and "could not be reached (connection reset by peer)" in out, out
    assert "Traceback" not in out and len(calls) == 3
    keys = bucket.keys("datasets/web/v1")
    assert len(keys) == 2 and "manifest.json" not in keys, "a half version has no manifest"
    assert not any(k.rsplit("/", 1)[-1].startswith(".") for k in keys), "temporary key removed"
