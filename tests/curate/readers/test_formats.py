"""Parquet, CSV, text, WARC and saved Hugging Face datasets, plus the extension dispatch."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import polars as pl
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from winnow.curate.readers import reader_for
from winnow.curate.readers.csv import CsvReader
from winnow.curate.readers.hf import HfReader
from winnow.curate.readers.parquet import ParquetReader
from winnow.curate.readers.text import TextReader
from winnow.curate.readers.warc import WarcReader
from winnow.errors import WinnowError


def test_parquet_batches_and_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pl.DataFrame({"text": [f"t{i}" for i in range(25)], "n": list(range(25))}).write_parquet(path)
    batches = list(ParquetReader().read(path, 10))
    assert [b.records.height for b in batches] == [10, 10, 5]
    lines = pl.concat([b.records for b in batches])["__line"].to_list()
    assert lines == list(range(1, 26))


def test_csv_real_file(shared_data: Path) -> None:
    batches = list(CsvReader().read(shared_data / "korean" / "ChatbotData.csv", 5000))
    records = pl.concat([b.records for b in batches])
    assert records.height == 11823 and sum(b.quarantine.height for b in batches) == 0
    assert max(b.records.height for b in batches) == 5000
    assert records.columns == ["Q", "A", "label", "__line"]
    assert records["__line"][0] == 2 and records["Q"][0] == "12시 땡!"


def test_csv_bad_rows_are_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(b'q,a\n1,2\n3\n"x\ny",\xff\n5,6,7\n8,9\n')
    batches = list(CsvReader().read(path, 100))
    records = pl.concat([b.records for b in batches])
    quarantine = pl.concat([b.quarantine for b in batches])
    assert records.rows() == [("1", "2", 2), ("8", "9", 6)]
    assert quarantine.select("line", "error").rows() == [
        (3, "expected 2 fields, found 1 in the record that starts on file line 3"),
        (4, "bytes that are not UTF-8 in the record that starts on file line 4"),
        (5, "expected 2 fields, found 3 in the record that starts on file line 6"),
    ]


def test_tsv_uses_tabs(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("text\tlang\nhello, world\ten\n")
    (batch,) = list(reader_for(path).read(path, 10))
    assert batch.records.rows() == [("hello, world", "en", 2)]


def test_text_lines_real_file(shared_data: Path) -> None:
    batches = list(TextReader().read(shared_data / "web" / "wiki_demo.txt", 10))
    records = pl.concat([b.records for b in batches])
    assert records.height == 30 and max(b.records.height for b in batches) == 10
    assert records["__line"].to_list() == list(range(1, 31))


def test_text_lines_skip_blanks_and_quarantine_bad_bytes(tmp_path: Path) -> None:
    path = tmp_path / "c.txt.gz"
    path.write_bytes(gzip.compress(b"one\r\n\n  \nbad \xff\ntwo"))
    (batch,) = list(TextReader().read(path, 10))
    assert batch.records.rows() == [("one", 1), ("two", 5)]
    assert batch.quarantine.select("line", "error").rows() == [(4, "invalid UTF-8 in the line")]


def test_text_file_mode_and_unknown_mode(tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_text("line one\nline two\n")
    (batch,) = list(TextReader(text_mode="file").read(path, 10))
    assert batch.records.rows() == [("line one\nline two\n", 1)]
    with pytest.raises(WinnowError, match="text_mode 'page'"):
        TextReader(text_mode="page")


def test_warc_real_files(shared_data: Path) -> None:
    total = 0
    for path in sorted((shared_data / "web" / "warc").glob("*.warc.gz")):
        batches = list(WarcReader().read(path, 10))
        assert max(b.records.height + b.quarantine.height for b in batches) <= 10
        total += sum(b.records.height + b.quarantine.height for b in batches)
        first = batches[0].records.row(0, named=True)
        assert first["url"].startswith("https://") and first["warc_record_id"].startswith("<urn:")
        assert first["text"]
    assert total == 37


def _warc_response(writer: WARCWriter, url: str, body: bytes, content_type: str) -> None:
    """Write one HTTP response record."""
    headers = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.0")
    record = writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), http_headers=headers
    )
    writer.write_record(record)


def test_warc_pages_without_text_are_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "w.warc.gz"
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        _warc_response(writer, "https://e.com/empty", b"<html><body></body></html>", "text/html")
        _warc_response(writer, "https://e.com/img", b"\x89PNG", "image/png")
    (batch,) = list(WarcReader().read(path, 10))
    assert batch.records.height == 0
    assert batch.quarantine.select("line", "error", "raw").rows() == [
        (1, "no text could be extracted from the HTML", "https://e.com/empty"),
        (2, "response is 'image/png', not HTML", "https://e.com/img"),
    ]


def test_saved_dataset_folder(tmp_path: Path) -> None:
    import datasets

    folder = tmp_path / "saved"
    data = {"text": [f"doc {i}" for i in range(12)], "meta": [{"k": i} for i in range(12)]}
    datasets.Dataset.from_dict(data).save_to_disk(str(folder))
    reader = reader_for(folder)
    assert isinstance(reader, HfReader)
    batches = list(reader.read(folder, 5))
    assert [b.records.height for b in batches] == [5, 5, 2]
    assert pl.concat([b.records for b in batches])["__line"].to_list() == list(range(1, 13))


def test_hub_id_offline_names_the_local_alternative() -> None:
    with pytest.raises(WinnowError, match="'org/corpus' cannot be fetched offline.*--source"):
        list(HfReader().read_hub("org/corpus", 10))


def test_unknown_extension_lists_formats(tmp_path: Path) -> None:
    with pytest.raises(WinnowError, match=r"notes\.docx: unknown file type.*\.jsonl.*--format"):
        reader_for(tmp_path / "notes.docx")
    assert isinstance(reader_for(tmp_path / "notes.docx", "text"), TextReader)
