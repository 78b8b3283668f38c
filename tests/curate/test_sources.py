"""Sources: resolving --source arguments and turning reader batches into docs batches."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import polars as pl
import pytest

from winnow.curate.sources import iter_documents, resolve_source
from winnow.errors import WinnowError

ADVICE = "fix the record, or set --text-field (or the source's text_field)"


def collect(arg: str, batch_rows: int = 10_000, **fields: str):
    """All docs, quarantine and shard keys of a source."""
    batches = list(iter_documents(resolve_source(arg, **fields), batch_rows=batch_rows))
    docs = pl.concat([b.docs for b in batches], how="diagonal_relaxed")
    quarantine = pl.concat([b.quarantine for b in batches])
    return docs, quarantine, batches


def test_real_file_keeps_source_ids_and_fields(shared_data: Path) -> None:
    path = shared_data / "web" / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
    docs, quarantine, batches = collect(str(path), batch_rows=200)
    assert docs.height == 697 and quarantine.height == 0
    assert docs.columns[:2] == ["id", "text"] and docs.columns[-1] == "source_file"
    assert "__line" not in docs.columns and docs.schema["metadata"] == pl.Utf8
    assert docs["id"][0] == "blj5uzvcoa4iybpd5o6kom5nir6ngmoj"
    assert [b.shard_key for b in batches] == [
        "00000-00000",
        "00000-00001",
        "00000-00002",
        "00000-00003",
    ]
    assert docs["source_file"].unique().to_list() == [str(path)]


def test_hashed_ids_are_stable_and_machine_independent(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "web" / "c4_demo.jsonl"
    first, _, _ = collect(str(path), batch_rows=70)
    again, _, _ = collect(str(path), batch_rows=300)
    assert first["id"].to_list() == again["id"].to_list()
    assert first["id"].n_unique() == 300
    copy = tmp_path / "elsewhere" / "c4_demo.jsonl"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    moved, _, _ = collect(str(copy))
    assert moved["id"].to_list() == first["id"].to_list()


def test_text_field_mapping_and_missing_text(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    rows = [{"uid": 7, "body": "hello"}, {"uid": None, "body": "world"}, {"uid": 9, "title": "x"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    docs, quarantine, _ = collect(str(path), text_field="body", id_field="uid")
    assert docs.columns == ["id", "text", "uid", "title", "source_file"]
    assert docs["text"].to_list() == ["hello", "world"]
    assert docs["id"][0] == "7" and len(docs["id"][1]) == 16
    assert quarantine.select("line", "error").rows() == [
        (3, f"line 3: 'body' is missing or null; {ADVICE}")
    ]
    assert json.loads(quarantine["raw"][0]) == {"uid": 9, "body": None, "title": "x"}


def test_missing_text_column_names_the_fields(shared_data: Path) -> None:
    docs, quarantine, _ = collect(str(shared_data / "instruct" / "alpaca_en_demo.json"))
    assert docs.height == 0 and quarantine.height == 999
    assert quarantine["error"][0] == (
        f"line 1: no 'text' field (fields: instruction, input, output); {ADVICE}"
    )
    docs, quarantine, _ = collect(
        str(shared_data / "instruct" / "alpaca_en_demo.json"), text_field="output"
    )
    assert docs.height == 999 and docs.columns == [
        "id",
        "text",
        "instruction",
        "input",
        "source_file",
    ]


def test_rows_read_plus_quarantined_equal_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"text": "a"}\n{"body": "b"}\n{oops\n{"text": "\xc3"}\n{"text": null}\n')
    docs, quarantine, _ = collect(str(path), batch_rows=2)
    assert docs.height + quarantine.height == 5
    assert sorted(quarantine["line"].to_list()) == [2, 3, 4, 5]
    numeric = tmp_path / "numeric.jsonl"
    numeric.write_text('{"text": 5}\n')
    _, quarantine, _ = collect(str(numeric))
    assert quarantine["error"].to_list() == [
        f"line 1: 'text' is a number, expected a string; {ADVICE}"
    ]


def test_folder_glob_and_empty_file_warning(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jsonl").write_text('{"text": "a"}\n')
    (folder / "sub" / "b.txt").write_text("b1\nb2\n")
    (folder / "empty.jsonl").write_text("")
    (folder / "notes.md").write_text("ignored")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        docs, _, batches = collect(str(folder))
    assert [str(w.message) for w in caught] == [
        f"{folder / 'empty.jsonl'}: is empty; no documents were read from it."
    ]
    assert docs["text"].to_list() == ["a", "b1", "b2"]
    assert [b.shard_key for b in batches] == ["00000-00000", "00002-00000"]
    spec = resolve_source(str(folder / "**" / "*.txt"))
    assert spec.paths == [folder / "sub" / "b.txt"]


def test_fingerprint_changes_with_the_files(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text('{"text": "a"}\n')
    before = resolve_source(str(path)).fingerprint()
    assert resolve_source(str(path)).fingerprint() == before
    path.write_text('{"text": "ab"}\n')
    assert resolve_source(str(path)).fingerprint() != before


def test_catalog_sources(shared_data: Path) -> None:
    spec = resolve_source("shared-korean-comments")
    assert spec.options == {"text_mode": "line"} and spec.licence == "CC BY-SA 4.0"
    assert spec.paths == [shared_data / "korean" / "news_comments.txt.gz"]
    hub = resolve_source("fineweb-sample")
    assert hub.hub_id == "HuggingFaceFW/fineweb" and hub.options["name"] == "sample-10BT"
    with pytest.raises(WinnowError, match="cannot be fetched offline"):
        list(iter_documents(hub))


def test_saved_dataset_and_parquet_sources(tmp_path: Path) -> None:
    import datasets

    folder = tmp_path / "saved"
    datasets.Dataset.from_dict({"text": ["x", "y"], "tags": [["a"], []]}).save_to_disk(str(folder))
    docs, _, _ = collect(str(folder))
    assert docs.select("text", "tags").rows() == [("x", '["a"]'), ("y", "[]")]
    path = tmp_path / "p.parquet"
    pl.DataFrame({"id": [1, 2], "text": ["p", "q"], "s": [{"k": 1}, None]}).write_parquet(path)
    docs, _, _ = collect(str(path))
    assert docs.select("id", "s").rows() == [("1", '{"k":1}'), ("2", None)]


def test_unknown_source_and_hub_id(tmp_path: Path) -> None:
    with pytest.raises(WinnowError, match="source 'nope' is not.*catalog sources: .*web-sample"):
        resolve_source("nope")
    with pytest.raises(WinnowError, match="missing.jsonl' is not an existing file"):
        resolve_source(str(tmp_path / "missing.jsonl"))
    with pytest.raises(WinnowError, match="'someorg/somedata' is not an existing file.*hub is off"):
        resolve_source("someorg/somedata")


def test_hub_id_online_and_missing_local_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Online, org/name is a hub id; a missing data/file whose folder exists, or a name with
    a data extension, is a missing file (no hub is asked); offline the hub id gets one line."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "0")
    spec = resolve_source("someorg/somedata")
    assert spec.hub_id == "someorg/somedata"
    (tmp_path / "data").mkdir()
    for missing in ("data/file", "other/file.jsonl"):
        with pytest.raises(WinnowError, match=f"source '{missing}' is not an existing file") as err:
            resolve_source(missing)
        assert "hub dataset id" not in str(err.value)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WinnowError, match="'someorg/somedata' cannot be fetched offline"):
        list(iter_documents(spec))


@pytest.mark.parametrize("batch_rows", [1, 3, 100])
def test_non_string_text_is_quarantined_never_stringified(tmp_path: Path, batch_rows: int) -> None:
    """Numbers, lists, objects and booleans as text are quarantined with their kind, the same
    whatever the batches (an all-number batch, or numbers after a batch of text)."""
    values = ["first", 5, ["a", "b"], {"k": 1}, True, 1.5, "7", "[not a list", -3, None, "last"]
    path = tmp_path / "kinds.jsonl"
    path.write_text("".join(json.dumps({"text": v}) + "\n" for v in values))
    docs, quarantine, _ = collect(str(path), batch_rows=batch_rows)
    assert docs["text"].to_list() == ["first", "7", "[not a list", "last"]
    assert quarantine.select("line", "error").rows() == [
        (2, f"line 2: 'text' is a number, expected a string; {ADVICE}"),
        (3, f"line 3: 'text' is an array, expected a string; {ADVICE}"),
        (4, f"line 4: 'text' is an object, expected a string; {ADVICE}"),
        (5, f"line 5: 'text' is a boolean, expected a string; {ADVICE}"),
        (6, f"line 6: 'text' is a number, expected a string; {ADVICE}"),
        (9, f"line 9: 'text' is a number, expected a string; {ADVICE}"),
        (10, f"line 10: 'text' is missing or null; {ADVICE}"),
    ]
    assert json.loads(quarantine["raw"][1]) == {"text": ["a", "b"]}


def test_parquet_text_of_other_types_is_quarantined(tmp_path: Path) -> None:
    """list<string>, integer, boolean and binary text columns are quarantined row by row (a
    binary one says to write it as strings), never encoded into text."""
    path = tmp_path / "lists.parquet"
    pl.DataFrame({"text": [["a", "b"], None, ["c"]]}).write_parquet(path)
    docs, quarantine, _ = collect(str(path))
    assert docs.height == 0
    assert [e.split(";")[0] for e in quarantine["error"]] == [
        "line 1: 'text' is a list, expected a string",
        "line 2: 'text' is missing or null",
        "line 3: 'text' is a list, expected a string",
    ]
    assert json.loads(quarantine["raw"][0]) == {"text": ["a", "b"]}
    numbers = tmp_path / "numbers.parquet"
    pl.DataFrame({"text": [1, 2], "flag": [True, False]}).write_parquet(numbers)
    _, quarantine, _ = collect(str(numbers))
    assert quarantine["error"].str.contains("'text' is a number, expected a string").all()
    _, quarantine, _ = collect(str(numbers), text_field="flag")
    assert quarantine["error"].str.contains("'flag' is a boolean").all()
    binary = tmp_path / "bytes.parquet"
    pl.DataFrame({"text": [b"abc", b"d"]}).write_parquet(binary)
    docs, quarantine, _ = collect(str(binary))
    assert docs.height == 0 and quarantine["line"].to_list() == [1, 2]
    assert quarantine["error"][0].startswith(
        "line 1: 'text' is binary data (bytes, not UTF-8 text: write the column as strings)"
    )
    assert json.loads(quarantine["raw"][0]) == {"text": "abc"}
    with pytest.raises(WinnowError, match=r"bytes.parquet: column 'text' holds bytes"):
        collect(str(binary), text_field="text", id_field="text")


def test_a_file_named_gz_that_is_not_gzip_is_one_quarantined_row(tmp_path: Path) -> None:
    """In a folder, the misnamed file is one row saying so, and the next file is read."""
    (tmp_path / "a.jsonl.gz").write_text('{"text": "plain"}\n')
    (tmp_path / "b.jsonl").write_text('{"text": "read"}\n')
    docs, quarantine, _ = collect(str(tmp_path))
    assert docs["text"].to_list() == ["read"]
    assert quarantine.select("line", "error").rows() == [
        (
            1,
            "line 1: the name ends in .gz but the file is not gzip data (it starts with "
            'b\'{"text": "pl\'); rename it without .gz, or compress it with gzip',
        )
    ]


def test_csv_text_is_kept_byte_for_byte(tmp_path: Path) -> None:
    """Through the docs stage too: a quoted CSV field with newlines and U+2028 is one text."""
    path = tmp_path / "t.csv"
    path.write_text('id,text\n1,"a\nb\u2028c"\n2,5\n', encoding="utf-8")
    docs, quarantine, _ = collect(str(path))
    assert docs.select("id", "text").rows() == [("1", "a\nb\u2028c"), ("2", "5")]
    assert quarantine.height == 0
