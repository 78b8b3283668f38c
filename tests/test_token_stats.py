"""`winnow data stats`: token counts and fertility per language, checked against direct counts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from tokenizers import ByteLevelBPETokenizer, Tokenizer

from tests.cli_helpers import run_cli
from tests.train.corpus import curate_en_ko
from winnow.curate.recipes import recipe_from_entries
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.train.tokenizer import TokenizerConfig, train_tokenizer
from winnow.workspace import DatasetVersion, Workspace


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> DatasetVersion:
    """en-ko@v1: the Korean constitution and 300 C4 documents, normalised and language-tagged."""
    return curate_en_ko(tmp_path_factory.mktemp("corpus"), shared_data)


@pytest.fixture(scope="module")
def ws(corpus: DatasetVersion) -> str:
    """The workspace folder of the curated dataset, as --workspace takes it."""
    return str(corpus.path.parents[2])


@pytest.fixture(scope="module")
def own_bpe(corpus: DatasetVersion, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-token byte-level BPE trained on the whole curated dataset."""
    output = tmp_path_factory.mktemp("tokenizer") / "en-ko-bpe"
    workspace = Workspace(corpus.path.parents[2])
    return train_tokenizer(corpus.ref, TokenizerConfig("bpe", 2000), output, workspace).path


def stats_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    """Run `winnow data stats ... --json` and parse what it prints."""
    code, out = run_cli(capsys, "data", "stats", *args, "--json")
    assert code == 0, out
    return json.loads(out)


def row(result: dict, tokenizer: str, group: str) -> dict:
    """The result row of one tokenizer and group."""
    return next(r for r in result["rows"] if r["tokenizer"] == tokenizer and r["group"] == group)


def test_fertility_per_language_matches_a_direct_count(
    corpus: DatasetVersion,
    ws: str,
    own_bpe: Path,
    shared_data: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tokenizers = shared_data / "tokenizers"
    result = stats_json(
        capsys, "en-ko", "-w", ws, "-t", str(tokenizers / "gpt2"),
        "-t", str(tokenizers / "llama-tokenizer.json"), "-t", str(own_bpe),
    )  # fmt: skip
    assert result["by"] == "language" and result["documents"] == corpus.manifest["counts"]["kept"]
    names = [t["name"] for t in result["tokenizers"]]
    assert names == ["gpt2", "llama-tokenizer", "en-ko-bpe"]
    assert [t["vocab_size"] for t in result["tokenizers"]] == [50257, 32003, 2000]
    groups = list(dict.fromkeys(r["group"] for r in result["rows"]))
    assert groups == ["ko", "en", "(all)"]

    # Korean text costs several times more GPT-2 and LLaMA tokens per word than English.
    for name in ("gpt2", "llama-tokenizer"):
        ko, en = row(result, name, "ko"), row(result, name, "en")
        assert ko["tokens_per_word"] > 4 * en["tokens_per_word"]
        assert ko["tokens_per_char"] > 5 * en["tokens_per_char"]
    assert 8 < row(result, "gpt2", "ko")["tokens_per_word"] < 11
    assert 1.2 < row(result, "gpt2", "en")["tokens_per_word"] < 1.45
    own_ko, gpt2_ko = row(result, "en-ko-bpe", "ko"), row(result, "gpt2", "ko")
    assert own_ko["tokens_per_word"] < gpt2_ko["tokens_per_word"] / 2

    kept = pl.read_parquet(corpus.path / "kept" / "*.parquet", missing_columns="insert")
    direct = {
        "gpt2": ByteLevelBPETokenizer(
            str(tokenizers / "gpt2" / "encoder.json"), str(tokenizers / "gpt2" / "vocab.bpe")
        ),
        "llama-tokenizer": Tokenizer.from_file(str(tokenizers / "llama-tokenizer.json")),
        "en-ko-bpe": Tokenizer.from_file(str(own_bpe / "tokenizer.json")),
    }
    for group in ("ko", "en", "(all)"):
        frame = kept if group == "(all)" else kept.filter(pl.col("language") == group)
        texts = frame.get_column("text").to_list()
        words = sum(len(t.split()) for t in texts)
        characters = sum(len(t) for t in texts)
        for name, tokenizer in direct.items():
            counts = np.array([len(tokenizer.encode(t, add_special_tokens=False)) for t in texts])
            found = row(result, name, group)
            assert found["documents"] == len(texts)
            assert (found["words"], found["characters"]) == (words, characters)
            assert found["tokens"] == counts.sum()
            assert found["tokens_per_word"] == pytest.approx(counts.sum() / words)
            assert found["tokens_per_char"] == pytest.approx(counts.sum() / characters)
            per_doc = found["tokens_per_doc"]
            assert per_doc["mean"] == pytest.approx(counts.mean())
            assert per_doc["p50"] == pytest.approx(np.percentile(counts, 50))
            assert per_doc["p90"] == pytest.approx(np.percentile(counts, 90))
            assert per_doc["max"] == counts.max()


def test_table_lists_tokenizers_side_by_side(
    ws: str, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tokenizers = shared_data / "tokenizers"
    code, out = run_cli(
        capsys, "data", "stats", "en-ko@v1", "-w", ws,
        "-t", str(tokenizers / "gpt2"), "-t", str(tokenizers / "gpt-neox-tokenizer.json"),
    )  # fmt: skip
    assert code == 0, out
    for text in ("tok/word", "tok/char", "language", "gpt-neox-tokenizer", "(all)", "eojeol"):
        assert text in out
    assert "encoding speed of gpt2: " in out and "characters/s" in out
    cells = " ".join(out.replace("│", " ").split())
    assert "gpt2 ko 9." in cells and "gpt-neox-tokenizer ko " in cells


def test_sample_is_the_same_subset_every_run(
    ws: str, own_bpe: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = stats_json(capsys, "en-ko", "-w", ws, "-t", str(own_bpe), "--sample", "60")
    again = stats_json(capsys, "en-ko", "-w", ws, "-t", str(own_bpe), "--sample", "60")
    assert first["documents"] == 60 and first["rows"] == again["rows"]
    sampled = {r["group"]: r["documents"] for r in first["rows"]}
    assert sampled["ko"] > 10 and sampled["en"] > 10 and sampled["(all)"] == 60
    everything = stats_json(capsys, "en-ko", "-w", ws, "-t", str(own_bpe), "--sample", "5000")
    assert everything["documents"] == everything["documents_in_dataset"]


def test_no_language_column_gives_one_row_per_tokenizer(
    shared_data: Path, tmp_path: Path, own_bpe: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = Workspace(tmp_path / "ws")
    recipe = recipe_from_entries("plain", [{"step": "normalize"}], "test")
    source = resolve_source(str(shared_data / "korean" / "constitution.txt"))
    run_recipe(ws, recipe, source, "plain", RunOptions())
    result = stats_json(capsys, "plain", "-w", str(ws.root), "-t", str(own_bpe))
    assert result["by"] is None and [r["group"] for r in result["rows"]] == ["(all)"]
    by_file = stats_json(capsys, "plain", "-w", str(ws.root), "-t", str(own_bpe), "--by", "id")
    assert len(by_file["rows"]) == result["documents"] + 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-t", "gpt2"], "as a hub id needs network access"),
        (["-t", "openai-community/gpt2"], "as a hub id needs network access"),
        (["-t", "/no/such/tokenizer.json"], "is not an existing file or folder"),
        (["-t", "{data}/web/c4_demo.jsonl"], "is not a Hugging Face tokenizer.json"),
        (["-t", "{data}/korean"], "holds no tokenizer.json, tokenizer_config.json"),
        (["-t", "{data}/tokenizers/gpt2", "--by", "topic"], "has no column 'topic'"),
        (["-t", "{data}/tokenizers/gpt2", "--sample", "0"], "--sample 0 must be 1 or more"),
    ],
)
def test_bad_input_is_one_error_line(
    ws: str,
    shared_data: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    filled = [a.format(data=shared_data) for a in args]
    code, out = run_cli(capsys, "data", "stats", "en-ko", "-w", ws, *filled)
    assert code == 2 and out.startswith("error:") and out.count("error:") == 1, out
    assert message in out and "Traceback" not in out


def test_missing_dataset_is_one_error_line(
    ws: str, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gpt2 = str(shared_data / "tokenizers" / "gpt2")
    code, out = run_cli(capsys, "data", "stats", "en-ko@v2", "-w", ws, "-t", gpt2)
    assert code == 2 and "dataset 'en-ko' has no version 'v2'; it has: v1" in out


def test_help_names_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(capsys, "data", "stats", "--help")
    assert code == 0
    for option in ("--tokenizer", "--by", "--sample", "--json", "--workspace"):
        assert option in out
