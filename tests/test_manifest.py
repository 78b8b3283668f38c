"""The manifest's content fingerprint: one vectorized read gives what hashing row by row gave."""

import json
from pathlib import Path

import polars as pl
import xxhash

from tests.conftest import SHARED_DATA
from winnow.manifest import kept_content


def row_by_row(files: list[Path]) -> str:
    """The fingerprint's definition: xxh3-128 of `id \\x1f text \\x1e` for each row in order."""
    digest = xxhash.xxh3_128()
    for path in files:
        for doc_id, text in pl.read_parquet(path, columns=["id", "text"]).iter_rows():
            digest.update(f"{doc_id}\x1f{text}\x1e".encode())
    return digest.hexdigest()


def test_fingerprint_and_text_bytes_match_the_row_by_row_definition(tmp_path: Path) -> None:
    lines = (SHARED_DATA / "web" / "c4_demo.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines]
    parts = [
        pl.DataFrame({"id": [f"c4-{i}" for i in range(150)], "text": texts[:150]}),
        pl.DataFrame({"id": ["x", None, "한국어"], "text": [None, "", "정부는 ünï \x1f"]}),
        pl.DataFrame(schema={"id": pl.Utf8, "text": pl.Utf8}),
        pl.DataFrame({"id": [f"c4-{i}" for i in range(150, 300)], "text": texts[150:300]}),
    ]
    files = []
    for n, part in enumerate(parts):
        files.append(tmp_path / f"part-{n}.parquet")
        part.write_parquet(files[-1], row_group_size=64)
    text_bytes = sum(len(t.encode()) for t in texts[:300]) + len("정부는 ünï \x1f".encode())
    assert kept_content(files) == (row_by_row(files), text_bytes)
    assert kept_content([]) == (xxhash.xxh3_128().hexdigest(), 0)
