"""`winnow curate preference` end to end: dataset layout, manifest, nested columns, bad input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from tests.cli_helpers import run_cli
from winnow.workspace import Workspace

DPO = "preference/dpo_en_demo.json"


def test_sharegpt_dpo_end_to_end(
    capsys: pytest.CaptureFixture[str], shared_data: Path, workspace: Path, tmp_path: Path
) -> None:
    """The real DPO file becomes v1 with 295 kept, 5 duplicate pairs rejected, a full report."""
    code, out = run_cli(
        capsys, "curate", "preference", "--source", str(shared_data / DPO), "--output", "dpo"
    )
    assert code == 0, out
    assert "input 300 = kept 295 + rejected 5 + quarantined 0" in out
    assert "chosen longer than rejected" in out and "44.1% (130 of 295)" in out
    version = Workspace.resolve(workspace).dataset("dpo")
    manifest = version.manifest
    counts = manifest["counts"]
    assert counts["input"] == counts["kept"] + counts["rejected"] + counts["quarantined"] == 300
    assert manifest["kind"] == "preference" and manifest["preference"]["format"] == "sharegpt-dpo"
    assert manifest["preference"]["reasons"] == {"duplicate_pair": 5}
    assert manifest["preference"]["rejected"] == {"duplicate_pair": 5}
    assert manifest["preference"]["quarantined"] == {}
    assert "rejected: duplicate_pair │ 5" in out and "removed" not in out
    assert "kept │ 295 (295 pairs, 0 unpaired)" in out and "records read │ 300" in out
    assert manifest["preference"]["languages"]["en"] == 284
    kept = pl.read_parquet(version.path / "kept" / "*.parquet")
    assert kept.schema["prompt"] == pl.List(pl.Struct({"role": pl.Utf8, "content": pl.Utf8}))
    assert kept.row(0, named=True)["chosen"][0]["role"] == "assistant"
    rejected = pl.read_parquet(version.path / "rejected" / "*.parquet")
    assert set(rejected["reason"]) == {"duplicate_pair"}
    pairs = [(158, 14), (187, 112), (231, 85), (249, 29), (276, 118)]
    expected = [(f"dpo_en_demo.json:{a}", f"dpo_en_demo.json:{b}") for a, b in pairs]
    assert rejected.select("id", "duplicate_of").rows() == expected

    code, out = run_cli(
        capsys, "data", "sql", "SELECT len(prompt) AS turns, chosen[1].role AS r FROM dpo LIMIT 1"
    )
    assert code == 0 and "assistant" in out
    code, out = run_cli(capsys, "data", "head", "dpo", "-n", "1")
    assert code == 0 and "dpo_en_demo.json:1" in out
    exported = tmp_path / "dpo.jsonl"
    code, out = run_cli(capsys, "data", "export", "dpo", "-o", str(exported))
    assert code == 0, out
    first = json.loads(exported.read_text(encoding="utf-8").splitlines()[0])
    assert first["prompt"][0]["content"].startswith("Hi! I'd like to create a new language game")
    parquet = tmp_path / "dpo.parquet"
    assert run_cli(capsys, "data", "export", "dpo", "-o", str(parquet))[0] == 0
    back = pl.read_parquet(parquet)
    assert back.height == 295 and back.schema["chosen"] == kept.schema["chosen"]


def test_kto_and_hh_write_versions(
    capsys: pytest.CaptureFixture[str], shared_data: Path, workspace: Path
) -> None:
    """KTO rows stay unpaired; HH quarantines its 45 bad pairs with reasons (32 with a speaker
    tag inside an answer, 4 with turns out of order); versions count up."""
    kto = str(shared_data / "preference/kto_en_demo.json")
    assert run_cli(capsys, "curate", "preference", "--source", kto, "--output", "p")[0] == 0
    hh = str(shared_data / "preference/hh_rlhf_harmless_base_test.jsonl.gz")
    code, out = run_cli(capsys, "curate", "preference", "--source", hh, "--output", "p")
    assert code == 0, out
    ws = Workspace.resolve(workspace)
    kto_rows = pl.read_parquet(ws.dataset("p@v1").path / "kept" / "*.parquet")
    assert kto_rows["label"].sum() == 150 and kto_rows["chosen"].null_count() == 300
    hh_version = ws.dataset("p@v2")
    assert "input 2,312 = kept 2,267 + rejected 0 + quarantined 45" in out
    assert "quarantined: speaker_tag_in_answer │ 32" in out and "removed" not in out
    quarantine = pl.read_parquet(hh_version.path / "quarantine" / "*.parquet")
    expected = {
        "broken_history": 4,
        "empty_chosen": 4,
        "mismatched_prompts": 5,
        "speaker_tag_in_answer": 32,
    }
    assert dict(Counter(quarantine["reason"].to_list())) == expected
    assert hh_version.manifest["preference"]["quarantined"] == expected
    tagged = quarantine.filter(pl.col("reason") == "speaker_tag_in_answer")
    assert tagged["line"].head(4).to_list() == [30, 106, 141, 198]
    broken = quarantine.filter(pl.col("reason") == "broken_history")
    assert broken["line"].to_list() == [668, 764, 1320, 1850]
    assert f"quarantined {hh}: line " in out and "quarantined : " not in out
    assert set(quarantine["source_file"]) == {hh}


def test_bad_input_gives_one_line(
    capsys: pytest.CaptureFixture[str], shared_data: Path, workspace: Path, tmp_path: Path
) -> None:
    """Unknown format, a JSON object file and undetectable keys each exit 2 with one line."""
    source = str(shared_data / DPO)
    code, out = run_cli(
        capsys, "curate", "preference", "--source", source, "--output", "x", "--format", "csv"
    )
    assert code == 2 and "--format 'csv' is unknown" in out
    not_list = tmp_path / "obj.json"
    not_list.write_text('{"chosen": "a", "rejected": "b"}', encoding="utf-8")
    code, out = run_cli(capsys, "curate", "preference", "--source", str(not_list), "--output", "x")
    assert code == 2 and "not a list of records" in out
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"question": "q", "answer": "a"}\n', encoding="utf-8")
    code, out = run_cli(capsys, "curate", "preference", "--source", str(odd), "--output", "x")
    assert code == 2 and "match no preference format" in out
    assert not (workspace / "datasets" / "x").exists() or not any(
        (workspace / "datasets" / "x").iterdir()
    )


def test_hh_with_no_assistant_turn_is_quarantined(
    capsys: pytest.CaptureFixture[str], workspace: Path, tmp_path: Path
) -> None:
    """An HH row without an Assistant turn is quarantined with its reason; the rest is kept."""
    path = tmp_path / "hh.jsonl"
    rows = [
        {
            "chosen": "\n\nHuman: hi\n\nAssistant: hello",
            "rejected": "\n\nHuman: hi\n\nAssistant: go",
        },
        {"chosen": "\n\nHuman: hi there", "rejected": "\n\nHuman: hi again"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, out = run_cli(capsys, "curate", "preference", "--source", str(path), "--output", "hh")
    assert code == 0, out
    assert "input 2 = kept 1 + rejected 0 + quarantined 1" in out
    assert "no_assistant_turn" in out


def test_ranked_adjacent_and_rated_auto(
    capsys: pytest.CaptureFixture[str], workspace: Path, tmp_path: Path
) -> None:
    """Ranked rows give one pair per neighbouring outputs; rated rows are detected and tied
    ones quarantined."""
    ranked = tmp_path / "ranked.json"
    ranked.write_text(json.dumps([{"prompt": "Pick", "output": ["a", "b", "c", "d"]}]), "utf-8")
    args = ["curate", "preference", "--source", str(ranked), "--output", "r"]
    code, out = run_cli(capsys, *args, "--format", "ranked", "--pairs", "adjacent")
    assert code == 0 and "input 3 = kept 3 + rejected 0 + quarantined 0" in out
    rated = tmp_path / "rated.jsonl"
    records = [
        {
            "instruction": "Hi",
            "answers": [{"text": "Hello!", "rating": 4}, {"text": "?", "rating": 1}],
        },
        {
            "instruction": "Yo",
            "answers": [{"text": "Hey", "rating": 2}, {"text": "Sup", "rating": 2}],
        },
    ]
    rated.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    code, out = run_cli(capsys, "curate", "preference", "--source", str(rated), "--output", "s")
    assert code == 0 and "input 2 = kept 1 + rejected 0 + quarantined 1" in out
    manifest = Workspace.resolve(workspace).dataset("s").manifest
    assert manifest["preference"]["format"] == "rated"
    assert manifest["preference"]["reasons"] == {"tie": 1}
    assert manifest["preference"]["quarantined"] == {"tie": 1}
    assert "quarantined: tie │ 1" in out
    kept = pl.read_parquet(Workspace.resolve(workspace).dataset("s").path / "kept" / "*.parquet")
    assert kept["margin"].to_list() == [3.0]


def test_folder_dedups_across_files(
    capsys: pytest.CaptureFixture[str], shared_data: Path, workspace: Path, tmp_path: Path
) -> None:
    """The same file twice in a folder: every pair of the second copy is a rejected duplicate,
    and mixed formats are detected per file."""
    folder = tmp_path / "prefs"
    for sub in ("a", "b"):
        (folder / sub).mkdir(parents=True)
        (folder / sub / "dpo.json").symlink_to(shared_data / DPO)
    (folder / "kto.json").symlink_to(shared_data / "preference" / "kto_en_demo.json")
    args = ["curate", "preference", "--source", str(folder), "--output", "prefs"]
    code, out = run_cli(capsys, *args)
    assert code == 0, out
    assert "input 900 = kept 595 + rejected 305 + quarantined 0" in out
    manifest = Workspace.resolve(workspace).dataset("prefs").manifest
    assert manifest["preference"]["format"] == "sharegpt-dpo+kto"
    assert manifest["source"]["name"] == "prefs"
    assert len(manifest["source"]["files"]) == 3
    version = Workspace.resolve(workspace).dataset("prefs")
    rejected = pl.read_parquet(version.path / "rejected" / "*.parquet")
    assert rejected.filter(pl.col("id").str.starts_with("b/dpo.json:")).height == 300
