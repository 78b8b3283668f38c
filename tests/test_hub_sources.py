"""Instruction and preference sources beyond local JSON: Parquet files (as hub datasets ship
them) and hub dataset ids, which offline get one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.cli_helpers import run_cli
from winnow.workspace import Workspace


def test_instruction_and_preference_sets_import_from_parquet(
    capsys: pytest.CaptureFixture[str], shared_data: Path, workspace: Path, tmp_path: Path
) -> None:
    """The real Alpaca and DPO demo rows written as Parquet import as they do from JSON."""
    alpaca = json.loads((shared_data / "instruct" / "alpaca_en_demo.json").read_text())
    pl.DataFrame(alpaca[:50]).write_parquet(tmp_path / "train-00000.parquet")
    code, out = run_cli(
        capsys,
        "curate",
        "instruct",
        "--source",
        str(tmp_path / "train-00000.parquet"),
        "--output",
        "a",
    )
    assert code == 0, out
    assert Workspace.resolve(workspace).dataset("a").manifest["counts"]["input"] == 50
    pairs = json.loads((shared_data / "preference" / "dpo_en_demo.json").read_text())
    pl.DataFrame(pairs[:40]).write_parquet(tmp_path / "pairs.parquet")
    code, out = run_cli(
        capsys, "curate", "preference", "--source", str(tmp_path / "pairs.parquet"), "--output", "p"
    )
    assert code == 0, out
    assert Workspace.resolve(workspace).dataset("p").manifest["counts"]["input"] == 40


@pytest.mark.parametrize("command", ["instruct", "preference"])
def test_hub_dataset_offline_is_one_line(
    command: str, capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    """A hub id while HF_HUB_OFFLINE=1 and not cached says so and what to do instead."""
    code, out = run_cli(
        capsys, "curate", command, "--source", "winnow-tests/no-such-set", "--output", "x"
    )
    assert code == 2
    assert "--source winnow-tests/no-such-set: no such file or folder here" in out
    assert "as a hub dataset id it is not in the local cache while the hub is off" in out
    assert "give a local file or folder" in out
