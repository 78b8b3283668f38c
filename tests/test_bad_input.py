"""The hostile-input sweep: generated bad files through every importer, as a user runs them.

Each case plants the documents a careful reader must find and the damage it must set aside.
A run either ends in one sentence (no traceback) or publishes a version where the counts add
up, every planted document is kept or rejected exactly once with its text unchanged, nothing
else appears, and every piece of damage is in quarantine.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
import re
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from tests.cli_helpers import run_cli
from winnow.workspace import Workspace

RECIPE = "steps:\n  - step: gopher_quality\n  - step: gopher_repetition\n"
"""Rules that only measure and decide, so a kept or rejected text must equal its input."""

LONG = " ".join(f"word{i} and the text of a real document goes on" for i in range(12))
"""A document long enough that rules judge it on its words, not its length."""

SEPARATORS = ["\u2028", "\u2029", "\u0085", "\x0c", "\x1c", "\x1d", "\x1e", "\r"]
"""Characters that `str.splitlines` treats as line ends and a record reader must not."""


@dataclasses.dataclass
class Case:
    """A generated source file, the texts a reader must return, and how many bad records."""

    name: str
    data: bytes
    texts: list[str]
    bad: int
    refused: bool = False
    """Whether the file must be refused in one sentence rather than read."""


def jsonl(*records: object) -> bytes:
    """JSON Lines as `ensure_ascii=False` writes them: raw separators inside strings."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def doc(i: int, extra: str = "") -> str:
    """A distinct planted document."""
    return f"document {i}{extra} {LONG}"


def separators_in_strings() -> Case:
    texts = [doc(i, f" split{sep}here") for i, sep in enumerate(SEPARATORS)]
    data = jsonl(*({"id": f"s{i}", "text": t} for i, t in enumerate(texts)))
    return Case("separators.jsonl", data, texts, 0)


def crlf_and_bom() -> Case:
    texts = [doc(1), doc(2)]
    lines = [json.dumps({"id": str(i), "text": t}) for i, t in enumerate(texts)]
    return Case("crlf.jsonl", ("\ufeff" + "\r\n".join(lines) + "\r\n").encode(), texts, 0)


def broken_lines() -> Case:
    texts = [doc(1), doc(2), doc(3)]
    data = (
        jsonl({"id": "a", "text": texts[0]})
        + b'{"id": "b", "text": "cut off\n'
        + b"[1, 2, 3]\n"
        + b'{"id": "n", "text": NaN}\n'
        + b'{"id": "u", "text": "bad \xff\xfe bytes"}\n'
        + jsonl({"id": "c", "text": texts[1]}, {"id": "d", "text": texts[2]})
    )
    return Case("broken.jsonl", data, texts, 4)


def non_string_text() -> Case:
    texts = [doc(1)]
    others = [7, 3.5, True, ["a", "b"], {"k": "v"}]
    data = jsonl(
        {"id": "t", "text": texts[0]}, *({"id": f"o{i}", "text": v} for i, v in enumerate(others))
    )
    return Case("types.jsonl", data, texts, len(others))


def all_integer_text() -> Case:
    return Case("ints.jsonl", jsonl(*({"id": str(i), "text": i} for i in range(5))), [], 5)


def duplicate_ids() -> Case:
    texts = [doc(1), doc(2)]
    data = jsonl(
        {"id": "x", "text": texts[0]}, {"id": "y", "text": texts[1]}, {"id": "x", "text": doc(3)}
    )
    return Case("dupes.jsonl", data, texts, 1)


def csv_fields() -> Case:
    texts = [doc(i, f" line one{sep}line two") for i, sep in enumerate(["\n", *SEPARATORS[:-1]])]
    rows = ["id,text"] + [f'r{i},"{t}"' for i, t in enumerate(texts)]
    return Case("fields.csv", ("\n".join(rows) + "\n").encode(), texts, 0)


def csv_ragged() -> Case:
    texts = [doc(1), doc(2)]
    body = f'id,text\na,"{texts[0]}"\nb,"x",extra\nc,"{texts[1]}"\n'
    return Case("ragged.csv", body.encode(), texts, 1)


def readable_lines(prefix: bytes) -> int:
    """How many whole lines a stream that breaks after `prefix` gave before the damage."""
    return prefix.count(b"\n")


def truncated_gzip() -> Case:
    texts = [doc(i) for i in range(200)]
    packed = gzip.compress(jsonl(*({"id": str(i), "text": t} for i, t in enumerate(texts))))
    cut = packed[: len(packed) // 2]
    prefix = zlib.decompressobj(wbits=31).decompress(cut)
    return Case("cut.jsonl.gz", cut, texts[: readable_lines(prefix)], 1)


def truncated_zstd() -> Case:
    texts = [doc(i) for i in range(800)]
    raw = jsonl(*({"id": str(i), "text": t} for i, t in enumerate(texts)))
    packed = zstandard.ZstdCompressor().compress(raw)
    cut = packed[: len(packed) // 2]
    prefix = zstandard.ZstdDecompressor().decompressobj().decompress(cut)
    return Case("cut.jsonl.zst", cut, texts[: readable_lines(prefix)], 1)


def not_gzip() -> Case:
    return Case("fake.jsonl.gz", jsonl({"id": "a", "text": doc(1)}), [], 1)


def empty_file() -> Case:
    return Case("empty.jsonl", b"", [], 0, refused=True)


def json_array_in_jsonl() -> Case:
    data = json.dumps([{"id": "a", "text": doc(1)}, {"id": "b", "text": doc(2)}], indent=1)
    return Case("array.jsonl", data.encode(), [], 0, refused=True)


def text_lines() -> Case:
    texts = [doc(1, "\u2028inside"), doc(2, "\x0cform feed")]
    return Case("lines.txt", ("\n".join(texts) + "\n").encode(), texts, 0)


def parquet_bytes(table: pa.Table) -> bytes:
    """A Parquet file's bytes."""
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def parquet_list_text() -> Case:
    table = pa.table({"id": ["a", "b"], "text": pa.array([["x", "y"], ["z"]])})
    return Case("lists.parquet", parquet_bytes(table), [], 2)


def parquet_binary_text() -> Case:
    table = pa.table({"id": ["a"], "text": pa.array([doc(1).encode()], type=pa.binary())})
    return Case("binary.parquet", parquet_bytes(table), [], 1)


def odd_values() -> Case:
    texts = [doc(1, "\x00nul"), doc(2, " \U0001f600 emoji"), "   ", "", "no id", doc(3)]
    records = [{"id": f"v{i}", "text": t} for i, t in enumerate(texts[:4])]
    data = jsonl(*records) + b'{"id": "s", "text": "lone \\ud800 surrogate"}\n{"id": "m"}\n'
    data += jsonl({"id": None, "text": texts[4]}, {"text": texts[5]})
    return Case("odd.jsonl", data, texts, 2)


def escaped_surrogate_pairs() -> Case:
    texts = [doc(1, " \U0001f600 emoji"), doc(2, " 한국어 \U0001f44d\U0001f3fd"), doc(3)]
    records = [{"id": f"p{i}", "text": t} for i, t in enumerate(texts)]
    data = "".join(json.dumps(r) + "\n" for r in records).encode()  # ASCII: emoji as pairs
    assert b"\\ud83d\\ude00" in data
    return Case("pairs.jsonl", data, texts, 0)


def lone_surrogate_in_array() -> Case:
    data = (
        b'[{"id": "s", "text": "lone \\udc00"}, ' + json.dumps({"id": "t", "text": doc(1)}).encode()
    )
    return Case("surrogate.json", data + b"]", [doc(1)], 1)


def folder_with_one_bad_file() -> Case:
    return Case("folder", b"", [doc(1), doc(2)], 1)


def truncated_warc() -> Case:
    html = f"<html><body><p>{doc(1)}</p></body></html>".encode()
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(html)}\r\n\r\n"
    ).encode()
    payload = head + html
    record = (
        "WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://example.com/\r\n"
        f"WARC-Record-ID: <urn:uuid:1>\r\nContent-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    return Case("cut.warc", record[: len(record) - 20], [], 1)


CASES: list[Callable[[], Case]] = [
    odd_values,
    escaped_surrogate_pairs,
    lone_surrogate_in_array,
    folder_with_one_bad_file,
    truncated_warc,
    separators_in_strings,
    crlf_and_bom,
    broken_lines,
    non_string_text,
    all_integer_text,
    duplicate_ids,
    csv_fields,
    csv_ragged,
    truncated_gzip,
    truncated_zstd,
    not_gzip,
    empty_file,
    json_array_in_jsonl,
    text_lines,
    parquet_list_text,
    parquet_binary_text,
]


def split_texts(version: Path, split: str) -> list[str]:
    """Every text of one split of a version ([] when the split has no file)."""
    files = sorted((version / split).glob("*.parquet"))
    return [t for f in files for t in pl.read_parquet(f, columns=["text"])["text"].to_list()]


@pytest.mark.parametrize("make", CASES, ids=[c.__name__ for c in CASES])
def test_curate_run_keeps_every_planted_document_and_quarantines_the_damage(
    make: Callable[[], Case], tmp_path: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = make()
    source = tmp_path / case.name
    if case.name == "folder":
        source.mkdir()
        (source / "a.jsonl").write_bytes(jsonl({"id": "a", "text": doc(1)}))
        (source / "b.jsonl.gz").write_bytes(b"not gzip at all")
        (source / "c.jsonl").write_bytes(jsonl({"id": "c", "text": doc(2)}))
    else:
        source.write_bytes(case.data)
    recipe = tmp_path / "measure.yaml"
    recipe.write_text(RECIPE, encoding="utf-8")
    code, out = run_cli(
        capsys, "curate", "run", str(recipe), "--source", str(source), "--output", "s"
    )
    assert "Traceback" not in out
    assert (code != 0) == case.refused, f"{case.name}: exit {code}: {out}"
    if case.refused:
        assert source.name in out, f"{case.name}: the refusal does not name the file: {out}"
        return
    version = Workspace.resolve(workspace).dataset("s").path
    counts = json.loads((version / "manifest.json").read_text(encoding="utf-8"))["counts"]
    assert counts["input"] == counts["kept"] + counts["rejected"] + counts["quarantined"]
    found = split_texts(version, "kept") + split_texts(version, "rejected")
    assert Counter(found) == Counter(case.texts), f"{case.name}: rows altered, lost or invented"
    assert counts["quarantined"] == case.bad, out


def report_counts(out: str) -> tuple[int, int, int, int]:
    """The report's `input N = kept K + rejected R + quarantined Q` line as numbers."""
    match = re.search(r"input (\d+) = kept (\d+) \+ rejected (\d+) \+ quarantined (\d+)", out)
    assert match, out
    total, kept, rejected, quarantined = (int(g) for g in match.groups())
    return total, kept, rejected, quarantined


def pairs(texts: list[str]) -> list[dict[str, str]]:
    """Instruction rows whose fields carry the planted texts (each answer distinct)."""
    return [
        {"instruction": t, "input": "", "output": f"answer {i}: {t}"} for i, t in enumerate(texts)
    ]


HOSTILE = [doc(i, f" a{sep}b") for i, sep in enumerate(["\n", *SEPARATORS])]
"""Field values holding every line-end character a record reader must keep."""


def instruct_files() -> list[tuple[str, bytes, int]]:
    """(name, bytes, bad records) of instruction files with hostile field values."""
    rows = pairs(HOSTILE)
    lines = jsonl(*rows) + b'{"instruction": "cut\n' + jsonl({"instruction": 5, "output": "x"})
    lines += b'{"instruction": "lone \\ud800", "output": "x"}\n'
    body = io.StringIO()
    writer = csv.DictWriter(body, fieldnames=["instruction", "input", "output"])
    writer.writeheader()
    writer.writerows(rows)
    return [
        ("rows.jsonl", lines, 3),
        ("rows.json", json.dumps(rows, ensure_ascii=False).encode(), 0),
        ("rows.csv", body.getvalue().encode(), 0),
    ]


@pytest.mark.parametrize("index", range(3), ids=["jsonl", "json", "csv"])
def test_curate_instruct_keeps_field_values_byte_for_byte(
    index: int, tmp_path: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, data, bad = instruct_files()[index]
    source = tmp_path / name
    source.write_bytes(data)
    code, out = run_cli(capsys, "curate", "instruct", "--source", str(source), "--output", "i")
    assert code == 0, out
    total, kept, rejected, quarantined = report_counts(out)
    assert (total, quarantined) == (len(HOSTILE) + bad, bad)
    assert total == kept + rejected + quarantined
    version = Workspace.resolve(workspace).dataset("i").path
    frames = [pl.read_parquet(f) for s in ("kept", "rejected") for f in (version / s).glob("*")]
    found = pl.concat([f.select("instruction", "output") for f in frames]).to_dicts()
    planted = [{"instruction": r["instruction"], "output": r["output"]} for r in pairs(HOSTILE)]
    assert sorted(found, key=str) == sorted(planted, key=str)


def test_curate_preference_keeps_answers_byte_for_byte(
    tmp_path: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [
        {"prompt": f"question {i}{sep}?", "chosen": f"good {i}{sep}answer", "rejected": f"bad {i}"}
        for i, sep in enumerate(SEPARATORS)
    ]
    broken = b'{"prompt": "cut\n' + jsonl({"prompt": "p", "chosen": 3, "rejected": "r"})
    broken += b'{"prompt": "p", "chosen": "lone \\udbff", "rejected": "r"}\n'
    source = tmp_path / "pairs.jsonl"
    source.write_bytes(jsonl(*records) + broken)
    code, out = run_cli(capsys, "curate", "preference", "--source", str(source), "--output", "p")
    assert code == 0, out
    total, kept, rejected, quarantined = report_counts(out)
    assert (total, kept, rejected, quarantined) == (len(records) + 3, len(records), 0, 3)
    rows = pl.read_parquet(Workspace.resolve(workspace).dataset("p").path / "kept" / "*.parquet")
    chosen = sorted(turns[-1]["content"] for turns in rows["chosen"].to_list())
    assert chosen == sorted(r["chosen"] for r in records)
