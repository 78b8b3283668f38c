"""Quality classifiers on sentence embeddings, trained on real text: Wikipedia paragraphs are
kept, raw Common Crawl pages (menus, boilerplate) are removed; an annotation dataset with
planted 0-5 scores trains classifying and regression heads; dashboard labels export to sets
it learns from; and the fastText trainer learns from the same annotation dataset."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from safetensors.numpy import load_file
from typer.testing import CliRunner

from tests.cli_helpers import run_cli
from tests.curate.embed_helpers import (
    CC,
    memoized_encoder,
    read_card,
    real_texts,
    wiki_paragraphs,
    write_annotations,
)
from winnow.cli import app
from winnow.curate.embed_model import (
    EmbedConfig,
    from_scored,
    from_sources,
    load_embed_model,
    metrics,
    score_texts,
    thresholds_for,
    train_embed_model,
)
from winnow.curate.quality_model import card_path
from winnow.curate.sources import resolve_source
from winnow.embed.encoder import Encoder
from winnow.errors import WinnowError
from winnow.workspace import Workspace

PER_CLASS = ["--max-per-class", "60", "--holdout", "0.3"]


@pytest.fixture(scope="module")
def encoder() -> Iterator[Encoder]:
    """One encoder for the module, embedding each distinct document once."""
    with memoized_encoder() as loaded:
        yield loaded


def invoke(*args: str) -> tuple[int, str]:
    """Run the command in-process (Typer's runner, usable in module fixtures); the output
    with the table rules blanked and whitespace folded."""
    result = CliRunner().invoke(app, list(args), terminal_width=200)
    text = " ".join(re.sub("[\u2500-\u257f]", " ", result.output).split())
    return result.exit_code, text


@pytest.fixture(scope="module")
def trained(
    encoder: Encoder, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    """A linear head trained by the command on Wikipedia paragraphs (kept) against Common
    Crawl pages (removed)."""
    root = tmp_path_factory.mktemp("embed")
    paragraphs = pl.DataFrame({"text": wiki_paragraphs(shared_data)[:200]})
    paragraphs.write_ndjson(root / "wiki.jsonl")  # the test's own temporary slice
    folder = root / "web-embed"
    code, out = invoke(
        "curate", "quality", "train-embed",
        "--positive", str(root / "wiki.jsonl"), "--negative", str(shared_data / CC),
        *PER_CLASS, "--output", str(folder),
    )  # fmt: skip
    assert code == 0, out
    return folder, out


@pytest.fixture(scope="module")
def annotations(
    encoder: Encoder, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Workspace:
    """A workspace holding `web-edu`, an annotation dataset of 60 C4 documents scored 3-5 and
    60 Common Crawl pages scored 0-2."""
    ws = Workspace(tmp_path_factory.mktemp("annotations") / "workspace")
    good, bad = real_texts(shared_data, 60)
    write_annotations(ws, "web-edu", good, bad)
    return ws


def test_the_card_says_what_the_model_is(trained: tuple[Path, str], encoder: Encoder):
    folder, _ = trained
    card = read_card(folder)
    described = encoder.describe()
    assert card["encoder"]["name"] == "minilm"
    assert card["encoder"]["fingerprint"] == described["fingerprint"] and card["encoder"]["dim"]
    assert card["head"] == {
        "type": "linear",
        "objective": "classify",
        "inputs": 384,
        "hidden": None,
        "output": "probability of the kept class",
        "file": "head.safetensors",
        "parameters": 385,
    }
    weights = load_file(str(folder / "head.safetensors"))
    assert weights["weight"].shape == (1, 384) and weights["bias"].shape == (1,)
    assert not list(folder.glob("*.pkl")) and sorted(p.name for p in folder.iterdir()) == [
        "card.json",
        "head.safetensors",
    ]
    positive, negative = card["classes"]["positive"], card["classes"]["negative"]
    assert positive["read"] == 200 and positive["over_max_per_class"] == 140
    assert negative["read"] == 697 and negative["empty"] == 27
    for side in (positive, negative):
        assert side["usable"] == 60 and side["held_out"] == 18
        assert side["validation"] == 4 and side["train"] == 38
    sources = card["sources"]
    assert [s["source"] for s in sources["positive"]] == ["wiki"]
    assert all(s["fingerprint"] for side in sources.values() for s in side)
    assert card["seed"] == 0 and card["parameters"]["max_per_class"] == 60
    assert card["parameters"]["steps_used"] == 100
    assert 0 < card["embed_seconds"] <= card["training_seconds"]
    assert card["versions"]["torch"] and card["threshold_rule"].startswith("the threshold with")


def test_held_out_scores_are_well_above_chance_and_match_the_model(trained: tuple[Path, str]):
    folder, out = trained
    card = read_card(folder)
    chosen = card["metrics"]
    assert chosen["held_out"] == 36 and chosen["threshold"] == card["threshold"]
    assert chosen["f1"] > 0.8 and chosen["accuracy"] > 0.8
    # the card's numbers are the written model's own: rescore the held-out part from the files
    config = EmbedConfig(holdout=0.3, max_per_class=60)
    parts = _held_out(folder.parent / "again", config)
    model = load_embed_model(folder)
    scores = score_texts(model, parts["text"])
    assert metrics(scores, parts["positive"].to_numpy(), card["threshold"]) == chosen
    shown = f"{chosen['precision']:.3f} {chosen['recall']:.3f} {chosen['f1']:.3f}"
    assert f"{card['threshold']:g} (chosen) {shown}" in out


def _held_out(folder: Path, config: EmbedConfig):  # noqa: ANN202
    """The held-out rows of a retraining on the fixture's sources and settings."""
    shared = Path(__file__).resolve().parents[3] / "shared" / "data"
    labels = from_sources(
        [resolve_source(str(folder.parent / "wiki.jsonl"))], [resolve_source(str(shared / CC))]
    )
    return train_embed_model(labels, folder, config).held_out


def test_the_threshold_table_is_monotone_where_it_must_be(trained: tuple[Path, str]):
    card = read_card(trained[0])
    table = card["thresholds"]
    assert [row["threshold"] for row in table] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert sum(row["chosen"] for row in table) == 1
    recalls = [row["recall"] for row in table]
    kept = [row["kept_share"] for row in table]
    assert recalls == sorted(recalls, reverse=True) and kept == sorted(kept, reverse=True)
    assert recalls[0] > recalls[-1] and kept[0] > kept[-1]
    assert {row["held_out"] for row in table} == {36}


def test_training_is_deterministic_under_a_seed(
    encoder: Encoder, annotations: Workspace, tmp_path: Path
):
    spec = resolve_source("web-edu", workspace=annotations)

    def train(name: str, seed: int, head: str = "mlp") -> tuple[bytes, dict]:
        config = EmbedConfig(seed=seed, head=head, holdout=0.25, steps=60)
        result = train_embed_model(from_scored(spec, "score", 3), tmp_path / name, config)
        return (tmp_path / name / "head.safetensors").read_bytes(), result.card

    first, card1 = train("a", 0)
    second, card2 = train("b", 0)
    third, card3 = train("c", 1)
    assert first == second and card1["thresholds"] == card2["thresholds"]
    assert first != third and card1["classes"] == card3["classes"]
    assert card1["head"]["parameters"] == 384 * 256 + 256 + 256 + 1


def test_an_annotation_dataset_trains_classifying_and_regression_heads(
    annotations: Workspace, tmp_path: Path
):
    base = ["curate", "quality", "train-embed", "--workspace", str(annotations.root)]
    scored = ["--labelled", "web-edu@v1", "--score-field", "score", "--keep-at", "3"]
    code, out = invoke(*base, *scored, "--holdout", "0.25", "--output", str(tmp_path / "cls"))
    assert code == 0, out
    card = read_card(tmp_path / "cls")
    assert card["scored"] == {"score_field": "score", "keep_at": 3.0} and card["keep_at"] == 3
    assert card["sources"]["positive"][0]["scores"] == {str(s): 20 for s in range(6)}
    assert card["classes"]["positive"]["usable"] == card["classes"]["negative"]["usable"] == 60
    assert card["metrics"]["f1"] > 0.8
    code, out = invoke(
        *base, *scored, "--objective", "regress", "--holdout", "0.25",
        "--output", str(tmp_path / "reg"),
    )  # fmt: skip
    assert code == 0, out
    card = read_card(tmp_path / "reg")
    assert card["head"]["output"] == "predicted score" and card["threshold_rule"].endswith("3")
    cuts = [row["threshold"] for row in card["thresholds"]]
    assert cuts == [0.25 * i for i in range(1, 20)] and 3.0 in cuts
    assert card["metrics"]["f1"] > 0.7 and card["metrics"]["accuracy"] > 0.75
    assert "(chosen)" in out and "predicted score >= threshold is kept" in out
    # the regression's output is on the score's scale: kept documents are predicted higher
    model = load_embed_model(tmp_path / "reg")
    spec = resolve_source("web-edu", workspace=annotations)
    result = train_embed_model(
        from_scored(spec, "score", 3),
        tmp_path / "reg2",
        EmbedConfig(objective="regress", holdout=0.25),
    )
    held = result.held_out
    predicted = score_texts(model, held["text"])
    target = held["target"].to_numpy()
    assert np.corrcoef(predicted, target)[0, 1] > 0.3
    gap = predicted[target >= 3].mean() - predicted[target < 3].mean()
    assert gap > 0.8, gap


def test_the_fasttext_trainer_learns_from_an_annotation_dataset(
    annotations: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    args = ["curate", "quality", "train", "--workspace", str(annotations.root)]
    args += ["--labelled", "web-edu", "--label-field", "score", "--holdout", "0.25"]
    small = ["--epochs", "20", "--bucket", "20000", "--no-quantize"]
    code, out = run_cli(capsys, *args, "--keep-at", "3", *small, "--output", str(tmp_path / "a"))
    assert code == 0, out
    card = read_card_fasttext(tmp_path / "a")
    assert card["scored"] == {"score_field": "score", "keep_at": 3.0} and card["target"] == (
        "positive"
    )
    assert card["classes"]["positive"]["usable"] == card["classes"]["negative"]["usable"] == 60
    assert card["metrics"]["held_out"] == 30 and card["metrics"]["f1"] > 0.6
    code, out = run_cli(
        capsys, *args, "--negative-labels", "0,1,2", *small, "--output", str(tmp_path / "b")
    )
    assert code == 0, out
    other = read_card_fasttext(tmp_path / "b")
    assert other["classes"]["positive"]["usable"] == 60 and other["labelled"]["rows_per_label"]
    code, out = run_cli(
        capsys, *args, "--keep-at", "3", "--negative-labels", "0", "--output", str(tmp_path / "c")
    )
    assert code == 2 and out.count("error:") == 1 and "instead of --negative-labels" in out


def read_card_fasttext(model: Path) -> dict:
    """A fastText model's card."""
    import json

    return json.loads(card_path(model).read_text())


def test_dashboard_labels_exported_as_keep_and_drop_sets_train_a_head(
    small, encoder: Encoder, tmp_path: Path
):  # noqa: ANN001
    from tests.labels.conftest import keep_drop_store
    from winnow.labels.export import export_quality

    ws = small.copy(tmp_path / "ws").ws
    keep, drop = export_quality(ws, keep_drop_store(ws), "web-labels")
    code, out = invoke(
        "curate", "quality", "train-embed", "--workspace", str(ws.root),
        "--positive", "web-labels-keep", "--negative", "web-labels-drop", "--holdout", "0.3",
        "--output", str(tmp_path / "labels"),
    )  # fmt: skip
    assert code == 0, out
    card = read_card(tmp_path / "labels")
    sources = card["sources"]
    assert sources["positive"][0]["source"] == keep.ref
    assert sources["negative"][0]["source"] == drop.ref
    assert card["classes"]["positive"]["read"] == 10 and card["classes"]["negative"]["read"] == 3
    assert sources["positive"][0]["fingerprint"] != sources["negative"][0]["fingerprint"]


def test_bad_inputs_get_one_sentence_naming_the_key(
    annotations: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    base = ["curate", "quality", "train-embed", "--workspace", str(annotations.root)]
    base += ["--output", str(tmp_path / "m")]

    def error(*args: str) -> str:
        code, out = run_cli(capsys, *base, *args)
        assert code == 2 and out.count("error:") == 1, out
        return out

    out = error("--labelled", "web-edu", "--score-field", "stars", "--keep-at", "3")
    assert "has no field 'stars' to read labels from; its fields are:" in out
    assert "score" in out and "Set --label-field" in out
    out = error("--labelled", "web-edu", "--score-field", "score", "--keep-at", "6")
    assert "no row scores at or above --keep-at 6 (score runs from 0 to 5)" in out
    assert "set --keep-at above 0 and at most 5" in out
    out = error("--labelled", "web-edu", "--score-field", "score", "--keep-at", "0")
    assert "no row scores below --keep-at 0" in out
    out = error("--labelled", "web-edu", "--score-field", "annotator", "--keep-at", "3")
    assert "field 'annotator' holds no numbers in 120 rows; set --score-field" in out
    out = error("--labelled", "web-edu", "--score-field", "score")
    assert "needs both --score-field (e.g. score) and --keep-at (e.g. 3)" in out
    out = error("--labelled", "web-edu")
    assert "--labelled needs --score-field and --keep-at" in out
    out = error("--positive", "web-edu", "--negative", "web-edu", "--objective", "regress")
    assert "--objective regress fits a numeric score, so it needs one --labelled source" in out
    out = error("--positive", "web-edu", "--negative", "web-edu", "--head", "forest")
    assert "--head forest is not one of linear, mlp" in out
    out = error("--positive", "web-edu", "--negative", "web-edu")
    assert "the positive set has 0 usable document" in out or "no usable text" in out
    assert not (tmp_path / "m").exists()


def test_score_cut_offs_cover_the_scores_and_keep_at():
    assert thresholds_for("regress", [0, 5], 3) == [0.25 * i for i in range(1, 20)]
    assert 2.6 in thresholds_for("regress", [1, 4], 2.6)
    assert thresholds_for("classify", [], None)[4] == 0.5


def test_a_missing_or_foreign_folder_is_refused_in_one_sentence(tmp_path: Path):
    with pytest.raises(WinnowError, match="is not a folder with card.json; train one with"):
        load_embed_model(tmp_path / "nothing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "card.json").write_text('{"kind": "something else"}')
    with pytest.raises(WinnowError, match="is not a card of winnow embedding quality"):
        load_embed_model(tmp_path / "other")
