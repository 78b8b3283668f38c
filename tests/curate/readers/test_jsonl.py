"""JSON Lines and JSON arrays: real files, and every way a line can be unreadable."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import zstandard

from winnow.curate.readers.jsonl import JsonlReader, iter_line_blocks


def read_all(path: Path, batch_rows: int = 100) -> tuple[pl.DataFrame, pl.DataFrame, list[int]]:
    """All records and quarantined rows of a file, and the batch sizes."""
    batches = list(JsonlReader().read(path, batch_rows))
    records = pl.concat([b.records for b in batches], how="diagonal_relaxed")
    quarantine = pl.concat([b.quarantine for b in batches])
    return records, quarantine, [b.records.height + b.quarantine.height for b in batches]


def test_real_gz_file_reads_every_line_in_bounded_batches(shared_data: Path) -> None:
    path = shared_data / "web" / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
    records, quarantine, sizes = read_all(path, batch_rows=100)
    assert records.height == 697 and quarantine.height == 0
    assert max(sizes) == 100 and len(sizes) == 7
    assert records["__line"].to_list() == list(range(1, 698))
    assert records.schema["metadata"] == pl.Utf8
    assert json.loads(records["metadata"][0])["url"] == "16thfleet.wikidot.com/chatter:anewhome"


def test_c4_demo_plain_jsonl(shared_data: Path) -> None:
    records, quarantine, _ = read_all(shared_data / "web" / "c4_demo.jsonl", batch_rows=64)
    assert records.height == 300 and quarantine.height == 0
    assert records.columns == ["text", "__line"]


def test_json_array_of_instructions(shared_data: Path) -> None:
    records, quarantine, sizes = read_all(shared_data / "instruct" / "alpaca_en_demo.json", 250)
    assert records.height == 999 and quarantine.height == 0
    assert set(records.columns) == {"instruction", "input", "output", "__line"}
    assert records["__line"].to_list() == list(range(1, 1000))
    assert max(sizes) == 250


def test_bad_lines_are_quarantined_with_line_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b'{"id": "a", "text": "first"}\n'
        b'{"text": "broken\n'
        b'{"text": "caf\xe9"}\n'
        b"[1, 2]\n"
        b'{"text": "nested", "meta": {"k": [1, 2]}}\n'
        b'{"text": NaN}\n'
        b'"just a string"\n'
    )
    records, quarantine, _ = read_all(path, batch_rows=1000)
    assert records.height + quarantine.height == 7
    assert records["__line"].to_list() == [1, 5]
    assert records.filter(pl.col("__line") == 5)["meta"].item() == '{"k": [1, 2]}'
    errors = dict(zip(quarantine["line"], quarantine["error"], strict=True))
    assert errors == {
        2: "malformed JSON at column 10: Unterminated string starting at",
        3: "invalid UTF-8 at byte 14 of the line",
        4: "expected a JSON object, got a JSON array",
        6: "malformed JSON: NaN is not valid JSON",
        7: "expected a JSON object, got a JSON string",
    }
    assert quarantine.filter(pl.col("line") == 4)["raw"].item() == "[1, 2]"


def test_blank_lines_are_skipped_but_keep_numbering(tmp_path: Path) -> None:
    path = tmp_path / "gaps.jsonl"
    path.write_text('{"text": "a"}\n\n   \n{"text": "b"}\n')
    records, quarantine, _ = read_all(path)
    assert records["__line"].to_list() == [1, 4] and quarantine.height == 0


def test_zstd_and_gzip_give_the_same_records(tmp_path: Path) -> None:
    lines = "".join(json.dumps({"text": f"doc {i}", "n": i}) + "\n" for i in range(250))
    plain = tmp_path / "d.jsonl"
    plain.write_text(lines)
    (tmp_path / "d.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    (tmp_path / "d.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(lines.encode()))
    expected, _, _ = read_all(plain, 100)
    for name in ("d.jsonl.gz", "d.jsonl.zst"):
        records, quarantine, sizes = read_all(tmp_path / name, 100)
        assert records.equals(expected) and quarantine.height == 0
        assert sizes == [100, 100, 50]


def test_nested_fields_stay_text_across_batches(tmp_path: Path) -> None:
    path = tmp_path / "drift.jsonl"
    rows = [{"text": "a", "meta": {"x": 1}}, {"text": "b", "meta": {"y": "z"}}, {"text": "c"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    batches = list(JsonlReader().read(path, 1))
    assert [b.records.schema.get("meta") for b in batches] == [pl.Utf8, pl.Utf8, None]


def test_empty_file_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    assert list(JsonlReader().read(path, 10)) == []


def test_malformed_array_keeps_the_good_elements(tmp_path: Path) -> None:
    path = tmp_path / "arr.json"
    path.write_text('[{"text": "a"}, 3, {"text": "b"} {"text": "c"}]')
    records, quarantine, _ = read_all(path)
    assert records["__line"].to_list() == [1, 3]
    assert quarantine["line"].to_list() == [2, 4]
    assert quarantine["error"].to_list() == [
        "expected a JSON object, got a JSON number",
        "malformed JSON array: expected ',' or ']', found '{'; rest of file unread",
    ]


def test_line_blocks_end_at_line_boundaries() -> None:
    import io

    data = b"".join(b"x" * (i % 7) + b"\n" for i in range(1000)) + b"tail"
    blocks = list(iter_line_blocks(io.BytesIO(data), max_lines=64, max_bytes=100))
    assert b"".join(b for _, _, b in blocks) == data
    assert sum(n for _, n, _ in blocks) == 1001
    assert all(n <= 64 for _, n, _ in blocks)
    assert [f for f, _, _ in blocks][1] == 1 + blocks[0][1]
