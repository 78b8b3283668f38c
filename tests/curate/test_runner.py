"""Recipe runs end to end: accounting, lineage, resume after a crash or a kill."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.curate.samples import WEB_EN_ORDER
from winnow.curate.dedup.exact.exact_dedup import ExactDedup
from winnow.curate.recipes import load_recipe, recipe_from_entries
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.workspace import Workspace

CC_FILE = "web/CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"


def curate(
    ws: Workspace, recipe: str, source: Path, output: str, batch_rows: int = 100, workers: int = 1
):
    """Run a shipped recipe over a file into the workspace."""
    options = RunOptions(batch_rows=batch_rows, workers=workers)
    return run_recipe(ws, load_recipe(recipe), resolve_source(str(source)), output, options)


def test_web_en_on_real_common_crawl(workspace: Path, shared_data: Path) -> None:
    ws = Workspace(workspace)
    dataset = curate(ws, "web-en", shared_data / CC_FILE, "cc")
    manifest = dataset.manifest
    counts = manifest["counts"]
    assert counts["input"] == 697
    assert counts["input"] == counts["kept"] + counts["rejected"] + counts["quarantined"]
    steps = [s["step"] for s in manifest["steps"]]
    assert steps == list(WEB_EN_ORDER)
    for before, after in zip(manifest["steps"], manifest["steps"][1:], strict=False):
        assert before["out"] == after["in"]
    assert manifest["steps"][-1]["out"] == counts["kept"]
    assert 0 < counts["kept"] < 697
    con = duckdb.connect()
    rejected = dataset.path / "rejected" / "*.parquet"
    by_step = dict(
        con.execute(
            f"SELECT step, count(*) FROM read_parquet('{rejected}', "
            "union_by_name=true) GROUP BY step"
        ).fetchall()
    )
    for step in manifest["steps"]:
        assert by_step.get(step["step"], 0) == step["in"] - step["out"]
    dupes = con.execute(
        f"SELECT id, duplicate_of FROM read_parquet('{rejected}', "
        "union_by_name=true) WHERE reason = 'duplicate'"
    ).fetchall()
    kept = dataset.path / "kept" / "*.parquet"
    kept_ids = {r[0] for r in con.execute(f"SELECT id FROM read_parquet('{kept}')").fetchall()}
    assert dupes and all(dup_of in kept_ids for _, dup_of in dupes)
    assert manifest["recipe"]["hash"] == load_recipe("web-en").hash
    assert manifest["source"]["fingerprint"] and len(manifest["fingerprint"]) == 32
    assert manifest["versions"]["polars"] == pl.__version__


def test_second_run_is_a_new_identical_version(workspace: Path, shared_data: Path) -> None:
    ws = Workspace(workspace)
    first = curate(ws, "web-ko", shared_data / "korean/constitution.txt", "ko")
    second = curate(ws, "web-ko", shared_data / "korean/constitution.txt", "ko")
    assert (first.version, second.version) == ("v1", "v2")
    assert first.manifest["fingerprint"] == second.manifest["fingerprint"]


def test_crash_mid_run_resumes_without_redoing_finished_shards(
    workspace: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = shared_data / CC_FILE
    clean = curate(Workspace(workspace / "clean"), "web-en", source, "cc")
    ws = Workspace(workspace / "crash")
    calls = {"n": 0}
    original = ExactDedup.score

    def failing_score(self: ExactDedup, df: pl.DataFrame) -> pl.DataFrame:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("disk went away")
        return original(self, df)

    monkeypatch.setattr(ExactDedup, "score", failing_score)
    with pytest.raises(OSError, match="disk went away"):
        curate(ws, "web-en", source, "cc")
    staging = next((ws.datasets_dir / "cc").glob(".staging-*"))
    assert len(list(staging.glob("s0/done-rows/*.json"))) == 3
    assert ws.versions("cc") == []
    calls["n"] = 100
    resumed = curate(ws, "web-en", source, "cc")
    assert calls["n"] == 100 + 7 - 3  # only the four unfinished shards were scored again
    assert resumed.manifest["fingerprint"] == clean.manifest["fingerprint"]
    assert resumed.manifest["counts"] == clean.manifest["counts"]
    assert not staging.exists()


def test_killed_process_resumes_to_same_dataset(workspace: Path, shared_data: Path) -> None:
    source = str(shared_data / CC_FILE)
    clean = curate(Workspace(workspace / "clean"), "web-en", Path(source), "cc", batch_rows=25)
    home = workspace / "killed"
    args = [
        sys.executable,
        "-m",
        "winnow",
        "curate",
        "run",
        "web-en",
        "--source",
        source,
        "--output",
        "cc",
        "--batch-rows",
        "25",
        "--workspace",
        str(home),
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(list(home.glob("datasets/cc/.staging-*/s0/done-rows/*.json"))) >= 3:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert Workspace(home).versions("cc") == []
    subprocess.run(args, check=True, capture_output=True)
    resumed = Workspace(home).dataset("cc")
    assert resumed.manifest["fingerprint"] == clean.manifest["fingerprint"]


def test_global_step_in_the_middle_feeds_later_steps(workspace: Path, shared_data: Path) -> None:
    entries = [{"step": "exact_dedup"}, {"step": "c4"}]
    recipe = recipe_from_entries("dedup-first", entries, "inline")
    source = resolve_source(str(shared_data / CC_FILE))
    dataset = run_recipe(Workspace(workspace), recipe, source, "mid", RunOptions(batch_rows=200))
    first, second = dataset.manifest["steps"]
    assert first["in"] == 697 and first["removed"]["duplicate"] >= 35
    assert second["in"] == first["out"]
    assert dataset.manifest["counts"]["kept"] == second["out"]
    text = json.dumps(dataset.manifest)
    assert "duplicate" in text


def test_worker_processes_give_the_same_dataset(workspace: Path, shared_data: Path) -> None:
    source = shared_data / CC_FILE
    alone = curate(Workspace(workspace / "one"), "web-en", source, "cc")
    pooled = curate(Workspace(workspace / "two"), "web-en", source, "cc", workers=2)
    assert pooled.manifest["fingerprint"] == alone.manifest["fingerprint"]
    assert pooled.manifest["counts"] == alone.manifest["counts"]
    drop_times = [{**s, "seconds": 0} for s in alone.manifest["steps"]]
    assert [{**s, "seconds": 0} for s in pooled.manifest["steps"]] == drop_times
