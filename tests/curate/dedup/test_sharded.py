"""Global steps decided shard by shard (`minhash_dedup`, `exact_dedup`) give the one-process
run's verdicts, exactly."""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl
import pytest

from tests.curate.samples import edited, read_texts
from winnow.curate import runner
from winnow.curate.dedup.minhash import sharded
from winnow.curate.dedup.minhash.minhash_dedup import MinhashDedup
from winnow.curate.executors import Executor
from winnow.curate.recipes import load_recipe
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.curate.steps.base import GlobalContext, verdict_path
from winnow.workspace import DatasetVersion, Workspace


class ShardedHere(Executor):
    """Jobs in this process, deciding global steps shard by shard as on a cluster."""

    distributed = True


def corpus(shared_data: Path, folder: Path) -> Path:
    """Real web documents with planted near-copies, chains and exact copies across shards."""
    texts = read_texts(shared_data / "web" / "c4_demo.jsonl")
    texts = list(dict.fromkeys(t for t in texts if 60 <= len(t.split()) <= 1500))[:160]
    rng = random.Random(3)
    rows = [{"id": f"o{i}", "text": t} for i, t in enumerate(texts)]
    for i in range(0, 60, 3):
        rows.append({"id": f"c{i}", "text": edited(texts[i], rng, 2)})
        rows.append({"id": f"cc{i}", "text": edited(texts[i], rng, 4)})
    rows += [{"id": f"x{i}", "text": texts[i]} for i in range(100, 110)]
    rows += [{"id": "empty", "text": "…  —"}, {"id": "short", "text": "one two"}]
    rng.shuffle(rows)
    path = folder / "docs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def run(ws: Workspace, recipe: Path, source: Path, output: str) -> DatasetVersion:
    """Curate in shards of 25 rows."""
    options = RunOptions(batch_rows=25)
    return run_recipe(ws, load_recipe(str(recipe)), resolve_source(str(source)), output, options)


def rows(dataset: DatasetVersion, split: str) -> list[tuple]:
    """A split's rows as sorted tuples of id, reason, duplicate and cluster."""
    files = sorted((dataset.path / split).glob("*.parquet"))
    frame = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
    columns = [c for c in ("id", "reason", "duplicate_of", "cluster_id") if c in frame.columns]
    return sorted(frame.select(columns).rows())


@pytest.mark.parametrize(
    ("settings", "workers"),
    [
        ("threshold: 0.8", 1),
        ("threshold: 0.8", 8),
        ("threshold: 0.7\n    keep: longest", 1),
        ("threshold: 0.8\n    verify: false", 8),
        ("threshold: 0.8\n    against: old", 1),
    ],
)
def test_sharded_decision_matches_one_process(
    settings: str,
    workers: int,
    tmp_path: Path,
    shared_data: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ws = Workspace(tmp_path / "ws")
    source = corpus(shared_data, tmp_path)
    if "against" in settings:
        earlier = tmp_path / "earlier.jsonl"
        texts = read_texts(shared_data / "web" / "c4_demo.jsonl")[:40]
        earlier.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), "utf-8")
        old = tmp_path / "old.yaml"
        old.write_text("steps:\n  - step: exact_dedup\n", encoding="utf-8")
        run(ws, old, earlier, "old")
    recipe = tmp_path / "fuzzy.yaml"
    recipe.write_text(f"steps:\n  - step: minhash_dedup\n    {settings}\n", encoding="utf-8")
    here = run(ws, recipe, source, "here")
    # one worker: blocks of 5 shards; eight: a block per shard (see dedup.plan.make_plan)
    monkeypatch.setattr(runner, "make_executor", lambda *_: ShardedHere(workers))
    sharded = run(ws, recipe, source, "sharded")
    assert rows(sharded, "rejected") == rows(here, "rejected")
    assert rows(sharded, "kept") == rows(here, "kept")
    removed = here.manifest["counts"]["rejected"]
    assert removed >= 20, "the planted copies must be found for the comparison to mean much"
    assert sharded.manifest["fingerprint"] == here.manifest["fingerprint"]
    assert sharded.manifest["steps"][0]["tally"] == here.manifest["steps"][0]["tally"]
    work = list((ws.datasets_dir / "sharded").glob(".staging-*"))
    assert not work, "the scratch folders go with the staging area"


@pytest.mark.parametrize("workers", [1, 8])
def test_sharded_exact_then_near_duplicates_match_one_process(
    workers: int, tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """exact_dedup then minhash_dedup, two global steps in a row, both decided shard by shard."""
    ws = Workspace(tmp_path / "ws")
    source = corpus(shared_data, tmp_path)
    recipe = tmp_path / "both.yaml"
    recipe.write_text(
        "steps:\n  - step: exact_dedup\n    lowercase: true\n  - step: minhash_dedup\n",
        encoding="utf-8",
    )
    here = run(ws, recipe, source, "here")
    monkeypatch.setattr(runner, "make_executor", lambda *_: ShardedHere(workers))
    sharded = run(ws, recipe, source, "sharded")
    assert rows(sharded, "rejected") == rows(here, "rejected")
    assert rows(sharded, "kept") == rows(here, "kept")
    steps = {s["step"]: s["in"] - s["out"] for s in here.manifest["steps"]}
    assert steps["exact_dedup"] >= 10 and steps["minhash_dedup"] >= 20

    def counted(dataset: DatasetVersion) -> list[dict]:
        return [{k: v for k, v in s.items() if k != "seconds"} for s in dataset.manifest["steps"]]

    assert counted(sharded) == counted(here)


def test_a_second_attempt_ignores_the_first_attempts_files(
    tmp_path: Path, shared_data: Path
) -> None:
    """Scratch files of an attempt cut into other blocks (another worker count) are not read."""
    step = MinhashDedup()
    docs = pl.read_ndjson(corpus(shared_data, tmp_path))
    scored = []
    for i in range(0, docs.height, 25):
        path = tmp_path / "scored" / f"{i:05d}.parquet"
        path.parent.mkdir(exist_ok=True)
        step.score(docs.slice(i, 25)).write_parquet(path)
        scored.append(path)
    context = GlobalContext(tmp_path / "work", Workspace(tmp_path / "ws"))

    def verdicts(workers: int) -> list[pl.DataFrame]:
        tally = sharded.decide(step, scored, context, ShardedHere(workers))
        assert tally.get("clusters of 2", 0) > 0
        return [pl.read_parquet(verdict_path(context.workdir, i)) for i in range(len(scored))]

    fresh = verdicts(1)
    verdicts(8)
    for again, first in zip(verdicts(1), fresh, strict=True):
        assert again.equals(first)
