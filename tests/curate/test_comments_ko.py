"""The shipped comments-ko recipe on real Korean comments: short rows survive the rules that
are meant for them, no step removes (nearly) everything, and what is kept obeys each rule."""

import gzip
from pathlib import Path

import polars as pl
import pytest

from winnow.curate.recipes import load_recipe
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.workspace import Workspace

CLEANBOT = "클린봇이 부적절한 표현을 감지한 댓글입니다."


@pytest.fixture(scope="module")
def curated(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """comments-ko on the first 4,000 news comments (a comment per line)."""
    folder = tmp_path_factory.mktemp("comments")
    with gzip.open(shared_data / "korean" / "news_comments.txt.gz", "rt", encoding="utf-8") as f:
        lines = [next(f).rstrip("\n") for _ in range(4000)]
    source = folder / "comments.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = resolve_source(str(source), fmt="text")
    spec.options.update({"text_mode": "line"})
    dataset = run_recipe(
        Workspace(folder / "ws"), load_recipe("comments-ko"), spec, "news", RunOptions()
    )
    root = folder / "ws" / "datasets" / "news" / "v1"
    return {"lines": lines, "manifest": dataset.manifest, "kept": rows(root / "kept"),
            "rejected": rows(root / "rejected")}  # fmt: skip


def rows(folder: Path) -> pl.DataFrame:
    """Every shard of a kept or rejected folder (shards may differ in their columns)."""
    shards = [pl.read_parquet(p) for p in sorted(folder.glob("*.parquet"))]
    return pl.concat(shards, how="diagonal_relaxed")


def test_the_recipe_runs_its_steps_in_order_without_a_removal_warning(curated: dict) -> None:
    manifest = curated["manifest"]
    names = [s["step"] for s in manifest["steps"]]
    assert names == [
        "normalize", "short_text", "language", "exact_dedup", "minhash_dedup",
        "quality_classifier",
    ]  # fmt: skip
    assert manifest["removal_warnings"] == []
    counts = manifest["counts"]
    assert counts["input"] == 4000 and counts["kept"] > 1000


def test_kept_rows_obey_every_rule(curated: dict) -> None:
    kept = curated["kept"]
    assert (kept["short_text_letters"] >= 2).all()
    assert (kept["short_text_run_share"] <= 0.8).all()
    assert (kept["short_text_contacts"] == 0).all()
    assert (kept["language"] == "ko").all()
    assert (kept["quality_score"] >= 0.5).all()
    assert kept["text"].n_unique() == kept.height
    assert set(kept["text"]) <= set(curated["lines"])  # judged, never rewritten


def test_placeholders_and_copies_go_with_their_reasons(curated: dict) -> None:
    rejected = curated["rejected"]
    placeholders = rejected.filter(pl.col("text") == CLEANBOT)
    assert placeholders.height == curated["lines"].count(CLEANBOT) > 50
    assert set(placeholders["reason"]) == {"placeholder"}
    near = rejected.filter(pl.col("reason") == "near_duplicate")
    assert near.height > 0 and near["duplicate_of"].is_not_null().all()
