"""Exports for training tools, read back the way those tools read them."""

import json
from pathlib import Path

import polars as pl
import pytest
from datasets import load_dataset, load_from_disk

from tests.cli_helpers import run_cli
from winnow.workspace import Workspace


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


ROW_COLUMNS = ["prompt", "chosen", "rejected", "completion", "label", "margin"]
"""What a preference row holds besides its id and source (which name the file it came from)."""


def preference_rows(workspace: Path, name: str) -> list[dict]:
    """Kept rows of the latest version, without id and source."""
    path = Workspace.resolve(workspace).dataset(name).path
    return pl.read_parquet(path / "kept" / "*.parquet").select(ROW_COLUMNS).to_dicts()


@pytest.mark.parametrize(
    ("source", "layouts"),
    [
        ("preference/dpo_en_demo.json", ("trl", "alpaca-dpo")),
        ("preference/kto_en_demo.json", ("trl", "kto")),
        ("instruct/oaast_sft_zh.json", ("trl", "kto")),
    ],
)
def test_preference_round_trip(
    source: str,
    layouts: tuple[str, str],
    shared_data: Path,
    workspace: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
):
    """Import, export as trl and llama-factory, import again: the same rows, system prompts,
    earlier turns, completions and labels included."""
    path = shared_data / source
    if source.startswith("instruct/"):
        records = json.loads(path.read_text(encoding="utf-8"))
        path = tmp_path / "oasst_kto.json"
        tagged = [{**r, "tag": n % 2 == 0} for n, r in enumerate(records)]
        path.write_text(json.dumps(tagged, ensure_ascii=False), encoding="utf-8")
    code, out = run_cli(capsys, "curate", "preference", "--source", str(path), "--output", "a")
    assert code == 0, out
    original = preference_rows(workspace, "a")
    assert any(len(row["prompt"]) > 1 for row in original)
    for fmt, target, layout in (
        ("trl", tmp_path / "trl" / "a.jsonl", layouts[0]),
        ("llama-factory", tmp_path / "lf" / "a.json", layouts[1]),
    ):
        code, out = run_cli(capsys, "data", "export", "a", "--format", fmt, "-o", str(target))
        assert code == 0, out
        args = ["curate", "preference", "--source", str(target), "--output", f"b-{fmt}"]
        code, out = run_cli(capsys, *args)
        assert code == 0, out
        manifest = Workspace.resolve(workspace).dataset(f"b-{fmt}").manifest
        assert manifest["preference"]["format"] == layout
        assert preference_rows(workspace, f"b-{fmt}") == original


def test_kto_exports_keep_completion_label_and_system(
    shared_data: Path, workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """TRL gets prompt/completion/label; LLaMA-Factory gets output, kto_tag, system and history
    with their columns in dataset_info.json; a split mixing pairs and KTO rows is refused."""
    from trl.data_utils import is_conversational

    kto = shared_data / "preference" / "kto_en_demo.json"
    assert run_cli(capsys, "curate", "preference", "--source", str(kto), "--output", "k")[0] == 0
    target = tmp_path / "k.jsonl"
    code, out = run_cli(capsys, "data", "export", "k", "--format", "trl", "-o", str(target))
    assert code == 0, out
    rows = load_dataset(
        "json", data_files=str(target), split="train", cache_dir=str(tmp_path / "hf")
    )
    assert rows.column_names == ["prompt", "completion", "label"]
    assert sum(rows["label"]) == 150 and is_conversational(rows[0])
    assert rows[0]["completion"][0]["content"].startswith("Ooh ooh ah ah! *giggle*")
    lf = tmp_path / "lf" / "k.json"
    code, out = run_cli(capsys, "data", "export", "k", "--format", "llama-factory", "-o", str(lf))
    assert code == 0, out
    entry = json.loads((lf.parent / "dataset_info.json").read_text())["k"]
    assert entry["columns"]["kto_tag"] == "kto_tag" and entry["columns"]["response"] == "output"
    assert entry["columns"]["history"] == "history" and "ranking" not in entry
    exported = json.loads(lf.read_text())
    assert sum(r["kto_tag"] for r in exported) == 150
    assert sum(bool(r["history"]) for r in exported) == 77

    dpo = shared_data / "preference" / "dpo_en_demo.json"
    folder = tmp_path / "both"
    folder.mkdir()
    (folder / "dpo.json").symlink_to(dpo)
    (folder / "kto.json").symlink_to(kto)
    assert run_cli(capsys, "curate", "preference", "--source", str(folder), "--output", "m")[0] == 0
    for fmt, name in (("trl", "m.jsonl"), ("llama-factory", "m.json")):
        code, out = run_cli(
            capsys, "data", "export", "m", "--format", fmt, "-o", str(tmp_path / name)
        )
        assert code == 2 and "holds 295 paired and 300 unpaired (KTO) rows" in out


def test_llama_factory_keeps_system_and_notes_margin(
    shared_data: Path, workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """DPO system prompts reach LLaMA-Factory's `system` column; a rated set's margin, which
    that layout cannot hold, is named in a note (and kept by trl)."""
    dpo = shared_data / "preference" / "dpo_en_demo.json"
    assert run_cli(capsys, "curate", "preference", "--source", str(dpo), "--output", "d")[0] == 0
    lf = tmp_path / "d.json"
    assert (
        run_cli(capsys, "data", "export", "d", "--format", "llama-factory", "-o", str(lf))[0] == 0
    )
    rows = json.loads(lf.read_text())
    assert rows[1]["system"].startswith("You are a teacher. Given a task")
    assert json.loads((tmp_path / "dataset_info.json").read_text())["d"]["columns"]["system"]
    rated = tmp_path / "rated.jsonl"
    record = {
        "instruction": "Hi",
        "answers": [{"text": "Hello", "rating": 5}, {"text": "?", "rating": 1}],
    }
    rated.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert run_cli(capsys, "curate", "preference", "--source", str(rated), "--output", "r")[0] == 0
    code, out = run_cli(capsys, "data", "export", "r", "--format", "llama-factory", "-o", str(lf))
    assert code == 0 and "note margin (1 rows) is not written" in out
    trl = tmp_path / "r.jsonl"
    assert run_cli(capsys, "data", "export", "r", "--format", "trl", "-o", str(trl))[0] == 0
    assert json.loads(trl.read_text())["margin"] == 4.0
