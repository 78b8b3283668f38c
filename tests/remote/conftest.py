"""A moto S3 server on 127.0.0.1 for the session, and per-test buckets seen through the usual
AWS environment variables (endpoint, dummy keys, region)."""

from __future__ import annotations

import gzip
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import fsspec
import polars as pl
import pytest
from moto.server import ThreadedMotoServer

CC_FILE = "web/CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
CC_LINES = 300
"""Rows of the real Common Crawl file used, to keep the remote tests fast."""

BAD_LINES = b"\n".join(
    [
        b'{"text": "A plain sentence about rivers and the towns that grew beside them."}',
        b'{"text": "cut off',
        b"[1, 2, 3]",
        b'{"id": "no-text", "title": "a row without the text field"}',
        b'{"text": "Another sentence long enough to be kept by most of the quality rules here."}',
    ]
)
"""A small JSON Lines file whose lines 2, 3 and 4 must be quarantined."""

AWS_VARIABLES = ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The endpoint URL of a moto S3 server bound to 127.0.0.1, stopped after the session."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Bucket:
    """A fresh bucket on the moto server, and the fsspec filesystem to fill it."""

    name: str
    fs: fsspec.AbstractFileSystem

    def url(self, key: str = "") -> str:
        """The s3:// URL of a key in this bucket."""
        return f"s3://{self.name}/{key}"

    def put(self, key: str, data: bytes) -> str:
        """Upload bytes to a key; return its URL."""
        self.fs.pipe_file(f"{self.name}/{key}", data)
        return self.url(key)

    def put_tree(self, folder: Path, prefix: str) -> str:
        """Upload every file of a local folder under a prefix; return the prefix URL."""
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                self.put(f"{prefix}/{path.relative_to(folder).as_posix()}", path.read_bytes())
        return self.url(prefix + "/")

    def keys(self, prefix: str = "") -> list[str]:
        """Every key under a prefix, relative to it, freshly listed."""
        root = f"{self.name}/{prefix}".rstrip("/")
        self.fs.invalidate_cache()
        return sorted(p.removeprefix(root + "/") for p in self.fs.find(root))


@pytest.fixture()
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Bucket:
    """A new bucket, with the AWS environment pointing at the moto server for this test."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "winnow-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "winnow-test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    name = f"winnow-{secrets.token_hex(4)}"
    fs.mkdir(name)
    return Bucket(name, fs)


@pytest.fixture(scope="session")
def local_data(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local folder with `web/` (the first 300 real Common Crawl rows as .jsonl.gz and a file
    with bad lines) and `parquet/` (the same rows as one Parquet file)."""
    root = tmp_path_factory.mktemp("local")
    (root / "web").mkdir()
    (root / "parquet").mkdir()
    with gzip.open(shared_data / CC_FILE, "rb") as stream:
        lines = b"".join(next(stream) for _ in range(CC_LINES))
    (root / "web" / "cc.jsonl.gz").write_bytes(gzip.compress(lines, mtime=0))
    (root / "web" / "bad.jsonl").write_bytes(BAD_LINES + b"\n")
    pl.read_ndjson(lines).write_parquet(root / "parquet" / "cc.parquet")
    return root
