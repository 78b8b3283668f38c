"""quality_classifier: one fastText call per shard, scores that match the model, a picklable
step, and a recipe run that keeps exactly the rows at or above the threshold."""

import json
import os
import pickle
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.cli_helpers import run_cli
from winnow.curate.quality_model import (
    TrainConfig,
    TrainResult,
    load_model,
    normalize_texts,
    train_quality_model,
)
from winnow.curate.sources import resolve_source
from winnow.curate.steps import build_step
from winnow.curate.steps.quality_classifier import QualityClassifier
from winnow.errors import WinnowError

CC = "web/CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"


@pytest.fixture(scope="module")
def trained(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """LIMA's answers (keep) against a Common Crawl WARC's pages (drop), full precision."""
    return train_quality_model(
        [resolve_source(str(shared_data / "instruct" / "lima.json"), text_field="output")],
        [resolve_source(str(shared_data / CC))],
        tmp_path_factory.mktemp("quality") / "lima-vs-cc.bin",
        TrainConfig(quantize=False),
    )


def test_held_out_documents_score_by_their_class(trained: TrainResult):
    step = QualityClassifier(model=str(trained.path), threshold=0.5)
    scored = step.score(trained.held_out)
    scores = scored["quality_score"]
    assert scores.min() >= 0 and scores.max() <= 1
    positive = scored.filter(pl.col("positive"))["quality_score"]
    negative = scored.filter(~pl.col("positive"))["quality_score"]
    assert positive.mean() > 0.75 and negative.mean() < 0.25
    reasons = scored.select(step.reason()).to_series().to_list()
    assert reasons == ["low_quality" if s < 0.5 else None for s in scores]


def test_unseen_sources_keep_their_order(trained: TrainResult, shared_data: Path):
    """Alpaca's answers and C4's pages were never trained on; answers still score higher."""
    step = QualityClassifier(model=str(trained.path))
    rows = json.loads((shared_data / "instruct" / "alpaca_en_demo.json").read_text())
    answers = step.score(pl.DataFrame({"text": [r["output"] for r in rows]}))["quality_score"]
    pages = step.score(pl.read_ndjson(shared_data / "web" / "c4_demo.jsonl").select("text"))
    assert answers.mean() > pages["quality_score"].mean() + 0.05


def test_shard_scores_equal_the_model_one_text_at_a_time(trained: TrainResult):
    texts = trained.held_out["text"][:40].to_list() + ["", None, " \n\t "]
    scored = QualityClassifier(model=str(trained.path)).score(pl.DataFrame({"text": texts}))
    model = load_model(trained.path)
    expected = []
    for text in normalize_texts(pl.Series(texts)).to_list():
        if not text:
            expected.append(0.0)
            continue
        labels, probs = model.predict(text, k=-1)
        expected.append(min(float(dict(zip(labels, probs, strict=True))["__label__positive"]), 1.0))
    np.testing.assert_allclose(scored["quality_score"].to_numpy(), expected, atol=1e-6)


def test_the_step_pickles_without_its_model_which_loads_once(trained: TrainResult, tmp_path):
    step = QualityClassifier(model=str(trained.path))
    blob = pickle.dumps(step)
    assert len(blob) < 500
    frame = trained.held_out.head(20)
    assert pickle.loads(blob).score(frame).equals(step.score(frame))
    assert load_model(trained.path) is load_model(str(trained.path))
    copy = tmp_path / "copy.bin"
    copy.write_bytes(trained.path.read_bytes())
    first = load_model(copy)
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_model(copy) is not first


def test_a_recipe_keeps_exactly_the_rows_at_or_above_the_threshold(
    trained: TrainResult,
    shared_data: Path,
    tmp_path: Path,
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
):
    recipe = tmp_path / "quality.yaml"
    recipe.write_text(
        f"steps:\n  - step: quality_classifier\n    model: {trained.path}\n    threshold: 0.6\n",
        encoding="utf-8",
    )
    source = shared_data / "web" / "c4_demo.jsonl"
    code, out = run_cli(
        capsys, "curate", "run", str(recipe), "--source", str(source), "--output", "q",
        "--batch-rows", "100", "--workers", "2",
    )  # fmt: skip
    assert code == 0, out
    version = workspace / "datasets" / "q" / "v1"
    kept = pl.read_parquet(version / "kept" / "*.parquet")
    rejected = pl.read_parquet(version / "rejected" / "*.parquet")
    direct = QualityClassifier(model=str(trained.path)).score(pl.read_ndjson(source))
    expected_rejected = int((direct["quality_score"] < 0.6).sum())
    assert 0 < expected_rejected < 300 and rejected.height == expected_rejected
    assert kept.height + rejected.height == 300
    assert kept["quality_score"].min() >= 0.6 and rejected["quality_score"].max() < 0.6
    assert set(rejected["reason"]) == {"low_quality"} and "low_quality" in out
    assert sorted(kept["quality_score"]) == sorted(
        direct.filter(pl.col("quality_score") >= 0.6)["quality_score"]
    )


def test_bad_parameters_get_one_clear_line(trained: TrainResult, tmp_path: Path):
    with pytest.raises(WinnowError, match="quality model '.*missing.bin' is not a file; train"):
        QualityClassifier(model=str(tmp_path / "missing.bin"))
    for bad in (1.5, -0.1):
        with pytest.raises(WinnowError, match=f"threshold {bad} must be between 0 and 1"):
            QualityClassifier(model=str(trained.path), threshold=bad)
    with pytest.raises(WinnowError, match="has no label 'hq'; its labels are: positive, negative"):
        QualityClassifier(model=str(trained.path), label="hq")
    with pytest.raises(WinnowError, match="'model' is required"):
        QualityClassifier()
    text = tmp_path / "notes.txt"
    text.write_text("not a model\n", encoding="utf-8")
    with pytest.raises(WinnowError, match="is not a fastText model"):
        build_step({"step": "quality_classifier", "model": str(text)}, "recipe.yaml")
    step = build_step(
        {"step": "quality_classifier", "model": str(trained.path), "label": "__label__positive"},
        "recipe.yaml",
    )
    assert step.score(trained.held_out.head(3))["quality_score"].is_not_null().all()
