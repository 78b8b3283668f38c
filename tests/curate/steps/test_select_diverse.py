"""select_diverse: a budget of rows spread over the clusters, paraphrases picked once."""

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from tests.cli_helpers import run_cli
from tests.curate.judge import decide_global
from tests.curate.steps.classifiers import tiny_model
from winnow.curate.steps.select_diverse import SelectDiverse, embeddings, shares
from winnow.errors import WinnowError


@pytest.fixture(scope="module")
def alpaca(shared_data: Path) -> pl.DataFrame:
    """The 999 real Alpaca instructions."""
    rows = json.loads((shared_data / "instruct" / "alpaca_en_demo.json").read_text())
    return pl.DataFrame(
        {"id": [f"a{i}" for i in range(len(rows))], "instruction": [r["instruction"] for r in rows]}
    )


def test_budget_is_spread_over_clusters_and_the_report_shows_it(alpaca: pl.DataFrame):
    step = SelectDiverse(budget=100)
    verdict = decide_global(step, [alpaca])
    assert verdict["__selected"].sum() == 100
    assert set(verdict.filter(~pl.col("__selected"))["reason"]) == {"not_selected"}
    assert verdict.filter(pl.col("__selected"))["reason"].null_count() == 100
    tally = step.tally(verdict)
    assert tally["clusters covered (20 in all), after"] == 20
    assert (
        tally["rows in the largest cluster, after"]
        == 5
        < tally["rows in the largest cluster, before"] / 10
    )
    assert tally["leading word 'generate': before 90, after"] < 9
    again = decide_global(SelectDiverse(budget=100), [alpaca])
    assert again["__selected"].to_list() == verdict["__selected"].to_list()


def test_paraphrases_are_picked_once(alpaca: pl.DataFrame):
    copies = [f"Write a short poem about the sea, version {i}." for i in range(40)]
    paraphrases = pl.DataFrame({"id": [f"p{i}" for i in range(40)], "instruction": copies})
    frame = pl.concat([alpaca.head(300), paraphrases])
    verdict = decide_global(SelectDiverse(budget=60, clusters=12), [frame])
    assert verdict["__selected"].sum() == 60
    assert verdict["__selected"].tail(40).sum() <= 5


def test_small_sets_are_kept_whole_and_a_score_picks_the_first_row(alpaca: pl.DataFrame):
    small = alpaca.head(30)
    assert decide_global(SelectDiverse(budget=50, clusters=5), [small])["reason"].null_count() == 30
    scored = alpaca.head(200).with_columns(score=pl.int_range(200).cast(pl.Float64))
    verdict = decide_global(SelectDiverse(budget=20, clusters=4, score_column="score"), [scored])
    assert verdict["__selected"][199]


def test_shares_fill_small_groups_and_spread_the_rest():
    assert shares(pl.Series([2, 50, 50]).to_numpy(), 30).tolist() == [2, 14, 14]
    assert shares(pl.Series([3, 3]).to_numpy(), 100).tolist() == [3, 3]


def test_recipe_run_and_bad_parameters(
    shared_data: Path, tmp_path: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
):
    recipe = tmp_path / "lima.yaml"
    recipe.write_text("steps:\n  - step: select_diverse\n    budget: 100\n", encoding="utf-8")
    source = str(shared_data / "instruct" / "alpaca_en_demo.json")
    code, out = run_cli(
        capsys, "curate", "run", str(recipe), "--source", source, "--text-field", "output",
        "--output", "picked",
    )  # fmt: skip
    assert code == 0, out
    assert "not_selected" in out and "rows in the largest cluster, after │ 5" in out
    kept = pl.read_parquet(workspace / "datasets" / "picked" / "v1" / "kept" / "*.parquet")
    assert kept.height == 100 and "instruction" in kept.columns
    for params, words in (
        ({"budget": 0}, "budget 0 must be at least 1"),
        ({"method": "embedding"}, "method embedding needs model"),
        ({"method": "bm25"}, "method 'bm25' is unknown"),
    ):
        with pytest.raises(WinnowError, match=words):
            SelectDiverse(**params)
    recipe.write_text("steps:\n  - step: select_diverse\n    column: prompt\n", encoding="utf-8")
    code, out = run_cli(
        capsys, "curate", "run", str(recipe), "--source", source, "--text-field", "output",
        "--output", "missing",
    )  # fmt: skip
    assert code == 2 and "step select_diverse needs the column(s) prompt" in out


def test_embedding_method_uses_an_encoders_mean_pooled_states(alpaca: pl.DataFrame, tmp_path: Path):
    texts = alpaca["instruction"].head(300).to_list()
    folder = tiny_model(tmp_path / "encoder", texts, {0: "a", 1: "b"})
    points = embeddings(texts[:5], str(folder), batch_size=2)
    tokenizer, encoder = AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder)
    with torch.inference_mode():
        alone = encoder(**tokenizer(texts[0], return_tensors="pt")).last_hidden_state.mean(1)[0]
    np.testing.assert_allclose(points[0], (alone / alone.norm()).numpy(), atol=1e-5)
    step = SelectDiverse(budget=40, clusters=4, method="embedding", model=str(folder))
    verdict = decide_global(step, [alpaca.head(300)])
    assert verdict["__selected"].sum() == 40
    with pytest.raises(WinnowError, match="cannot load model"):
        embeddings(texts[:2], str(tmp_path / "missing"), batch_size=2)
