"""Remote failures end in one sentence naming the URL, what went wrong and what to do."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.remote.conftest import Bucket
from winnow.remote import PROXY_VARIABLES


def curate(capsys: pytest.CaptureFixture[str], source: str) -> tuple[int, str]:
    """`winnow curate run web-en` over a source into `out`."""
    return run_cli(capsys, "curate", "run", "web-en", "--source", source, "--output", "out")


def assert_sentence(code: int, out: str, *parts: str) -> None:
    """A refused command: exit code 2, no traceback, and the expected words."""
    assert code == 2 and "Traceback" not in out, out
    for part in parts:
        assert part in out, out


def test_missing_bucket_key_or_prefix(
    bucket: Bucket, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for url in (
        bucket.url("missing.jsonl"),
        bucket.url("missing/"),
        "s3://winnow-no-such-bucket/web/",
    ):
        code, out = curate(capsys, url)
        assert_sentence(code, out, url, "no such bucket, object or prefix", "check the URL")
    code, out = run_cli(capsys, "data", "push", "nothing", bucket.url("x"))
    assert_sentence(code, out, "no dataset 'nothing'")


def test_missing_credentials_and_unreachable_endpoint(
    bucket: Bucket, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    url = bucket.put("web/a.jsonl", b'{"text": "x"}\n')
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    code, out = curate(capsys, url)
    assert_sentence(code, out, url, "access was refused", "AWS_ACCESS_KEY_ID")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "winnow-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "winnow-test")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    code, out = curate(capsys, url)
    assert_sentence(code, out, url, "could not be reached", "(AWS_ENDPOINT_URL)")


def test_a_missing_filesystem_package_or_protocol(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "gcsfs", None)
    loaded = importlib.import_module("fsspec.registry")._registry
    for name in ("gs", "gcs"):
        monkeypatch.delitem(loaded, name, raising=False)
    code, out = curate(capsys, "gs://bucket/web/")
    assert_sentence(code, out, "gs://bucket/web/", "needs the 'gcsfs' package", "pip install")
    code, out = curate(capsys, "nope://bucket/web/")
    assert_sentence(code, out, "'nope://' is not a protocol")
    if importlib.util.find_spec("adlfs") is None:
        code, out = curate(capsys, "abfs://container/web/")
        assert_sentence(code, out, "needs the 'adlfs' package")


def test_gs_without_a_reachable_host_fails_fast(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://winnow-test.invalid:9")
    code, out = curate(capsys, "gs://bucket/web/")
    # this sentence comes from the check made before gcsfs, which would retry for about 48 s
    assert_sentence(code, out, "gs://bucket/web/", "winnow-test.invalid cannot be resolved")


def test_an_object_store_workspace_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_cli(capsys, "data", "list", "-w", "s3://bucket/workspace")
    assert_sentence(code, out, "s3://bucket/workspace", "atomic renames", "winnow data push")
    monkeypatch.setenv("WINNOW_HOME", "gs://bucket/workspace")
    code, out = run_cli(capsys, "data", "list")
    assert_sentence(code, out, "gs://bucket/workspace", "mount the bucket")
    code, out = run_cli(capsys, "data", "list", "-w", (tmp_path / "ws").as_uri())
    assert code == 0 and str(tmp_path / "ws") in out, out
    code, out = run_cli(capsys, "data", "list", "-w", "file://host/ws")
    assert_sentence(code, out, "file:///abs/path")
