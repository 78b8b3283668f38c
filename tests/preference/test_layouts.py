"""Earlier turns kept, LLaMA-Factory and TRL layouts, --map, and imports that keep nothing."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.cli_helpers import run_cli
from winnow.preference.importers import detect_format, import_records, read_records
from winnow.workspace import Workspace

OASST_SFT = "instruct/oaast_sft_zh.json"
"""LLaMA-Factory's OpenAssistant SFT file: 689 real records, 390 with earlier turns."""


def rows_of(records: list[dict], fmt: str) -> list[dict]:
    """The rows (or None for a refused record) of inline records."""
    return [c.row for c in import_records(list(enumerate(records, start=1)), fmt, "t.json")]


def kept(workspace: Path, name: str) -> pl.DataFrame:
    """Kept rows of the latest version of a dataset."""
    return pl.read_parquet(Workspace.resolve(workspace).dataset(name).path / "kept" / "*.parquet")


def history_prompt(record: dict) -> list[dict]:
    """The prompt an Alpaca-layout record should give: system, history turns, the user turn."""
    turns = [{"role": "system", "content": record["system"]}] if record.get("system") else []
    for user, assistant in record.get("history") or []:
        turns += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    text = record["instruction"] + (f"\n{record['input']}" if record.get("input") else "")
    return [*turns, {"role": "user", "content": text}]


def test_ranked_history_and_system_become_the_prompt() -> None:
    """A ranked record's system, history pairs and instruction + input are the prompt, in order."""
    record = {
        "system": "Be kind.",
        "history": [["Hi", "Hello!"], ["Name a fruit", "Apple"]],
        "instruction": "Another one",
        "input": "red",
        "output": ["Cherry", "Car"],
    }
    (row,) = rows_of([record], "ranked")
    assert row["prompt"] == history_prompt(record)
    roles = ["system", "user", "assistant", "user", "assistant", "user"]
    assert [m["role"] for m in row["prompt"]] == roles
    assert row["prompt"][-1]["content"] == "Another one\nred"
    bad = {"instruction": "x", "history": [["only one"]], "output": ["a", "b"]}
    found = import_records([(1, bad)], "ranked", "t.json")
    assert found[0].reject.reason == "broken_history"
    not_text = {"instruction": "x", "input": 3, "output": ["a", "b"]}
    assert import_records([(1, not_text)], "ranked", "t.json")[0].reject.reason == "bad_row"


def test_real_oaast_ranked_keeps_earlier_turns(
    capsys: pytest.CaptureFixture[str], shared_data: Path, workspace: Path, tmp_path: Path
) -> None:
    """The real OpenAssistant records in LLaMA-Factory's ranked layout (their answer first, a
    worse one second): every kept row of a record with history has its earlier turns."""
    records = json.loads((shared_data / OASST_SFT).read_text(encoding="utf-8"))
    ranked = [{**r, "output": [r["output"], f"worse answer {n}"]} for n, r in enumerate(records)]
    path = tmp_path / "oasst_rm.json"
    path.write_text(json.dumps(ranked, ensure_ascii=False), encoding="utf-8")
    args = ["curate", "preference", "--source", str(path), "--output", "oasst"]
    code, out = run_cli(capsys, *args)
    assert code == 0, out
    assert "input 689 = kept 689 + rejected 0 + quarantined 0" in out
    rows = kept(workspace, "oasst")
    assert sum(t > 1 for t in rows["prompt"].list.len().to_list()) == 390
    for row in rows.iter_rows(named=True):
        record = ranked[int(row["id"].rsplit(":", 1)[1]) - 1]
        assert row["prompt"] == history_prompt(record)


def test_real_oaast_history_in_llama_factory_kto_layout(
    capsys: pytest.CaptureFixture[str], shared_data: Path, workspace: Path, tmp_path: Path
) -> None:
    """The real OpenAssistant records in LLaMA-Factory's Alpaca KTO layout (instruction, input,
    output, history, tag) are detected as kto; all 390 records with earlier turns keep them,
    turn for turn (the file's 2 exact repeats go to rejected, history and all)."""
    records = json.loads((shared_data / OASST_SFT).read_text(encoding="utf-8"))
    tagged = [{**r, "tag": n % 3 != 0} for n, r in enumerate(records)]
    path = tmp_path / "oasst_kto.json"
    path.write_text(json.dumps(tagged, ensure_ascii=False), encoding="utf-8")
    code, out = run_cli(capsys, "curate", "preference", "--source", str(path), "--output", "kto")
    assert code == 0, out
    assert "input 689 = kept 687 + rejected 2 + quarantined 0" in out
    version = Workspace.resolve(workspace).dataset("kto")
    assert version.manifest["preference"]["format"] == "kto"
    rows = pl.concat(
        pl.read_parquet(version.path / split / "*.parquet").select(kept(workspace, "kto").columns)
        for split in ("kept", "rejected")
    )
    assert sum(t > 1 for t in rows["prompt"].list.len().to_list()) == 390
    assert sum(bool(r["history"]) for r in records) == 390
    for row in rows.iter_rows(named=True):
        record = tagged[int(row["id"].rsplit(":", 1)[1]) - 1]
        assert row["prompt"] == history_prompt(record)
        assert row["completion"] == [{"role": "assistant", "content": record["output"]}]
        assert row["label"] is record["tag"]


def test_formats_are_detected_from_their_keys() -> None:
    """LLaMA-Factory Alpaca DPO and KTO, TRL explicit, implicit and unpaired are told apart."""
    cases = {
        "alpaca-dpo": {"instruction": "q", "chosen": "a", "rejected": "b"},
        "kto": {"instruction": "q", "output": "a", "kto_tag": False},
        "trl": {"prompt": "q", "chosen": "a", "rejected": "b"},
        "hh": {"chosen": "\n\nHuman: q\n\nAssistant: a", "rejected": "x"},
    }
    for fmt, record in cases.items():
        assert detect_format([(1, record)], "f.json") == fmt
    implicit = {"chosen": [{"role": "user", "content": "q"}], "rejected": []}
    assert detect_format([(1, implicit)], "f.json") == "trl"
    unpaired = {"prompt": "q", "completion": "a", "label": True}
    assert detect_format([(1, unpaired)], "f.json") == "trl"


def test_trl_layouts_and_sharegpt_system_column() -> None:
    """TRL implicit prompts split at the first differing message; a margin is kept; ShareGPT
    DPO's `system` column becomes the first prompt message."""
    user = {"role": "user", "content": "q"}
    chosen = [user, {"role": "assistant", "content": "good"}]
    rejected = [user, {"role": "assistant", "content": "bad"}]
    implicit, explicit, unpaired = rows_of(
        [
            {"chosen": chosen, "rejected": rejected},
            {"prompt": "q", "chosen": "good", "rejected": "bad", "margin": 2},
            {"prompt": [user], "completion": "good", "label": False},
        ],
        "trl",
    )
    assert implicit["prompt"] == [user] and implicit["chosen"] == chosen[1:]
    assert explicit["prompt"] == [user] and explicit["margin"] == 2.0
    assert unpaired["completion"] == [{"role": "assistant", "content": "good"}]
    assert unpaired["label"] is False and unpaired["chosen"] is None
    record = {
        "system": "Answer in French.",
        "conversations": [{"from": "human", "value": "Hi"}],
        "chosen": {"from": "gpt", "value": "Salut"},
        "rejected": {"from": "gpt", "value": "Hello"},
    }
    (row,) = rows_of([record], "sharegpt-dpo")
    assert row["prompt"][0] == {"role": "system", "content": "Answer in French."}
    both = {
        **record,
        "conversations": [{"from": "system", "value": "Other"}, {"from": "human", "value": "Hi"}],
    }
    assert import_records([(1, both)], "sharegpt-dpo", "t")[0].reject.reason == "bad_row"


def test_kto_layout_with_format_kto_and_keys_that_fit_nothing(
    capsys: pytest.CaptureFixture[str], workspace: Path, tmp_path: Path
) -> None:
    """`--format kto` reads LLaMA-Factory's Alpaca KTO layout; a file whose rows all fail is
    refused with one line naming the file, the keys the format reads and the keys found, and
    no version is written."""
    good = tmp_path / "kto.jsonl"
    records = [
        {"instruction": "2+2?", "output": "4", "tag": True},
        {"instruction": "2+2?", "input": "", "output": "5", "tag": False, "system": "Be exact."},
    ]
    good.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    args = ["curate", "preference", "--source", str(good), "--output", "k"]
    code, out = run_cli(capsys, *args, "--format", "kto")
    assert code == 0 and "input 2 = kept 2 + rejected 0 + quarantined 0" in out, out
    assert "1 desirable, 1 undesirable" in out
    rows = kept(workspace, "k")
    assert rows["prompt"].to_list()[1][0] == {"role": "system", "content": "Be exact."}

    wrong = tmp_path / "pairs.jsonl"
    wrong.write_text(json.dumps({"question": "q", "answer": "a"}) + "\n", encoding="utf-8")
    code, out = run_cli(
        capsys, "curate", "preference", "--source", str(wrong), "--output", "w", "--format", "kto"
    )
    assert code == 2
    assert f"{wrong}: no usable rows, all 1 were quarantined (bad_row 1)" in out
    assert "format kto reads messages, label; or instruction, output, kto_tag/tag/label" in out
    assert "its first records have answer, question" in out
    assert not (workspace / "datasets" / "w").exists() or not list(
        (workspace / "datasets" / "w").glob("v*")
    )

    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.jsonl").write_text(good.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "b.jsonl").write_text(wrong.read_text(encoding="utf-8"), encoding="utf-8")
    code, out = run_cli(
        capsys, "curate", "preference", "--source", str(folder), "--output", "m", "--format", "kto"
    )
    assert code == 0, out
    assert f"warning {folder / 'b.jsonl'}: all 1 rows were quarantined; format kto reads" in out
    manifest = Workspace.resolve(workspace).dataset("m").manifest
    assert len(manifest["warnings"]) == 1


def test_map_renames_columns_for_preference(
    capsys: pytest.CaptureFixture[str], workspace: Path, tmp_path: Path
) -> None:
    """--map works as in curate instruct: renamed columns are detected; a missing column, or a
    target the file already has, is refused with one line."""
    path = tmp_path / "stack.jsonl"
    record = {"question": "Sort a list?", "good": "sorted(xs)", "bad": "xs.sort", "prompt": "x"}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    args = ["curate", "preference", "--source", str(path), "--output", "s"]
    code, out = run_cli(capsys, *args, "--map", "prompt=question,chosen=good,rejected=bad")
    assert code == 2 and "record 1 already has a column 'prompt'" in out
    assert "--map prompt=question would overwrite" in out
    mapping = "prompt=question,chosen=good,rejected=bad,note=prompt"
    code, out = run_cli(capsys, *args, "--map", mapping)
    assert code == 0 and "input 1 = kept 1 + rejected 0 + quarantined 0" in out, out
    manifest = Workspace.resolve(workspace).dataset("s").manifest
    assert manifest["preference"]["format"] == "trl"
    assert manifest["preference"]["map"]["chosen"] == "good"
    row = kept(workspace, "s").row(0, named=True)
    assert row["prompt"] == [{"role": "user", "content": "Sort a list?"}]
    assert row["chosen"] == [{"role": "assistant", "content": "sorted(xs)"}]
    code, out = run_cli(capsys, *args, "--map", "prompt=title")
    assert code == 2 and "has no column prompt=title from --map" in out


def test_read_records_keeps_every_record(shared_data: Path) -> None:
    """Reading the real files gives one record per JSON list entry or JSONL line."""
    for name, count in (
        ("preference/dpo_en_demo.json", 300),
        ("preference/kto_en_demo.json", 300),
        ("preference/hh_rlhf_harmless_base_test.jsonl.gz", 2312),
    ):
        records, bad = read_records(shared_data / name)
        assert (len(records), len(bad)) == (count, 0)
