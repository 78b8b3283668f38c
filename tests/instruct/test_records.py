"""Hostile files for the structured-record importers (`winnow.records`, used by `curate
instruct` and `curate preference`): line-break characters inside values, CSV quoting,
truncated and misnamed compressed files, empty files, repeated ids."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from tests.cli_helpers import run_cli
from winnow.errors import WinnowError
from winnow.instruct.build import import_file, import_files
from winnow.records import EmptyFile, read_records, source_files

BREAKS = "\u2028\u2029\x85\x0c\x0b\x1c\x1d\x1e"
"""Characters str.splitlines() takes for line breaks; in JSON strings and CSV fields they
are text."""


def test_jsonl_values_with_line_break_characters_are_one_record(tmp_path: Path) -> None:
    """ensure_ascii=False writes U+2028, U+2029 and U+0085 raw: each record stays whole and
    later line numbers do not shift; CRLF line ends are removed."""
    rows = [{"instruction": f"say{c}it", "output": f"ok{c}"} for c in "\u2028\u2029\x85"]
    rows.append({"instruction": "last", "output": "done"})
    path = tmp_path / "breaks.jsonl"
    path.write_bytes(b"\r\n".join(json.dumps(r, ensure_ascii=False).encode() for r in rows))
    records, broken = read_records(path)
    assert broken == []
    assert records == list(enumerate(rows, start=1))


def test_csv_fields_keep_newlines_and_break_characters(tmp_path: Path) -> None:
    """Read with the csv module over the file: a quoted newline stays (it was deleted before)
    and \\x0c, \\x1c-\\x1e, \\x85, U+2028 never split a record into a corrupt fragment."""
    values = ["two\nlines", "crlf\r\ninside", f"odd{BREAKS}chars", "plain"]
    path = tmp_path / "qa.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question", "answer"])
        writer.writerows([[f"q{i}", v] for i, v in enumerate(values)])
    records, broken = read_records(path)
    assert broken == []
    assert records == [(i + 1, {"question": f"q{i}", "answer": v}) for i, v in enumerate(values)]


def test_csv_records_that_do_not_fit_are_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b'question,answer\nq1,a1\nq2\nq3,a3,extra\nq4,"caf\xe9"\nq5,"open\nq6,a6\n')
    records, broken = read_records(path)
    assert records == [(1, {"question": "q1", "answer": "a1"})]
    assert [(n, e.split(" in the record")[0]) for n, e, _ in broken] == [
        (2, "expected 2 fields, found 1"),
        (3, "expected 2 fields, found 3"),
        (4, "bytes that are not UTF-8"),
        (
            5,
            "the file ends inside a quoted field of the record that starts on file line 6: a "
            "closing quote is missing (a truncated file?)",
        ),
    ]
    assert broken[-1][2] == 'q5,"open\nq6,a6\n'
    result = import_file(path, "qa-csv")
    assert result.reasons == {"invalid_csv": 4}


def test_truncated_jsonl_gz_keeps_the_records_before(shared_data: Path, tmp_path: Path) -> None:
    """The real self-instruct seed tasks, gzipped and cut: the records before the cut are
    exactly the file's first records, the cut is one damaged_file row naming line and byte."""
    data = (shared_data / "instruct" / "self_instruct_seed_tasks.jsonl").read_bytes()
    packed = gzip.compress(data)
    path = tmp_path / "seed.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    records, broken = read_records(path)
    lines = data.split(b"\n")
    assert records == [(n, json.loads(lines[n - 1])) for n in range(1, len(records) + 1)]
    assert len(broken) == 1 and broken[0][0] == len(records) + 1
    assert broken[0][1].startswith("the gzip data is damaged after")
    result = import_file(path)
    assert result.reasons == {"damaged_file": 1}
    assert result.quarantine["line"].to_list() == [len(records) + 1]


def test_misnamed_empty_and_array_files_are_one_sentence(tmp_path: Path) -> None:
    plain = tmp_path / "plain.jsonl.gz"
    plain.write_text('{"instruction": "a", "output": "b"}\n')
    with pytest.raises(WinnowError, match="plain.jsonl.gz: the name ends in .gz but the file is"):
        read_records(plain)
    array = tmp_path / "array.jsonl"
    array.write_text('[{"instruction": "a", "output": "b"}]')
    with pytest.raises(WinnowError, match="array.jsonl: holds a JSON array .* rename it to .json"):
        read_records(array)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert read_records(empty) == ([], [])
    with pytest.raises(EmptyFile, match=r"empty.jsonl: is empty \(0 bytes\); expected JSON Lines"):
        import_file(empty)
    blank = tmp_path / "blank.json"
    blank.write_text("\n  \n")
    with pytest.raises(EmptyFile, match="blank.json: holds only white space; expected a JSON list"):
        import_file(blank)
    header = tmp_path / "header.csv"
    header.write_text("question,answer\n")
    with pytest.raises(EmptyFile, match=r"header.csv: holds only its header \(question, answer\)"):
        import_file(header, "qa-csv")
    lines = tmp_path / "lines.json"
    lines.write_text('{"a": 1}\n{"a": 2}\n')
    with pytest.raises(WinnowError, match="lines.json: holds several JSON values one after"):
        read_records(lines)
    strings = tmp_path / "strings.json"
    strings.write_text('["a", "b"]')
    with pytest.raises(WinnowError, match="its first records are JSON string values, not objects"):
        import_file(strings)


def test_nan_element_is_its_own_bad_record(tmp_path: Path) -> None:
    path = tmp_path / "nan.json"
    path.write_text('[{"instruction": "a", "output": NaN}, {"instruction": "b", "output": "c"}]')
    records, broken = read_records(path)
    assert records == [(2, {"instruction": "b", "output": "c"})]
    assert [(n, e) for n, e, _ in broken] == [(1, "malformed JSON: NaN is not valid JSON")]


def test_missing_local_path_is_not_a_hub_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """data/file with data/ present, or a name with a data extension: "no such file"."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    for missing in ("data/file", "elsewhere/file.jsonl"):
        with pytest.raises(WinnowError, match=f"--source {missing}: no such file, folder or glob"):
            source_files(missing, (".json", ".jsonl"))


def test_duplicate_ids_within_and_across_files(tmp_path: Path) -> None:
    """A later row that reuses an id is quarantined as duplicate_id naming the first."""
    folder = tmp_path / "sets"
    folder.mkdir()
    first = [{"id": k, "instruction": f"i{n}", "output": "o"} for n, k in enumerate("abca")]
    (folder / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in first))
    second = [
        {"id": "b", "instruction": "x", "output": "y"},
        {"id": 9, "instruction": "z", "output": "w"},
    ]
    (folder / "b.json").write_text(json.dumps(second))
    (folder / "c.jsonl").write_text("")
    imported = import_files(source_files(str(folder), (".json", ".jsonl")))
    assert imported.rows["id"].to_list() == ["a", "b", "c", "9"]
    assert imported.reasons == {"duplicate_id": 2}
    quarantine = imported.quarantine.select("source_file", "line", "error").rows()
    assert [(Path(f).name, n) for f, n, _ in quarantine] == [("a.jsonl", 4), ("b.json", 1)]
    assert quarantine[0][2].startswith(
        f"line 4: duplicate_id: id 'a' is already the id of {folder / 'a.jsonl'} line 1"
    )
    assert imported.warnings == [f"{folder / 'c.jsonl'}: is empty (0 bytes); left out"]


def test_duplicate_ids_through_the_command(
    capsys: pytest.CaptureFixture[str], workspace: Path, tmp_path: Path
) -> None:
    path = tmp_path / "dups.jsonl"
    rows = [{"id": "x", "instruction": f"q{n}", "output": f"a{n}"} for n in range(3)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out = run_cli(capsys, "curate", "instruct", "--source", str(path), "--output", "d")
    assert code == 0, out
    assert "duplicate_id │ 2" in out
    assert "input 3 = kept 1 + rejected 0 + quarantined 2" in out
    kept = pl.read_parquet(workspace / "datasets" / "d" / "v1" / "kept" / "*.parquet")
    assert kept["instruction"].to_list() == ["q0"]


def test_a_key_written_twice_is_an_unreadable_record(tmp_path: Path) -> None:
    """JSON parsers disagree on which value of a repeated key wins: never choose silently."""
    path = tmp_path / "twice.jsonl"
    path.write_text(
        '{"instruction": "a", "output": "b", "output": "c"}\n{"instruction": "d", "output": "e"}\n'
    )
    records, broken = read_records(path)
    assert records == [(2, {"instruction": "d", "output": "e"})]
    assert broken[0][:2] == (1, "malformed JSON: key 'output' appears twice in one object")
