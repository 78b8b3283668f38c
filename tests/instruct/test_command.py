"""`winnow curate instruct` end to end: a dataset version with renders, counts, quarantine."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.cli_helpers import run_cli
from winnow.instruct.render import PROMPT_NO_INPUT


def version_dir(workspace: Path, name: str, version: str = "v1") -> Path:
    """The folder of a written dataset version."""
    return workspace / "datasets" / name / version


def test_chatbot_csv_end_to_end(
    capsys: pytest.CaptureFixture[str], workspace: Path, shared_data: Path
) -> None:
    """ChatbotData: every row accounted for; budget quarantine and duplicates in the report."""
    source = shared_data / "korean" / "ChatbotData.csv"
    args = ["curate", "instruct", "--source", str(source), "--map", "question=Q,answer=A"]
    code, out = run_cli(capsys, *args, "--max-tokens", "12", "--output", "chat")
    assert code == 0, out
    assert "over_token_budget │ 470" in out
    assert "input 11,823 = kept 11,280 + rejected 73 + quarantined 470" in out
    folder = version_dir(workspace, "chat")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "instruct"
    assert manifest["counts"]["input"] == 11823
    assert manifest["source"]["files"] == [str(source)]
    assert manifest["instruct"]["quarantined_by_reason"] == {"over_token_budget": 470}
    assert manifest["instruct"]["map"] == {"question": "Q", "answer": "A"}
    kept = pl.read_parquet(folder / "kept" / "*.parquet")
    first = kept.row(0, named=True)
    expected = PROMPT_NO_INPUT.format(instruction="12시 땡!") + "하루가 또 가네요."
    assert first["text"] == expected
    assert first["source_file"] == str(source)
    assert json.loads(first["completion"]) == [
        {"role": "assistant", "content": "하루가 또 가네요."}
    ]
    quarantine = pl.read_parquet(folder / "quarantine" / "*.parquet")
    assert quarantine.height == 470
    assert quarantine["error"].str.contains("over_token_budget").all()
    rejected = pl.read_parquet(folder / "rejected" / "*.parquet")
    assert set(rejected["reason"]) == {"duplicate"}
    assert not list((workspace / "datasets" / "chat").glob(".*"))


def test_lima_history_is_stored_as_json(
    capsys: pytest.CaptureFixture[str], workspace: Path, shared_data: Path
) -> None:
    """LIMA through the command: no row lost, history and messages kept as JSON text."""
    source = str(shared_data / "instruct" / "lima.json")
    code, out = run_cli(capsys, "curate", "instruct", "--source", source, "--output", "lima")
    assert code == 0, out
    assert "format alpaca: 1,029 rows imported" in out
    manifest = json.loads((version_dir(workspace, "lima") / "manifest.json").read_text())
    counts = manifest["counts"]
    assert counts["input"] == counts["kept"] + counts["rejected"] == 1029
    kept = pl.read_parquet(version_dir(workspace, "lima") / "kept" / "*.parquet")
    turns = kept["history"].map_elements(lambda h: len(json.loads(h)), return_dtype=pl.Int64)
    assert int(turns.sum()) == sum(len(json.loads(m)) for m in kept["messages"]) // 2 - kept.height


def test_planted_bad_rows_reach_quarantine(
    capsys: pytest.CaptureFixture[str], workspace: Path, tmp_path: Path
) -> None:
    """Validation's rows join the version's quarantine split and its counts."""
    records = [
        {"instruction": "Name a colour.", "input": "", "output": "Blue."},
        {"instruction": "Name a colour.", "input": "", "output": "Blue."},
        {"instruction": "", "input": "", "output": "Red."},
        {"instruction": "Name a fruit.", "output": "Apple.", "history": [["hi"]]},
    ]
    path = tmp_path / "small.json"
    path.write_text(json.dumps(records))
    code, out = run_cli(capsys, "curate", "instruct", "--source", str(path), "--output", "small")
    assert code == 0, out
    assert "input 4 = kept 1 + rejected 1 + quarantined 2" in out
    quarantine = pl.read_parquet(version_dir(workspace, "small") / "quarantine" / "*.parquet")
    assert quarantine["line"].to_list() == [3, 4]
    assert quarantine["error"][0].startswith("line 3: empty_instruction")
    assert quarantine["error"][1].startswith("line 4: broken_history")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "vicuna"], "--format 'vicuna' is unknown"),
        (["--map", "question=Question,answer=A"], "has no column question=Question"),
        (["--tokenizer", "tok.json"], "--tokenizer only counts tokens for --max-tokens"),
        (["--recipe", "no-such-recipe"], "no recipe 'no-such-recipe'"),
    ],
)
def test_bad_options_fail_in_one_line(
    capsys: pytest.CaptureFixture[str],
    workspace: Path,
    shared_data: Path,
    extra: list[str],
    message: str,
) -> None:
    """Bad options stop with exit code 2 and a one-line error."""
    source = str(shared_data / "korean" / "ChatbotData.csv")
    code, out = run_cli(capsys, "curate", "instruct", "--source", source, "--output", "x", *extra)
    assert code == 2
    assert message in out


def test_json_not_a_list_fails(
    capsys: pytest.CaptureFixture[str], workspace: Path, tmp_path: Path
) -> None:
    """A JSON object is refused before anything is written."""
    path = tmp_path / "obj.json"
    path.write_text(json.dumps({"instruction": "a", "output": "b"}))
    code, out = run_cli(capsys, "curate", "instruct", "--source", str(path), "--output", "x")
    assert code == 2
    assert "not a list of records" in out
    assert not (workspace / "datasets" / "x").exists()


def test_all_rows_quarantined_fails(
    capsys: pytest.CaptureFixture[str], workspace: Path, tmp_path: Path
) -> None:
    """A file with no usable row says so with the reasons."""
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{"instruction": "a", "output": ""}]))
    code, out = run_cli(capsys, "curate", "instruct", "--source", str(path), "--output", "x")
    assert code == 2
    assert "no usable rows; all 1 were quarantined (empty_output 1)" in out


def test_folder_of_files_with_their_own_formats(
    capsys: pytest.CaptureFixture[str], workspace: Path, shared_data: Path, tmp_path: Path
) -> None:
    """A folder: each file detected on its own, rows named by file, every row accounted for."""
    folder = tmp_path / "mixed"
    (folder / "seeds").mkdir(parents=True)
    (folder / "lima.json").symlink_to(shared_data / "instruct" / "lima.json")
    seeds = shared_data / "instruct" / "self_instruct_seed_tasks.jsonl"
    (folder / "seeds" / "tasks.jsonl").symlink_to(seeds)
    (folder / "notes.txt").write_text("not an instruction file\n")
    args = ["curate", "instruct", "--source", str(folder), "--output", "mixed"]
    code, out = run_cli(capsys, *args)
    assert code == 0, out
    assert "format alpaca+self-instruct: 1,204 rows imported from 2 files" in out
    manifest = json.loads((version_dir(workspace, "mixed") / "manifest.json").read_text())
    assert manifest["source"]["name"] == "mixed"
    assert manifest["source"]["files"] == [
        str(folder / "lima.json"),
        str(folder / "seeds" / "tasks.jsonl"),
    ]
    assert manifest["counts"]["input"] == 1204
    kept = pl.read_parquet(version_dir(workspace, "mixed") / "kept" / "*.parquet")
    assert set(kept["source"]) == {"lima.json", "seeds/tasks.jsonl"}
    by_file = dict(kept.group_by("source_file").len().iter_rows())
    assert set(by_file) == {str(folder / "lima.json"), str(folder / "seeds" / "tasks.jsonl")}


def test_glob_and_missing_source(
    capsys: pytest.CaptureFixture[str], workspace: Path, shared_data: Path
) -> None:
    """A quoted glob takes the matching files; a pattern with no match is one clear line."""
    pattern = str(shared_data / "instruct" / "alpaca_*_demo.json")
    code, out = run_cli(capsys, "curate", "instruct", "--source", pattern, "--output", "both")
    assert code == 0, out
    assert "rows imported from 2 files" in out
    manifest = json.loads((version_dir(workspace, "both") / "manifest.json").read_text())
    assert [Path(f).name for f in manifest["source"]["files"]] == [
        "alpaca_en_demo.json",
        "alpaca_zh_demo.json",
    ]
    assert manifest["instruct"]["rows_imported"] == 1999
    missing = str(shared_data / "instruct" / "nothing_*.json")
    code, out = run_cli(capsys, "curate", "instruct", "--source", missing, "--output", "none")
    assert code == 2
    assert "matches no files" in out


def test_messages_importer_on_real_conversations(
    capsys: pytest.CaptureFixture[str], workspace: Path, shared_data: Path
) -> None:
    """The KTO demo's OpenAI-style `messages`: earlier turns become history, the last answer
    the output."""
    source = str(shared_data / "preference" / "kto_en_demo.json")
    args = ["curate", "instruct", "--source", source, "--format", "messages", "--output", "msg"]
    code, out = run_cli(capsys, *args)
    assert code == 0, out
    assert "format messages: 300 rows imported" in out
    kept = pl.read_parquet(version_dir(workspace, "msg") / "kept" / "*.parquet")
    turns = kept["history"].map_elements(lambda h: len(json.loads(h)), return_dtype=pl.Int64)
    histogram = sorted(turns.value_counts().iter_rows())
    assert histogram == [(0, 223), (1, 3), (2, 47), (3, 22), (4, 1), (5, 4)]
    first = kept.row(0, named=True)
    assert first["instruction"].startswith("The Federal Trade Commission is going after spyware")
    assert first["output"].startswith("Ooh ooh ah ah! *giggle*")
