"""Training quality classifiers on real text: small, reproducible, honest about held-out scores.

Positives are curated answers (LIMA's human-written and Alpaca's GPT-4 answers, as DCLM used
instruction data); negatives are raw web pages (a Common Crawl WARC's text and C4).
"""

import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from tests.cli_helpers import run_cli
from winnow.cli import app
from winnow.curate.quality_model import (
    TrainConfig,
    card_path,
    find_model,
    load_model,
    metrics,
    normalize_texts,
    read_labelled,
    split_classes,
    train_quality_model,
)
from winnow.curate.sources import resolve_source
from winnow.curate.steps.quality_classifier import QualityClassifier
from winnow.errors import WinnowError

CC = "web/CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"


@pytest.fixture(scope="module")
def trained(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A model trained by the command (Typer's runner, since capsys is per test) and its output
    with the table rules blanked."""
    path = tmp_path_factory.mktemp("quality") / "model.bin"
    result = CliRunner().invoke(
        app,
        [
            "curate", "quality", "train",
            "--positive", str(shared_data / "instruct" / "lima.json"),
            "--positive", str(shared_data / "instruct" / "alpaca_en_demo.json"),
            "--positive-field", "output",
            "--negative", str(shared_data / CC),
            "--negative", str(shared_data / "web" / "c4_demo.jsonl"),
            "--output", str(path),
        ],
        terminal_width=200,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return path, " ".join(re.sub("[\u2500-\u257f]", " ", result.output).split())


def test_the_model_is_small_and_its_card_says_what_it_is(trained: tuple[Path, str]):
    path, _ = trained
    card = json.loads(card_path(path).read_text())
    assert card["size_bytes"] == path.stat().st_size < 20_000_000
    assert card["quantized"] and path.stat().st_size < 1_000_000
    assert card["classes"]["positive"] == {
        "read": 2028,
        "unreadable": 0,
        "empty": 0,
        "duplicates": 14,
        "in_both_sets": 0,
        "usable": 2014,
        "held_out": 201,
        "autotune_validation": 0,
        "train": 865,
        "dropped_to_balance": 948,
    }
    negative = card["classes"]["negative"]
    assert (negative["read"], negative["empty"], negative["usable"]) == (997, 27, 961)
    assert (negative["held_out"], negative["train"], negative["dropped_to_balance"]) == (96, 865, 0)
    assert [s["source"] for s in card["sources"]["positive"]] == ["lima", "alpaca_en_demo"]
    assert {s["text_field"] for s in card["sources"]["positive"]} == {"output"}
    assert card["parameters"]["fasttext"]["bucket"] == 200_000 and card["seed"] == 0
    assert card["fasttext_version"].startswith("fasttext")


def test_held_out_scores_clear_the_measured_bar(trained: tuple[Path, str]):
    path, output = trained
    card = json.loads(card_path(path).read_text())
    held_out = card["metrics"]
    assert held_out["held_out"] == 201 + 96 and held_out["threshold"] == 0.5
    assert held_out["precision"] > 0.9 and held_out["recall"] > 0.83 and held_out["f1"] > 0.87
    assert card["metrics_full"]["f1"] - held_out["f1"] <= 0.01
    assert f"{held_out['precision']:.3f} {held_out['recall']:.3f} {held_out['f1']:.3f}" in output
    assert "quantized (written)" in output and "left out to balance 948 0" in output


def test_training_is_reproducible_in_a_busy_process(shared_data: Path, tmp_path: Path):
    """The fasttext wheel leaves most weights uninitialized; training zeroes them, so a second
    run in the same (heap-dirty) process writes the very same bytes; the step then scores the
    held-out documents by their class."""
    positive = [resolve_source(str(shared_data / "instruct" / "lima.json"), text_field="output")]
    negative = [resolve_source(str(shared_data / CC))]
    config = TrainConfig(epochs=5, quantize=False, bucket=20_000)
    first = train_quality_model(positive, negative, tmp_path / "a.bin", config)
    second = train_quality_model(positive, negative, tmp_path / "b.bin", config)
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.card["metrics"] == second.card["metrics"] and not first.card["quantized"]
    assert first.card["metrics"]["f1"] > 0.85
    held_out = QualityClassifier(model=str(first.path)).score(first.held_out)
    means = held_out.group_by("positive").agg(pl.col("quality_score").mean())
    mean = dict(zip(means["positive"], means["quality_score"], strict=True))
    assert mean[True] > 0.75 > 0.25 > mean[False]


def test_normalizing_folds_case_and_whitespace_to_one_line():
    texts = pl.Series(["Hello\n\nWORLD\t x ", None, " \n "])
    assert normalize_texts(texts).to_list() == ["hello world x", "", ""]


def test_metrics_count_the_positive_class_at_the_threshold():
    scores = np.array([0.9, 0.6, 0.4, 0.2, 0.5])
    truth = np.array([True, False, True, False, True])
    got = metrics(scores, truth)
    assert got == {
        "precision": round(2 / 3, 4),
        "recall": round(2 / 3, 4),
        "f1": round(2 / 3, 4),
        "accuracy": 0.6,
        "threshold": 0.5,
        "held_out": 5,
    }
    assert metrics(np.zeros(2), np.array([True, False]))["precision"] == 0.0


def test_empty_or_tiny_sets_and_bad_settings_get_one_clear_line(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"text": ""}\n{"text": "  \\n "}\n', encoding="utf-8")
    args = ["curate", "quality", "train", "--output", str(tmp_path / "m.bin")]
    code, out = run_cli(
        capsys, *args, "--positive", str(shared_data / CC), "--negative", str(empty)
    )
    assert code == 2 and out.count("error:") == 1
    assert "the negative set has no usable text (2 rows read, 0 unreadable, 2 empty)" in out
    assert "set --negative-field" in out and not (tmp_path / "m.bin").exists()
    one = tmp_path / "one.jsonl"
    one.write_text('{"text": "a single document"}\n', encoding="utf-8")
    code, out = run_cli(capsys, *args, "--positive", str(one), "--negative", str(shared_data / CC))
    assert code == 2 and "the positive set has 1 usable document; a held-out split needs" in out
    code, out = run_cli(
        capsys, *args, "--positive", str(one), "--negative", str(one), "--holdout", "1.5"
    )
    assert code == 2 and "--holdout 1.5 must be between 0 and 1" in out
    code, out = run_cli(
        capsys, *args, "--positive", str(shared_data / CC), "--negative", str(one), "--lr", "-1"
    )
    assert code == 2 and "--lr -1.0 must be above 0" in out
    with pytest.raises(WinnowError, match="is not a file; train one with"):
        load_model(tmp_path / "missing.bin")
    with pytest.raises(WinnowError, match="is not a fastText model"):
        load_model(empty)


KOREAN = "korean/hate_speech_train.tsv"
FAST = ["--epochs", "5", "--dim", "8", "--bucket", "5000", "--minn", "1", "--maxn", "2"]


@pytest.fixture(scope="module")
def korean_slice(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 1,200 rows of the real Korean hate-speech TSV (the test's own temporary copy)."""
    lines = (shared_data / KOREAN).read_text(encoding="utf-8").splitlines()[:1201]
    path = tmp_path_factory.mktemp("korean") / "slice.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def labelled_args(path: Path, output: Path, *extra: str) -> list[str]:
    """`curate quality train` on one labelled file: hate and offensive comments are removed."""
    return [
        "curate", "quality", "train", "--labelled", str(path), "--text-field", "comments",
        "--label-field", "hate", "--negative-labels", "hate,offensive", "--holdout", "0.2",
        "--output", str(output), *FAST, *extra,
    ]  # fmt: skip


def test_one_labelled_file_trains_a_filter_whose_scores_match_its_predictions(
    korean_slice: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = tmp_path / "toxicity.ftz"
    code, out = run_cli(capsys, *labelled_args(korean_slice, path))
    assert code == 0, out
    card = json.loads(card_path(path).read_text())
    labels = card["labelled"]
    assert labels["negative_labels"] == ["hate", "offensive"]
    assert labels["positive_labels"] == ["none"] and sum(labels["rows_per_label"].values()) == 1200
    neg, pos = card["classes"]["negative"], card["classes"]["positive"]
    assert neg["held_out"] == round(neg["usable"] * 0.2) and pos["held_out"] == round(
        pos["usable"] * 0.2
    )
    fasttext_settings = card["parameters"]["fasttext"]
    assert (fasttext_settings["minn"], fasttext_settings["maxn"]) == (1, 2)
    assert (fasttext_settings["dim"], fasttext_settings["bucket"]) == (8, 5000)
    assert card["target"] == "negative"
    # recompute precision/recall/F1 of the removal from the written model's own predictions
    rows = pl.read_csv(korean_slice, separator="\t", quote_char=None)
    config = TrainConfig(holdout=0.2, balance=True)
    spec = resolve_source(str(korean_slice), text_field="comments")
    kept, removed, _ = read_labelled(spec, "hate", ["hate", "offensive"])
    parts = split_classes(kept, removed, config)
    test = parts.test["positive"] + parts.test["negative"]
    truth_removed = np.array(
        [False] * len(parts.test["positive"]) + [True] * len(parts.test["negative"])
    )
    assert len(test) == card["metrics_removed"]["held_out"] and rows.height == 1200
    model = load_model(path)
    labels_out, _ = model.predict(test)
    predicted_removed = np.array([got[0] == "__label__negative" for got in labels_out])
    tp = int((predicted_removed & truth_removed).sum())
    precision = tp / predicted_removed.sum()
    recall = tp / truth_removed.sum()
    f1 = 2 * precision * recall / (precision + recall)
    got = card["metrics_removed"]
    assert got["precision"] == pytest.approx(precision, abs=1e-4)
    assert got["recall"] == pytest.approx(recall, abs=1e-4)
    assert got["f1"] == pytest.approx(f1, abs=1e-4) and f1 > 0.6
    shown = " ".join(re.sub("[\u2500-\u257f]", " ", out).split())
    assert f"{got['precision']:.3f} {got['recall']:.3f} {got['f1']:.3f}" in shown


def test_the_labelled_split_is_the_same_under_the_same_seed(korean_slice: Path):
    spec = resolve_source(str(korean_slice), text_field="comments")

    def held_out(seed: int, autotune: int = 0) -> list[str]:
        kept, removed, _ = read_labelled(spec, "hate", ["hate", "offensive"])
        config = TrainConfig(holdout=0.2, seed=seed, autotune_seconds=autotune)
        parts = split_classes(kept, removed, config)
        return parts.test["positive"] + parts.test["negative"]

    assert held_out(0) == held_out(0) != held_out(1)
    # autotune's validation part is carved from training, so the held-out part does not move
    assert held_out(0, autotune=5) == held_out(0)


def test_bad_labelled_options_get_one_clear_line(
    korean_slice: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out_file = tmp_path / "m.ftz"
    args = labelled_args(korean_slice, out_file)
    unknown = [a if a != "hate" else "hatred" for a in args]
    code, out = run_cli(capsys, *unknown)
    assert code == 2 and out.count("error:") == 1
    assert "has no field 'hatred' to read labels from; its fields are:" in out
    assert "Set --label-field" in out
    absent = [a if a != "hate,offensive" else "hate,spam" for a in args]
    code, out = run_cli(capsys, *absent)
    assert (
        code == 2 and "no row has hate 'spam'; the labels found are: hate, none, offensive" in out
    )
    code, out = run_cli(capsys, *args, "--minn", "4", "--maxn", "2")
    assert code == 2 and out.count("error:") == 1
    assert "--minn 4 is above --maxn 2; character n-grams run from minn to maxn" in out
    code, out = run_cli(capsys, *args, "--positive", str(korean_slice))
    assert code == 2 and "give either --labelled or --positive and --negative, not both" in out
    assert not out_file.exists()


def test_a_shipped_model_is_found_by_name():
    assert find_model("korean-toxicity") is not None
    step = QualityClassifier(model="korean-toxicity", threshold=0.5)
    scored = step.score(
        pl.DataFrame({"text": ["정말 좋은 노래네요 응원합니다", "ㅁㅊ 진짜 역겹다 꺼져라"]})
    )
    assert scored["quality_score"].to_list()[0] > scored["quality_score"].to_list()[1]


def test_the_loss_is_chosen_recorded_and_checked(
    korean_slice: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """--loss ova trains sigmoids per label (the shipped toxicity model's loss); the card
    records it as fastText reports it, and an unknown loss fails in one line."""
    path = tmp_path / "ova.ftz"
    code, out = run_cli(capsys, *labelled_args(korean_slice, path, "--loss", "ova"))
    assert code == 0, out
    card = json.loads(card_path(path).read_text())
    assert card["parameters"]["loss"] == card["parameters"]["fasttext"]["loss"] == "ova"
    assert card["parameters"]["fasttext_effective"]["loss"].endswith("ova")
    code, out = run_cli(capsys, *labelled_args(korean_slice, tmp_path / "x.ftz", "--loss", "ns"))
    assert code == 2 and out.count("error:") == 1
    assert "--loss ns is not one of softmax, ova, hs" in out
    assert not (tmp_path / "x.ftz").exists()


def test_the_shipped_toxicity_card_matches_its_rebuild_command():
    """catalogs/models/README.md's command and the card beside the model name the same
    settings, so the model can be rebuilt exactly."""
    model = find_model("korean-toxicity")
    assert model is not None
    card = json.loads(card_path(model).read_text())
    readme = (model.parent / "README.md").read_text(encoding="utf-8")
    params = card["parameters"]
    for option, key in [
        ("--loss", "loss"), ("--epochs", "epochs"), ("--lr", "lr"), ("--dim", "dim"),
        ("--word-ngrams", "word_ngrams"), ("--minn", "minn"), ("--maxn", "maxn"),
        ("--holdout", "holdout"), ("--seed", "seed"), ("--min-count", "min_count"),
    ]:  # fmt: skip
        assert f"{option} {params[key]} " in readme.replace("\\\n", " ").replace("\n", " ")
    assert card["quantized"] and card["size_bytes"] < 2_000_000
    assert card["metrics_removed"]["f1"] > 0.76
