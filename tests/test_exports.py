"""Exports for training tools, read back the way those tools read them."""

import json
from pathlib import Path

import pytest
from datasets import load_dataset, load_from_disk

from tests.cli_helpers import run_cli


@pytest.fixture()
def alpaca(shared_data: Path, workspace: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The real Alpaca demo rows imported as an instruction set `alpaca`."""
    source = str(shared_data / "instruct" / "alpaca_en_demo.json")
    code, out = run_cli(capsys, "curate", "instruct", "--source", source, "--output", "alpaca")
    assert code == 0, out
    return "alpaca"


def test_trl_export_loads_with_datasets(alpaca: str, tmp_path: Path, capsys):
    target = tmp_path / "trl.jsonl"
    code, out = run_cli(capsys, "data", "export", alpaca, "--format", "trl", "-o", str(target))
    assert code == 0 and "(instruct)" in out, out
    rows = load_dataset(
        "json", data_files=str(target), split="train", cache_dir=str(tmp_path / "hf")
    )
    assert rows.column_names == ["prompt", "completion"]
    first = json.loads(
        (Path(__file__).parents[2] / "shared/data/instruct/alpaca_en_demo.json").read_text()
    )[0]
    user = first["instruction"] + (f"\n{first['input']}" if first["input"] else "")
    assert rows[0]["prompt"] == [{"role": "user", "content": user}]
    assert rows[0]["completion"] == [{"role": "assistant", "content": first["output"]}]


def test_llama_factory_export_writes_its_dataset_info(alpaca: str, tmp_path: Path, capsys):
    target = tmp_path / "lf" / "alpaca.json"
    code, out = run_cli(
        capsys, "data", "export", alpaca, "--format", "llama-factory", "-o", str(target)
    )
    assert code == 0, out
    info = json.loads((target.parent / "dataset_info.json").read_text())
    assert info["alpaca"]["file_name"] == "alpaca.json"
    assert info["alpaca"]["columns"]["prompt"] == "instruction"
    rows = json.loads(target.read_text())
    assert set(rows[0]) >= {"instruction", "input", "output"} and len(rows) > 900


def test_hf_export_loads_from_disk(alpaca: str, tmp_path: Path, capsys):
    target = tmp_path / "hf"
    code, out = run_cli(capsys, "data", "export", alpaca, "--format", "hf", "-o", str(target))
    assert code == 0, out
    loaded = load_from_disk(str(target))
    assert {"id", "text", "instruction", "output", "messages"} <= set(loaded.column_names)
    assert loaded[0]["messages"][-1]["role"] == "assistant"
    code, out = run_cli(capsys, "data", "export", alpaca, "--format", "hf", "-o", str(target))
    assert code == 2 and "is a folder with files" in out
    code, out = run_cli(capsys, "data", "export", alpaca, "--format", "csv", "-o", str(target))
    assert code == 2 and "--format 'csv' is unknown" in out


def test_preference_pairs_export_for_trl_and_llama_factory(
    shared_data: Path, workspace: Path, tmp_path: Path, capsys
):
    source = str(shared_data / "preference" / "dpo_en_demo.json")
    code, out = run_cli(capsys, "curate", "preference", "--source", source, "--output", "dpo")
    assert code == 0, out
    target = tmp_path / "dpo.parquet"
    code, out = run_cli(capsys, "data", "export", "dpo", "--format", "trl", "-o", str(target))
    assert code == 0 and "(preference)" in out, out
    rows = load_dataset(
        "parquet", data_files=str(target), split="train", cache_dir=str(tmp_path / "hf")
    )
    assert rows.column_names == ["prompt", "chosen", "rejected"] and len(rows) == 295
    assert rows[0]["chosen"][-1]["role"] == "assistant"
    assert rows[0]["prompt"][-1]["role"] == "user"
    lf = tmp_path / "lf" / "dpo.json"
    code, out = run_cli(capsys, "data", "export", "dpo", "--format", "llama-factory", "-o", str(lf))
    assert code == 0, out
    entry = json.loads((lf.parent / "dataset_info.json").read_text())["dpo"]
    assert entry["ranking"] is True and entry["columns"]["chosen"] == "chosen"
    first = json.loads(lf.read_text())[0]
    assert first["chosen"] == rows[0]["chosen"][-1]["content"]
    assert first["instruction"] == rows[0]["prompt"][-1]["content"]
