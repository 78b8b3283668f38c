"""Hostile input for the readers: characters that other tools take for line breaks, truncated
and corrupt compressed files, numbers too big for a column, misnamed files. A reader never
splits, alters, invents or drops a row: every row is read byte for byte or set aside with
where and why."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import polars as pl
import pytest
import zstandard

from winnow.curate.readers.base import RawBatch
from winnow.curate.readers.csv import CsvReader
from winnow.curate.readers.jsonl import JsonlReader
from winnow.curate.readers.text import TextReader
from winnow.curate.readers.warc import WarcReader
from winnow.errors import WinnowError

CC_FILE = "web/CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
BREAKS = "\u2028\u2029\x85\x0c\x0b\x1c\x1d\x1e\r"
"""Characters str.splitlines() (and some CSV readers) take for line breaks."""


def read(reader: object, path: Path, batch_rows: int = 100) -> tuple[pl.DataFrame, pl.DataFrame]:
    """All records (a `text` column even when none) and quarantined rows a reader gives."""
    batches: list[RawBatch] = list(reader.read(path, batch_rows))  # type: ignore[attr-defined]
    records = pl.concat([b.records for b in batches], how="diagonal_relaxed")
    if "text" not in records.columns:
        records = records.with_columns(pl.lit(None, dtype=pl.Utf8).alias("text"))
    return records, pl.concat([b.quarantine for b in batches])


def test_jsonl_line_break_characters_stay_inside_their_record(tmp_path: Path) -> None:
    """Raw U+2028, U+2029, U+0085 (legal in JSON strings) never split a record; CRLF ends."""
    texts = [f"one{c}two" for c in "\u2028\u2029\x85"] + ["plain"]
    path = tmp_path / "breaks.jsonl"
    lines = [json.dumps({"text": t}, ensure_ascii=False) for t in texts]
    path.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    records, quarantine = read(JsonlReader(), path)
    assert quarantine.height == 0
    assert records["text"].to_list() == texts
    assert records["__line"].to_list() == [1, 2, 3, 4]


def test_text_lines_keep_line_break_characters(tmp_path: Path) -> None:
    """Only LF ends a line (and a CR before it is dropped); the rest is text."""
    path = tmp_path / "breaks.txt"
    path.write_bytes(f"a{BREAKS}b\r\nsecond\n".encode())
    records, quarantine = read(TextReader(), path)
    assert records.rows() == [(f"a{BREAKS}b", 1), ("second", 2)] and quarantine.height == 0


def test_csv_quoted_fields_keep_newlines_and_break_characters(tmp_path: Path) -> None:
    values = ["a\nb", "c\r\nd", f"x{BREAKS}y", 'say "hi"', ""]
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows([[str(i), v] for i, v in enumerate(values)])
    records, quarantine = read(CsvReader(), path)
    assert quarantine.height == 0
    assert records["text"].to_list() == values
    assert records["__line"].to_list() == [2, 3, 4, 5, 6]


def test_csv_rows_that_cannot_be_records_are_quarantined(tmp_path: Path) -> None:
    """Too many fields, bytes that are not UTF-8, broken quoting, and a file that ends inside
    a quoted field: each set aside with the file line, nothing invented from the rest."""
    path = tmp_path / "bad.csv"
    path.write_bytes(
        b'id,text\n1,ok\n2,too,many\n3,caf\xe9\n4,"a"b\n\n5,fine\n6,"never closed\n7,lost\n'
    )
    records, quarantine = read(CsvReader(), path)
    assert records.rows() == [("1", "ok", 2), ("5", "fine", 6)]  # a blank line is no record
    rows = quarantine.select("line", "error", "raw").rows()
    assert [r[0] for r in rows] == [3, 4, 5, 7]
    assert rows[0][1] == "expected 2 fields, found 3 in the record that starts on file line 3"
    assert rows[1][1] == "bytes that are not UTF-8 in the record that starts on file line 4"
    assert "malformed CSV quoting" in rows[2][1]
    assert rows[3][1].startswith("the file ends inside a quoted field of the record that starts")
    assert rows[3][2] == '6,"never closed\n7,lost\n'


def test_csv_header_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text("text,text\na,b\n")
    with pytest.raises(WinnowError, match=r"twice.csv: the header names column 'text' more"):
        read(CsvReader(), path)


def truncated(data: bytes, cut: int, folder: Path, name: str) -> Path:
    """The first `cut` bytes of `data` as a file."""
    path = folder / name
    path.write_bytes(data[:cut])
    return path


@pytest.mark.parametrize("cut", [1_000, 300_000, 1_153_000])
def test_truncated_gzip_keeps_every_whole_line_and_names_the_byte(
    shared_data: Path, tmp_path: Path, cut: int
) -> None:
    """The real CC file cut anywhere: the lines before the cut come back byte for byte, the
    line it cut is one quarantined row with the byte count, nothing else is lost."""
    original = (shared_data / CC_FILE).read_bytes()
    full = gzip.decompress(original)
    path = truncated(original, cut, tmp_path, "cut.jsonl.gz")
    records, quarantine = read(JsonlReader(), path, batch_rows=64)
    assert quarantine.height == 1
    row = quarantine.row(0, named=True)
    good = row["error"].split("after ")[1].split(" bytes")[0]
    intact = full[: int(good.replace(",", ""))]
    whole = intact.count(b"\n")
    assert records.height == whole and row["line"] == whole + 1
    expected = [json.loads(line)["text"] for line in intact.split(b"\n")[:whole]]
    assert records["text"].to_list() == expected
    assert row["raw"].encode() == intact.split(b"\n")[-1] or "\ufffd" in row["raw"]
    assert "the gzip data is damaged" in row["error"] and "fetch or compress" in row["error"]


def test_truncated_zstd_and_corrupt_gzip_end_in_one_row(tmp_path: Path) -> None:
    lines = b"".join(
        json.dumps({"text": f"doc {i * 7919 % 100003}"}).encode() + b"\n" for i in range(60000)
    )
    packed = zstandard.ZstdCompressor().compress(lines)
    records, quarantine = read(
        JsonlReader(), truncated(packed, len(packed) // 2, tmp_path, "h.jsonl.zst")
    )
    assert quarantine.height == 1 and "the zstd data is damaged" in quarantine["error"][0]
    assert records.height > 1000
    assert records["text"].to_list() == [f"doc {i * 7919 % 100003}" for i in range(records.height)]
    assert quarantine["line"][0] == records.height + 1
    broken = bytearray(gzip.compress(lines))
    broken[len(broken) // 2] ^= 0xFF
    (tmp_path / "c.jsonl.gz").write_bytes(bytes(broken))
    records, quarantine = read(JsonlReader(), tmp_path / "c.jsonl.gz")
    assert "the gzip data is damaged" in quarantine["error"][-1]
    assert records.height + quarantine.height <= 60001


def test_multi_member_gzip_and_skippable_zstd_frames_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl.gz"
    path.write_bytes(
        gzip.compress(b'{"text": "a"}\n') + gzip.compress(b'{"text": "b"}\n') + b"\0" * 8
    )
    records, quarantine = read(JsonlReader(), path)
    assert records["text"].to_list() == ["a", "b"] and quarantine.height == 0
    frames = zstandard.ZstdCompressor()
    skip = b"\x50\x2a\x4d\x18" + (3).to_bytes(4, "little") + b"seek"[:3]
    path = tmp_path / "s.jsonl.zst"
    path.write_bytes(
        skip + frames.compress(b'{"text": "a"}\n') + skip + frames.compress(b'{"text": "b"}\n')
    )
    records, quarantine = read(JsonlReader(), path)
    assert records["text"].to_list() == ["a", "b"] and quarantine.height == 0


def test_file_named_gz_that_is_not_gzip_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl.gz"
    path.write_text('{"text": "a"}\n')
    with pytest.raises(
        WinnowError, match=r"plain.jsonl.gz: the name ends in .gz but the file is not gzip data"
    ):
        read(JsonlReader(), path)


def test_truncated_text_gz_quarantines_the_cut_line(tmp_path: Path) -> None:
    lines = "".join(f"line {i}\n" for i in range(20000)).encode()
    packed = gzip.compress(lines)
    records, quarantine = read(
        TextReader(), truncated(packed, len(packed) // 3, tmp_path, "t.txt.gz")
    )
    assert records["text"].to_list() == [f"line {i}" for i in range(records.height)]
    assert quarantine["line"].to_list() == [records.height + 1]
    whole, _ = read(TextReader(text_mode="file"), truncated(packed, 100, tmp_path, "f.txt.gz"))
    assert whole.height == 0


def test_big_numbers_set_aside_only_their_own_line(tmp_path: Path) -> None:
    """A number beyond 128 bits is valid JSON that no column can hold: its line alone is
    quarantined, its neighbours are read (not all lines of the block)."""
    rows = [f'{{"text": "doc {i}", "n": {i}}}' for i in range(10)]
    rows[3] = '{"text": "big", "n": 123456789012345678901234567890123456789012}'
    rows[7] = '{"text": "huge", "n": 1e400}'
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(rows) + "\n")
    records, quarantine = read(JsonlReader(), path)
    assert records["__line"].to_list() == [1, 2, 3, 5, 6, 7, 9, 10]
    assert quarantine["line"].to_list() == [4, 8]
    assert quarantine["error"].str.contains("store bigger numbers as strings").all()


def test_jsonl_holding_an_array_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "array.jsonl"
    path.write_text('[{"text": "a"},\n {"text": "b"}]\n')
    with pytest.raises(WinnowError, match="array.jsonl: holds a JSON array .* rename it to .json"):
        read(JsonlReader(), path)


def test_json_array_extras_are_reported_not_dropped(tmp_path: Path) -> None:
    """Data after the closing bracket, and a NaN element, are rows of the quarantine."""
    path = tmp_path / "extra.json"
    path.write_text('[{"text": "a"}, {"text": NaN}, {"text": "b"}]\n{"text": "c"}\n')
    records, quarantine = read(JsonlReader(), path)
    assert records["text"].to_list() == ["a", "b"]
    assert quarantine.select("line", "error").rows() == [
        (2, "malformed JSON: NaN is not valid JSON"),
        (4, "more data after the end of the JSON array; rest unread"),
    ]


def test_truncated_json_array_gz_keeps_elements_before(tmp_path: Path) -> None:
    data = json.dumps([{"text": f"element {i}"} for i in range(3000)]).encode()
    packed = gzip.compress(data)
    records, quarantine = read(
        JsonlReader(), truncated(packed, len(packed) // 2, tmp_path, "a.json.gz")
    )
    assert records["text"].to_list() == [f"element {i}" for i in range(records.height)]
    assert quarantine["line"].to_list() == [records.height + 1]
    assert "the gzip data is damaged" in quarantine["error"][0]


@pytest.mark.parametrize("cut", [30_000, 60_000, 213_990])
def test_truncated_warc_never_keeps_a_partial_page(
    shared_data: Path, tmp_path: Path, cut: int
) -> None:
    """The real WARC cut anywhere: the pages kept are exactly the first pages of the whole
    file, and the record the cut hit is one quarantined row."""
    source = shared_data / "web" / "warc" / "sample-0000.warc.gz"
    whole, none = read(WarcReader(), source, batch_rows=1000)
    assert none.height == 0 and whole.height == 22
    records, quarantine = read(
        WarcReader(), truncated(source.read_bytes(), cut, tmp_path, "w.warc.gz"), 5
    )
    assert records.rows() == whole.head(records.height).rows()
    assert quarantine.height == 1 and "the gzip data is damaged" in quarantine["error"][0]
    assert quarantine["line"][0] > records["__line"].max() if records.height else True


def test_plain_warc_cut_short_is_quarantined(shared_data: Path, tmp_path: Path) -> None:
    plain = gzip.decompress((shared_data / "web" / "warc" / "sample-0000.warc.gz").read_bytes())
    records, quarantine = read(WarcReader(), truncated(plain, len(plain) // 2, tmp_path, "w.warc"))
    assert records.height == 14
    assert quarantine.select("line").to_series().to_list() == [31]
    assert quarantine["error"][0].startswith("the record is cut short: its Content-Length is")


def test_line_blocks_hand_back_the_cut_line() -> None:
    """iter_line_blocks leaves a damaged stream's last partial line to the damage."""
    from winnow.curate.readers.compressed import Damage
    from winnow.curate.readers.jsonl import iter_line_blocks

    class Broken(io.BytesIO):
        damage = Damage("gzip", 11, "truncated")

    stream = Broken(b"one\ntwo\nthr")
    assert [b for _, _, b in iter_line_blocks(stream, 10)] == [b"one\ntwo\n"]
    assert (stream.damage.line, stream.damage.tail) == (3, b"thr")


def test_damaged_parquet_keeps_rows_before_and_names_the_row(tmp_path: Path) -> None:
    from winnow.curate.readers.parquet import ParquetReader

    path = tmp_path / "p.parquet"
    texts = [f"row {i} " * 20 for i in range(20000)]
    pl.DataFrame({"text": texts}).write_parquet(
        path, row_group_size=2000, compression="uncompressed"
    )
    data = path.read_bytes()
    cut = truncated(data, len(data) // 2, tmp_path, "cut.parquet")
    records, quarantine = read(ParquetReader(), cut, 5000)
    assert records.height == 0 and quarantine["line"].to_list() == [1]
    assert quarantine["error"][0].startswith("the Parquet file is damaged: its footer cannot")
    broken = bytearray(data)
    broken[len(data) // 2 : len(data) // 2 + 3000] = b"\xaa" * 3000
    (tmp_path / "bad.parquet").write_bytes(bytes(broken))
    records, quarantine = read(ParquetReader(), tmp_path / "bad.parquet", 5000)
    assert records["text"].to_list() == texts[: records.height]
    assert quarantine["line"].to_list() == [records.height + 1]
    with pytest.raises(WinnowError, match="notparquet.parquet: is not a readable Parquet file"):
        (tmp_path / "notparquet.parquet").write_text("hello")
        read(ParquetReader(), tmp_path / "notparquet.parquet")


def test_byte_order_mark_is_not_part_of_the_first_record(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "a"}\n{"text": "b"}\n')
    records, quarantine = read(JsonlReader(), path)
    assert records["text"].to_list() == ["a", "b"] and quarantine.height == 0
    text = tmp_path / "bom.txt"
    text.write_bytes(b"\xef\xbb\xbffirst\nsecond\n")
    records, _ = read(TextReader(), text)
    assert records["text"].to_list() == ["first", "second"]
