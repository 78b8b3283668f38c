"""URL sources on a moto S3 server read exactly like the same files on local disk."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest

from tests.cli_helpers import run_cli
from tests.remote.conftest import BAD_LINES, Bucket
from winnow.curate.sources import iter_documents, resolve_source
from winnow.errors import WinnowError
from winnow.workspace import Workspace


def read_split(ws: Path, name: str, split: str) -> pl.DataFrame:
    """All shards of one split of NAME@v1, in shard order."""
    files = sorted((ws / "datasets" / name / "v1" / split).glob("*.parquet"))
    return pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")


def docs_of(source: str, batch_rows: int = 100) -> tuple[list[str], pl.DataFrame, pl.DataFrame]:
    """Shard keys, docs and quarantine rows of a source, as the runner reads them."""
    batches = list(iter_documents(resolve_source(source), batch_rows=batch_rows))
    docs = pl.concat([b.docs for b in batches], how="diagonal_relaxed")
    quarantine = pl.concat([b.quarantine for b in batches])
    return [b.shard_key for b in batches], docs, quarantine


def where_and_why(quarantine: pl.DataFrame) -> list[tuple[str, int, str]]:
    """Quarantine rows as (file name, line, error), the same wherever the file lives."""
    return [
        (row["source_file"].rsplit("/", 1)[-1], row["line"], row["error"])
        for row in quarantine.iter_rows(named=True)
    ]


def test_s3_prefix_curates_like_the_local_folder(
    bucket: Bucket, local_data: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = bucket.put_tree(local_data / "web", "crawl/web")
    for source, output in ((prefix, "remote"), (str(local_data / "web"), "local")):
        code, out = run_cli(
            capsys, "curate", "run", "web-en", "--source", source, "--output", output
        )
        assert code == 0, out
    kept = {n: read_split(workspace, n, "kept") for n in ("remote", "local")}
    assert kept["remote"].height > 20
    assert kept["remote"].select("id", "text").equals(kept["local"].select("id", "text"))
    assert kept["remote"]["source_file"].str.starts_with(prefix).all()
    manifests = {
        n: json.loads((workspace / "datasets" / n / "v1" / "manifest.json").read_text())
        for n in ("remote", "local")
    }
    assert manifests["remote"]["counts"] == manifests["local"]["counts"]
    assert manifests["remote"]["counts"]["input"] == 300 + 5
    assert manifests["remote"]["fingerprint"] == manifests["local"]["fingerprint"]
    steps = [{k: s[k] for k in ("step", "in", "out")} for s in manifests["remote"]["steps"]]
    assert steps == [{k: s[k] for k in ("step", "in", "out")} for s in manifests["local"]["steps"]]
    rejected = {n: read_split(workspace, n, "rejected") for n in ("remote", "local")}
    assert rejected["remote"].select("id", "step").equals(rejected["local"].select("id", "step"))
    quarantine = {n: read_split(workspace, n, "quarantine") for n in ("remote", "local")}
    assert where_and_why(quarantine["remote"]) == where_and_why(quarantine["local"])
    assert [r[:2] for r in where_and_why(quarantine["remote"])] == [
        ("bad.jsonl", 2),
        ("bad.jsonl", 3),
        ("bad.jsonl", 4),
    ]
    assert quarantine["remote"]["source_file"].to_list() == [prefix + "bad.jsonl"] * 3
    source = manifests["remote"]["source"]
    assert source["url"] == prefix and source["name"] == "web"
    assert source["files"] == [prefix + "bad.jsonl", prefix + "cc.jsonl.gz"]


def test_fingerprint_and_shard_keys_are_stable_across_reads(
    bucket: Bucket, local_data: Path
) -> None:
    prefix = bucket.put_tree(local_data / "web", "web")
    first = resolve_source(prefix).fingerprint()
    keys, docs, _ = docs_of(prefix)
    local_keys, local_docs, _ = docs_of(str(local_data / "web"))
    assert keys == local_keys and len(keys) == 4
    one_file = iter_documents(resolve_source(prefix), batch_rows=100, only=1)
    assert [b.shard_key for b in one_file] == [k for k in keys if k.startswith("00001-")]
    assert docs.select("id", "text").equals(local_docs.select("id", "text"))
    bucket.put("web/cc.jsonl.gz", (local_data / "web" / "cc.jsonl.gz").read_bytes())
    assert resolve_source(prefix).fingerprint() == first, "same bytes, same ETag: resumable"
    assert docs_of(prefix)[0] == keys
    bucket.put("web/bad.jsonl", b'{"text": "changed"}\n')
    assert resolve_source(prefix).fingerprint() != first, "new content must not resume"


def test_globs_single_objects_and_hidden_names(bucket: Bucket, local_data: Path) -> None:
    web = local_data / "web"
    bucket.put_tree(web, "crawl/2019")
    bucket.put("crawl/2019/.staging.jsonl", b'{"text": "hidden"}\n')
    bucket.put("crawl/2019/notes.md", b"# not a source format\n")
    bucket.put("crawl/2020/cc.jsonl.gz", (web / "cc.jsonl.gz").read_bytes())

    spec = resolve_source(bucket.url("crawl/2019/"))
    assert [f.name for f in spec.remote] == ["bad.jsonl", "cc.jsonl.gz"]

    spec = resolve_source(bucket.url("crawl/*/*.jsonl.gz"))
    assert [f.name for f in spec.remote] == ["2019/cc.jsonl.gz", "2020/cc.jsonl.gz"]
    assert spec.name == "*"

    _, docs, _ = docs_of(bucket.url("crawl/2019/*.jsonl.gz"))
    _, local_docs, _ = docs_of(str(web / "*.jsonl.gz"))
    assert docs.height == 300 and docs.select("id", "text").equals(local_docs.select("id", "text"))

    keys, docs, quarantine = docs_of(bucket.url("crawl/2019/bad.jsonl"))
    _, local_docs, local_quarantine = docs_of(str(web / "bad.jsonl"))
    assert docs.select("id", "text").equals(local_docs.select("id", "text")), "hashed ids match"
    assert where_and_why(quarantine) == where_and_why(local_quarantine)
    assert quarantine["source_file"].unique().to_list() == [bucket.url("crawl/2019/bad.jsonl")]
    assert keys == ["00000-00000"]


def test_parquet_prefix_and_catalog_entry_with_a_url(
    bucket: Bucket, local_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = bucket.put_tree(local_data / "parquet", "parquet")
    _, docs, quarantine = docs_of(prefix)
    _, local_docs, _ = docs_of(str(local_data / "parquet"))
    assert docs.height == 300 and quarantine.height == 0
    assert docs.drop("source_file").equals(local_docs.drop("source_file"))
    (tmp_path / "sources").mkdir()
    entry = tmp_path / "sources" / "remote-parquet.yaml"
    entry.write_text(f"path: {prefix}\nlicence: Apache-2.0\n")
    monkeypatch.setenv("WINNOW_CATALOGS", str(tmp_path))
    spec = resolve_source("remote-parquet")
    assert spec.name == "remote-parquet" and spec.licence == "Apache-2.0"
    assert spec.files() == [prefix + "cc.parquet"]


def test_a_saved_dataset_folder_or_an_empty_match_is_refused(bucket: Bucket) -> None:
    bucket.put("saved/dataset_info.json", b"{}")
    bucket.put("saved/data-00000-of-00001.arrow", b"arrow")
    with pytest.raises(WinnowError, match="saved with save_to_disk.*copy it to a local folder"):
        resolve_source(bucket.url("saved/"))
    bucket.put("other/readme.md", b"# nothing readable")
    with pytest.raises(WinnowError, match="holds no readable files"):
        resolve_source(bucket.url("other/"))
    with pytest.raises(WinnowError, match="matches no objects"):
        resolve_source(bucket.url("other/*.jsonl"))


def test_file_urls_are_local_paths(local_data: Path, tmp_path: Path) -> None:
    spec = resolve_source((local_data / "web").as_uri())
    assert spec.paths == resolve_source(str(local_data / "web")).paths and not spec.remote
    assert Workspace.resolve((tmp_path / "ws").as_uri()).root == (tmp_path / "ws").resolve()


@pytest.fixture()
def http_root(local_data: Path) -> Iterator[str]:
    """The local web folder served over HTTP on 127.0.0.1 for one test."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(local_data / "web"))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_objects_read_like_local_files(http_root: str, local_data: Path) -> None:
    for name in ("cc.jsonl.gz", "bad.jsonl"):
        keys, docs, quarantine = docs_of(f"{http_root}/{name}")
        local_keys, local_docs, local_quarantine = docs_of(str(local_data / "web" / name))
        assert keys == local_keys and docs.height in (2, 300)
        assert docs.select("id", "text").equals(local_docs.select("id", "text"))
        assert where_and_why(quarantine) == where_and_why(local_quarantine)
    spec = resolve_source(f"{http_root}/")
    assert [(f.name, f.size) for f in spec.remote] == [("bad.jsonl", len(BAD_LINES) + 1)] + [
        ("cc.jsonl.gz", (local_data / "web" / "cc.jsonl.gz").stat().st_size)
    ]
    assert all(f.stamp for f in spec.remote), "Last-Modified stands in for an ETag"
    with pytest.raises(WinnowError, match="missing.jsonl: no such bucket, object or prefix"):
        resolve_source(f"{http_root}/missing.jsonl")


@pytest.mark.parametrize(
    ("shared", "options"),
    [
        ("web/wiki_demo.txt", {}),
        ("web/warc/sample-0001.warc.gz", {}),
        ("korean/ChatbotData.csv", {"text_field": "A"}),
        ("instruct/alpaca_en_demo.json", {"text_field": "output"}),
    ],
)
def test_every_format_reads_the_same_from_s3(
    bucket: Bucket, shared_data: Path, tmp_path: Path, shared: str, options: dict[str, str]
) -> None:
    data = (shared_data / shared).read_bytes()
    if shared.endswith((".csv", ".json")):
        data = data[: data.index(b"\n", 20_000) + 1]
        data = data if shared.endswith(".csv") else data.rstrip().rstrip(b",") + b"\n]"
    name = shared.rsplit("/", 1)[-1]
    (tmp_path / name).write_bytes(data)
    url = bucket.put(f"formats/{name}", data)
    batches = list(iter_documents(resolve_source(url, **options), batch_rows=50))
    local = list(iter_documents(resolve_source(str(tmp_path / name), **options), batch_rows=50))
    assert [b.shard_key for b in batches] == [b.shard_key for b in local]
    docs = pl.concat([b.docs for b in batches], how="diagonal_relaxed")
    local_docs = pl.concat([b.docs for b in local], how="diagonal_relaxed")
    assert docs.height > 10 and docs.drop("source_file").equals(local_docs.drop("source_file"))
    quarantine = pl.concat([b.quarantine for b in batches])
    assert where_and_why(quarantine) == where_and_why(pl.concat([b.quarantine for b in local]))
