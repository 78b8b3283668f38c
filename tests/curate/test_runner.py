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
from winnow.errors import WinnowError
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


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Rows as a JSON Lines file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def duplicate_folder(root: Path) -> Path:
    """Two files whose ids repeat within a file, across shards and across the files."""
    folder = root / "dups"
    write_jsonl(folder / "a.jsonl", [{"id": k, "text": f"a{n}"} for n, k in enumerate("abca")])
    write_jsonl(folder / "b.jsonl", [{"id": k, "text": f"b{n}"} for n, k in enumerate("cde")])
    write_jsonl(folder / "c.jsonl", [{"id": 7, "text": "c0"}, {"id": "7", "text": "c1"}])
    return folder


def dedup_recipe():  # noqa: ANN201
    """A one-step recipe (its texts are all different, so it removes nothing)."""
    return recipe_from_entries("ids", [{"step": "exact_dedup"}], "inline")


def test_duplicate_ids_are_quarantined_naming_the_first(workspace: Path, tmp_path: Path) -> None:
    """Later rows that reuse an id (within a file, across shards, across files, 7 and "7")
    are quarantined as duplicate_id; the first keeps it; counts add up; same with workers."""
    folder = duplicate_folder(tmp_path)
    source = resolve_source(str(folder))
    one = run_recipe(
        Workspace(workspace / "one"), dedup_recipe(), source, "d", RunOptions(batch_rows=2)
    )
    counts = one.manifest["counts"]
    assert counts == {**counts, "input": 9, "kept": 6, "rejected": 0, "quarantined": 3}
    kept = pl.read_parquet(one.path / "kept" / "*.parquet")
    assert kept.select("id", "text").rows() == [
        ("a", "a0"),
        ("b", "a1"),
        ("c", "a2"),
        ("d", "b1"),
        ("e", "b2"),
        ("7", "c0"),
    ]
    quarantine = pl.read_parquet(one.path / "quarantine" / "*.parquet").sort("source_file", "line")
    a, b, c = (str(folder / n) for n in ("a.jsonl", "b.jsonl", "c.jsonl"))
    assert quarantine.select("source_file", "line").rows() == [(a, 4), (b, 1), (c, 2)]
    assert quarantine["error"][0].startswith(
        f"line 4: duplicate_id: id 'a' is already the id of {a} line 1; ids must be unique"
    )
    assert f"id 'c' is already the id of {a} line 3" in quarantine["error"][1]
    assert json.loads(quarantine["raw"][0])["text"] == "a3"
    assert any("3 rows reused an id" in w for w in one.manifest["warnings"])
    pooled = run_recipe(
        Workspace(workspace / "two"),
        dedup_recipe(),
        source,
        "d",
        RunOptions(batch_rows=2, workers=2),
    )
    assert pooled.manifest["fingerprint"] == one.manifest["fingerprint"]
    assert pooled.manifest["counts"] == one.manifest["counts"]
    pooled_quarantine = pl.read_parquet(pooled.path / "quarantine" / "*.parquet")
    assert pooled_quarantine.sort("source_file", "line").equals(quarantine)
    with pytest.raises(WinnowError, match=r"a.jsonl: line 4: duplicate_id: .*--strict stops here"):
        run_recipe(Workspace(workspace / "s"), dedup_recipe(), source, "d", RunOptions(strict=True))


def test_duplicate_ids_survive_a_crash_and_resume(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = resolve_source(str(duplicate_folder(tmp_path)))
    clean = run_recipe(
        Workspace(workspace / "c"), dedup_recipe(), source, "d", RunOptions(batch_rows=2)
    )
    original = ExactDedup.score
    calls = {"n": 0}

    def failing_score(self: ExactDedup, df: pl.DataFrame) -> pl.DataFrame:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk went away")
        return original(self, df)

    monkeypatch.setattr(ExactDedup, "score", failing_score)
    ws = Workspace(workspace / "crash")
    with pytest.raises(OSError):
        run_recipe(ws, dedup_recipe(), source, "d", RunOptions(batch_rows=2))
    staging = next((ws.datasets_dir / "d").glob(".staging-*"))
    assert (staging / "read.json").exists() and (staging / "ids.json").exists()
    resumed = run_recipe(ws, dedup_recipe(), source, "d", RunOptions(batch_rows=2))
    assert resumed.manifest["fingerprint"] == clean.manifest["fingerprint"]
    assert resumed.manifest["counts"] == clean.manifest["counts"]


def test_duplicate_ids_are_the_same_on_ray(workspace: Path, tmp_path: Path) -> None:
    """Each file read by a Ray task of its own: the same rows are set aside as locally."""
    pytest.importorskip("ray")
    source = resolve_source(str(duplicate_folder(tmp_path)))
    local = run_recipe(
        Workspace(workspace / "l"), dedup_recipe(), source, "d", RunOptions(batch_rows=2)
    )
    options = RunOptions(batch_rows=2, executor="ray", workers=2)
    on_ray = run_recipe(Workspace(workspace / "r"), dedup_recipe(), source, "d", options)
    assert on_ray.manifest["execution"]["source_read_by"] == "a task per file"
    assert on_ray.manifest["fingerprint"] == local.manifest["fingerprint"]
    assert on_ray.manifest["counts"] == local.manifest["counts"]


def test_truncated_file_in_a_folder_keeps_its_rows_and_the_run_goes_on(
    workspace: Path, tmp_path: Path, shared_data: Path
) -> None:
    """A cut .jsonl.gz beside a good file: its whole lines are curated, the cut is one
    quarantined row naming file, line and byte, and the good file is read; --strict stops
    at the cut with one sentence."""
    folder = tmp_path / "crawl"
    folder.mkdir()
    (folder / "a.jsonl.gz").write_bytes((shared_data / CC_FILE).read_bytes()[:300_000])
    (folder / "b.jsonl").write_bytes((shared_data / "web" / "c4_demo.jsonl").read_bytes())
    source = resolve_source(str(folder))
    dataset = run_recipe(Workspace(workspace), dedup_recipe(), source, "crawl", RunOptions())
    counts = dataset.manifest["counts"]
    assert counts["input"] == counts["kept"] + counts["rejected"] + counts["quarantined"]
    assert counts["quarantined"] == 1 and counts["input"] == 207 + 1 + 300
    row = pl.read_parquet(dataset.path / "quarantine" / "*.parquet").row(0, named=True)
    assert (row["source_file"], row["line"]) == (str(folder / "a.jsonl.gz"), 208)
    assert row["error"].startswith("line 208: the gzip data is damaged after 896,633 bytes")
    with pytest.raises(
        WinnowError, match=r"a.jsonl.gz: line 208: the gzip data is damaged.*--strict"
    ):
        run_recipe(Workspace(workspace / "s"), dedup_recipe(), source, "c", RunOptions(strict=True))


def test_no_readable_rows_names_the_empty_file(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    source = resolve_source(str(path))
    with pytest.raises(WinnowError, match=rf"has no readable rows \({path}: is empty; no doc"):
        run_recipe(Workspace(workspace), dedup_recipe(), source, "e", RunOptions())
