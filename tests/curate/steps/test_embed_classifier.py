"""embed_classifier: a recipe run scores every row with the trained head, drops those below the
card's threshold as below_threshold, and reports its documents per second; a model trained on
another encoder is refused before any shard is read."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from tests.cli_helpers import run_cli
from tests.curate.embed_helpers import memoized_encoder, real_texts, write_annotations
from winnow.curate.embed_model import EmbedConfig, from_scored, train_embed_model
from winnow.curate.sources import resolve_source
from winnow.curate.steps.base import build_step
from winnow.curate.steps.embed_classifier import EmbedClassifier
from winnow.embed.encoder import Encoder
from winnow.errors import WinnowError
from winnow.workspace import Workspace


@pytest.fixture(scope="module")
def encoder() -> Iterator[Encoder]:
    """One encoder for the module, embedding each distinct document once."""
    with memoized_encoder() as loaded:
        yield loaded


@pytest.fixture(scope="module")
def trained(
    encoder: Encoder, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Workspace, Path]:
    """An annotation dataset (C4 scored 3-5, Common Crawl 0-2) and a head trained on it."""
    root = tmp_path_factory.mktemp("step")
    ws = Workspace(root / "workspace")
    good, bad = real_texts(shared_data, 60)
    write_annotations(ws, "web-edu", good, bad)
    labels = from_scored(resolve_source("web-edu", workspace=ws), "score", 3)
    train_embed_model(labels, root / "model", EmbedConfig(holdout=0.25))
    return ws, root / "model"


def test_a_recipe_run_scores_drops_and_reports_documents_per_second(
    trained: tuple[Workspace, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    ws, model = trained
    card = json.loads((model / "card.json").read_text())
    recipe = tmp_path / "embed.yaml"
    recipe.write_text(
        f"name: embed\nsteps:\n  - step: embed_classifier\n    model: {model}\n"
        "    batch_size: 16\n    device: cpu\n",
        encoding="utf-8",
    )
    code, out = run_cli(
        capsys, "curate", "run", str(recipe), "--source", "web-edu", "--output", "web-edu-kept",
        "--workspace", str(ws.root), "--batch-rows", "50",
    )  # fmt: skip
    assert code == 0, out
    version = ws.dataset("web-edu-kept")
    step = version.manifest["steps"][0]
    assert step["step"] == "embed_classifier" and step["in"] == 120
    assert step["tally"]["docs_scored"] == 120 and step["tally"]["scoring_ms"] > 0
    details = step["details"]
    assert details["threshold"] == card["threshold"] and details["device"] == "cpu"
    assert details["encoder"] == f"minilm ({card['encoder']['fingerprint']})"
    assert details["docs_per_second"] > 0 and "docs_per_second" in out
    kept = pl.read_parquet(version.path / "kept" / "*.parquet")
    rejected = pl.read_parquet(version.path / "rejected" / "*.parquet")
    assert kept.height + rejected.height == 120 and set(rejected["reason"]) == {"below_threshold"}
    assert kept["embed_score"].min() >= card["threshold"] > rejected["embed_score"].max()
    # the planted scores: most kept rows were scored 3 or more, most removed ones below
    assert (kept["score"] >= 3).mean() > 0.8 and (rejected["score"] < 3).mean() > 0.8


def test_scores_do_not_depend_on_the_batch_and_empty_text_scores_zero(
    trained: tuple[Workspace, Path], shared_data: Path
):
    _, model = trained
    good, bad = real_texts(shared_data, 70)
    texts = pl.Series([*good[60:], "", *bad[60:]])  # not trained on
    frame = pl.DataFrame({"text": texts})
    small = EmbedClassifier(model=str(model), batch_size=3, device="cpu").score(frame)
    large = EmbedClassifier(model=str(model), batch_size=64, device="cpu").score(frame)
    a, b = small["embed_score"].to_numpy(), large["embed_score"].to_numpy()
    assert abs(a - b).max() < 1e-4 and a[10] == 0.0
    assert a[:10].mean() > 0.5 > a[11:].mean()


def test_a_model_of_another_encoder_or_bad_settings_are_refused(
    trained: tuple[Workspace, Path], tmp_path: Path
):
    _, model = trained
    foreign = tmp_path / "foreign"
    shutil.copytree(model, foreign)
    card = json.loads((foreign / "card.json").read_text())
    card["encoder"]["fingerprint"] = "0123456789abcdef"
    (foreign / "card.json").write_text(json.dumps(card))
    with pytest.raises(WinnowError, match="trained on encoder 'minilm' with weights fingerprint"):
        EmbedClassifier(model=str(foreign))
    card["encoder"]["name"] = str(tmp_path / "no-such-encoder")
    (foreign / "card.json").write_text(json.dumps(card))
    with pytest.raises(WinnowError, match="is not a model folder"):
        EmbedClassifier(model=str(foreign))
    with pytest.raises(WinnowError, match="must be between 0 and 1 for this model"):
        EmbedClassifier(model=str(model), threshold=1.5)
    with pytest.raises(WinnowError, match="'model' is required"):
        build_step({"step": "embed_classifier"}, "r.yaml")
    with pytest.raises(WinnowError, match="device 'tpu': use auto, cpu or cuda"):
        EmbedClassifier(model=str(model), device="tpu")
    with pytest.raises(WinnowError, match="is not a folder with card.json"):
        build_step({"step": "embed_classifier", "model": str(tmp_path / "x")}, "r.yaml")
    step = build_step({"step": "embed_classifier", "model": str(model), "threshold": 0.9}, "r")
    assert step.threshold == 0.9 and step.rules()[0].reason == "below_threshold"
