"""Mixing curated datasets and files by weight into a budget of documents or tokens."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from tokenizers import ByteLevelBPETokenizer, Tokenizer

from tests.cli_helpers import run_cli
from winnow.curate.mix.draw import plan_draw, targets_for
from winnow.curate.mix.spec import Budget, parse_budget, parse_input
from winnow.curate.mix.tokens import load_counter
from winnow.curate.recipes import recipe_from_entries
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.errors import WinnowError
from winnow.workspace import Workspace

CC_FILE = "web/CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
TINY = [{"step": "normalize"}, {"step": "exact_dedup"}]
"""A tiny real recipe: the inputs are curated, then mixed."""

SHARE_TOLERANCE = 0.01
"""Token shares land within 1 percentage point of the weights (whole documents are drawn)."""


@pytest.fixture(scope="module")
def curated(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """A workspace with curated real sources: c4 (English), ko (Korean news comments), law (the
    Korean constitution, a line per document) and wiki (long English articles)."""
    home = tmp_path_factory.mktemp("mix") / "workspace"
    ws = Workspace(home)
    recipe = recipe_from_entries("tiny", TINY, "tiny")
    for name, path in [
        ("c4", "web/c4_demo.jsonl"),
        ("ko", "korean/news_comments.txt.gz"),
        ("law", "korean/constitution.txt"),
        ("wiki", "web/wiki_demo.txt"),
    ]:
        source = resolve_source(str(shared_data / path))
        run_recipe(ws, recipe, source, name, RunOptions(batch_rows=20_000))
    return home


def mix(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str]:
    """Run `winnow curate mix ARGS --workspace HOME`."""
    return run_cli(capsys, "curate", "mix", *args, "--workspace", str(home))


def kept(home: Path, ref: str) -> pl.DataFrame:
    """All kept rows of a dataset version, in order."""
    version = Workspace(home).dataset(ref)
    return pl.read_parquet(version.path / "kept" / "*.parquet")


def parts(home: Path, ref: str) -> dict[str, dict]:
    """The realised mixture of a mix, by input name."""
    manifest = Workspace(home).dataset(ref).manifest
    return {part["name"]: part for part in manifest["mix"]["sources"]}


def test_docs_budget_draws_exact_shares_and_keeps_rows_traceable(
    curated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = mix(
        capsys, curated, "--input", "c4:3", "--input", "ko@v1:1", "--budget", "400docs",
        "--output", "by-docs",
    )  # fmt: skip
    assert code == 0, out
    assert "by-docs@v1: mixture (docs)" in out and "75.00%" in out and "25.00%" in out
    manifest = Workspace(curated).dataset("by-docs").manifest
    assert manifest["kind"] == "mix"
    assert manifest["counts"] == {**manifest["counts"], "input": 400, "kept": 400, "rejected": 0}
    assert manifest["mix"]["budget"] == {"amount": 400, "unit": "docs", "text": "400docs"}
    assert manifest["mix"]["token_rule"].startswith("tokens estimated as characters/4")
    c4, ko = kept(curated, "c4"), kept(curated, "ko")
    mixed = parts(curated, "by-docs")
    assert mixed["c4@v1"]["docs"] == 300 and mixed["ko@v1"]["docs"] == 100
    assert mixed["c4@v1"]["share"] == 0.75 and mixed["ko@v1"]["sampling"] == "down"
    assert mixed["c4@v1"]["available_docs"] == c4.height
    expected_parents = [
        {"name": name, "version": "v1", "fingerprint": m["fingerprint"]}
        for name, m in (("c4", kept_manifest(curated, "c4")), ("ko", kept_manifest(curated, "ko")))
    ]
    assert manifest["parents"] == expected_parents
    rows = kept(curated, "by-docs")
    assert rows.columns[:5] == ["id", "text", "source_id", "mix_source", "mix_epoch"]
    assert dict(rows["mix_source"].value_counts().iter_rows()) == {"c4@v1": 300, "ko@v1": 100}
    assert rows["id"].n_unique() == 400
    # every drawn row is its source row, field for field, under its own or a derived id
    for name, source in (("c4@v1", c4), ("ko@v1", ko)):
        drawn = rows.filter(pl.col("mix_source") == name)
        joined = drawn.join(source, left_on="source_id", right_on="id", suffix="_src")
        assert joined.height == drawn.height
        assert (joined["text"] == joined["text_src"]).all()
        assert (joined["source_file"] == joined["source_file_src"]).all()
        first = drawn.filter(pl.col("mix_epoch") == 0)
        assert (first["id"] == first["source_id"]).all()
    repeats = rows.filter(pl.col("mix_epoch") > 0)
    assert repeats.height == max(0, 300 - c4.height)
    assert (repeats["id"] == repeats["source_id"] + "#" + repeats["mix_epoch"].cast(str)).all()
    # rows are shuffled across inputs, not written input by input
    assert rows.head(40)["mix_source"].n_unique() == 2


def kept_manifest(home: Path, ref: str) -> dict:
    """The manifest of a dataset version."""
    return Workspace(home).dataset(ref).manifest


def test_token_budget_with_a_real_tokenizer_lands_on_the_weights(
    curated: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tokenizer_path = shared_data / "tokenizers" / "gpt-neox-tokenizer.json"
    code, out = mix(
        capsys, curated, "--input", "c4:0.5", "--input", "law:0.3", "--input", "wiki:0.2",
        "--budget", "150k tokens", "--tokenizer", str(tokenizer_path), "--output", "by-tokens",
    )  # fmt: skip
    assert code == 0, out
    manifest = kept_manifest(curated, "by-tokens")
    assert "gpt-neox-tokenizer.json" in manifest["mix"]["token_rule"]
    mixed = parts(curated, "by-tokens")
    for name, weight in (("c4@v1", 0.5), ("law@v1", 0.3), ("wiki@v1", 0.2)):
        assert abs(mixed[name]["share_of_tokens"] - weight) < SHARE_TOLERANCE
        assert mixed[name]["share"] == mixed[name]["share_of_tokens"]
    assert abs(manifest["mix"]["realised"]["tokens"] - 150_000) < 0.01 * 150_000
    # the manifest's token counts are the tokenizer's own counts of the rows written
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    rows = kept(curated, "by-tokens")
    counts = [len(e.ids) for e in tokenizer.encode_batch(rows["text"].to_list(), False)]
    per_source = rows.with_columns(pl.Series("n", counts)).group_by("mix_source").agg(pl.sum("n"))
    assert dict(per_source.iter_rows()) == {n: p["tokens"] for n, p in mixed.items()}
    assert mixed["wiki@v1"]["sampling"] == "down" and mixed["law@v1"]["sampling"] == "up"


def test_small_input_is_upsampled_by_whole_epochs_then_capped(
    curated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wiki = kept(curated, "wiki")
    n = wiki.height
    budget = 2 * n + 7
    code, out = mix(
        capsys, curated, "--input", "wiki", "--budget", f"{budget} docs", "--output", "up"
    )
    assert code == 0, out
    rows = kept(curated, "up")
    copies = rows.group_by("source_id").len()
    assert copies.height == n and sorted(copies["len"].unique().to_list()) == [2, 3]
    assert (copies["len"] == 3).sum() == 7
    assert sorted(rows["mix_epoch"].unique().to_list()) == [0, 1, 2]
    part = parts(curated, "up")["wiki@v1"]
    assert (part["full_epochs"], part["sampling"], part["capped"]) == (2, "up", False)
    assert part["epochs"] == round(budget / n, 4)

    code, out = mix(
        capsys, curated, "--input", "wiki:1", "--input", "c4:1", "--budget", f"{6 * n} docs",
        "--max-epochs", "2", "--output", "capped",
    )  # fmt: skip
    assert code == 0, out
    assert "capped at --max-epochs 2" in out and f"{n} docs short" in out
    manifest = kept_manifest(curated, "capped")
    part = parts(curated, "capped")["wiki@v1"]
    assert part["docs"] == 2 * n and part["capped"] and part["shortfall"] == 3 * n - 2 * n
    assert manifest["mix"]["realised"]["shortfall"] == n
    assert any("capped" in w for w in manifest["warnings"])
    assert kept(curated, "capped").height == 5 * n


def test_same_seed_same_rows_other_seed_other_rows(
    curated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--input", "ko:2", "--input", "c4:1", "--budget", "600 docs", "--output", "seeded"]
    for seed in ("0", "0", "1"):
        code, out = mix(capsys, curated, *args, "--seed", seed)
        assert code == 0, out
    first, again, other = (kept_manifest(curated, f"seeded@v{i}") for i in (1, 2, 3))
    assert first["fingerprint"] == again["fingerprint"]
    assert first["recipe"]["hash"] == again["recipe"]["hash"] != other["recipe"]["hash"]
    assert other["fingerprint"] != first["fingerprint"]
    picked = [set(kept(curated, f"seeded@v{i}")["source_id"]) for i in (1, 3)]
    assert picked[0] != picked[1]
    assert other["mix"]["seed"] == 1 and first["mix"]["seed"] == 0


def test_file_inputs_quarantine_bad_rows_and_data_commands_read_the_mix(
    curated: Path, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.jsonl"
    good = [json.dumps({"id": f"n{i}", "text": f"Note number {i} about mixing."}) for i in range(5)]
    notes.write_text("\n".join([*good[:2], '{"id": "cut", "text": "no end', *good[2:]]) + "\n")
    cc = shared_data / CC_FILE
    code, out = mix(
        capsys, curated, "--input", f"{cc}:1", "--input", f"{notes}:1", "--input", "c4@v1:2",
        "--budget", "80docs", "--output", "files",
    )  # fmt: skip
    assert code == 0, out
    manifest = kept_manifest(curated, "files")
    counts = manifest["counts"]
    assert (counts["kept"], counts["quarantined"], counts["input"]) == (80, 1, 81)
    quarantine = pl.read_parquet(Workspace(curated).dataset("files").path / "quarantine/*.parquet")
    assert quarantine["line"].to_list() == [3]
    mixed = parts(curated, "files")
    assert mixed["notes"]["available_docs"] == 5 and mixed["notes"]["quarantined"] == 1
    assert mixed["notes"]["docs"] == 20 and mixed["notes"]["full_epochs"] == 4
    assert not mixed["notes"]["capped"] and mixed["notes"]["sampling"] == "up"
    files_parent = manifest["parents"][0]
    assert files_parent["version"] is None and files_parent["files"] == [str(cc)]
    assert files_parent["fingerprint"] == resolve_source(str(cc)).fingerprint()

    code, out = run_cli(capsys, "data", "show", "files", "--workspace", str(curated))
    assert code == 0 and "recipe mix" in out and "mix_source" in out and "fingerprint" in out
    assert "files@v1: mixture (docs)" in out and "steps" not in out.split("mixture")[0]
    code, out = run_cli(capsys, "data", "list", "--workspace", str(curated))
    assert code == 0 and "files@v1 │ mix" in out
    code, out = run_cli(
        capsys, "data", "sql", 'SELECT mix_source, count(*) FROM files GROUP BY 1',
        "--workspace", str(curated),
    )  # fmt: skip
    assert code == 0 and "notes" in out


@pytest.mark.parametrize(
    ("inputs", "budget", "message"),
    [
        (["c4:abc"], "10docs", "--input 'c4:abc': weight 'abc' is not a number"),
        (["c4:-1"], "10docs", "--input 'c4:-1': weight -1 is not allowed"),
        (["c4:0", "ko:0"], "10docs", "--input: every weight is 0"),
        ([], "10docs", "no --input given"),
        (["c4"], "lots", "--budget 'lots' is not a budget"),
        (["c4"], "10 bananas", "--budget '10 bananas' is not a budget"),
        (["c4"], "1.5 docs", "a budget must be a whole number"),
        (["c4"], "0 tokens", "a budget must be a whole number"),
        (["nothing:1"], "10docs", "--input 'nothing:1': no dataset 'nothing'"),
        (["c4@v9"], "10docs", "dataset 'c4' has no version 'v9'"),
        (["c4", "c4@v1:2"], "10docs", "are both named 'c4@v1'"),
        (["EMPTY"], "10docs", "has no rows to draw from"),
        (["c4"], "1 tokens", "draws no document at all"),
    ],
)
def test_bad_input_gets_one_clear_line(
    curated: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    inputs: list[str],
    budget: str,
    message: str,
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    args = [a for text in inputs for a in ("--input", text.replace("EMPTY", str(empty)))]
    code, out = mix(capsys, curated, *args, "--budget", budget, "--output", "bad")
    assert code == 2 and message in out and "Traceback" not in out
    assert out.startswith("error:") and not (curated / "datasets" / "bad").exists()


def test_bad_tokenizer_is_named(
    curated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "tokenizer.json"
    broken.write_text('{"not": "a tokenizer"}')
    for path, message in [(tmp_path / "none.json", "no such file"), (broken, "could not be")]:
        code, out = mix(
            capsys, curated, "--input", "c4", "--budget", "1k tokens", "--tokenizer", str(path),
            "--output", "bad",
        )  # fmt: skip
        assert code == 2 and f"--tokenizer {path}" in out and message in out


def test_budget_and_weight_parsing() -> None:
    assert [parse_budget(t).amount for t in ("1000docs", "5k docs", "1.5K documents")] == [
        1000,
        5000,
        1500,
    ]
    assert parse_budget("2M tokens") == Budget(2_000_000, "tokens", "2M tokens")
    assert parse_budget("2000000tokens").amount == 2_000_000
    assert parse_budget("1B tokens").amount == 10**9
    assert parse_input("web@v2:0.25").arg == "web@v2" and parse_input("web").weight == 1.0
    with pytest.raises(WinnowError, match="weight 'x'"):
        parse_input("web:x")


def test_plan_draw_fills_the_rest_of_a_token_target_closely() -> None:
    units = np.array([10, 20, 30, 40])
    for seed in range(6):
        order = np.random.default_rng(seed).permutation(4)
        draw = plan_draw(units, 100 + 34, max_epochs=4, order=order)
        assert draw.full_epochs == 1 and not draw.capped
        assert int((draw.copies * units).sum()) == 130  # 34 is best approached by 30
        assert set(draw.copies.tolist()) <= {1, 2}
    exact = plan_draw(np.ones(50, dtype=np.int64), 137, max_epochs=4, order=np.arange(50))
    assert exact.copies.sum() == 137 and sorted(set(exact.copies.tolist())) == [2, 3]
    capped = plan_draw(units, 1000, max_epochs=3, order=np.arange(4))
    assert capped.copies.tolist() == [3, 3, 3, 3] and capped.shortfall == 700
    assert targets_for(parse_budget("10docs"), [1 / 3, 1 / 3, 1 / 3]) == [4.0, 3.0, 3.0]


def test_every_kind_of_tokenizer_counts_like_its_library(shared_data: Path, tmp_path: Path) -> None:
    texts = pl.read_ndjson(shared_data / "web" / "c4_demo.jsonl")["text"].head(50)
    gpt2 = shared_data / "tokenizers" / "gpt2"
    reference = ByteLevelBPETokenizer(str(gpt2 / "encoder.json"), str(gpt2 / "vocab.bpe"))
    expected = [len(e.ids) for e in reference.encode_batch(texts.to_list())]
    counter = load_counter(str(gpt2))
    assert counter.count(texts).tolist() == expected and "vocab.bpe" in counter.rule
    llama = shared_data / "tokenizers" / "llama-tokenizer.json"
    folder = tmp_path / "llama"
    folder.mkdir()
    (folder / "tokenizer.json").write_bytes(llama.read_bytes())
    by_file, by_folder = load_counter(str(llama)), load_counter(str(folder))
    assert by_file.count(texts).tolist() == by_folder.count(texts).tolist()
    plain = Tokenizer.from_file(str(llama))
    assert by_file.count(texts)[0] == len(plain.encode(texts[0], add_special_tokens=False).ids)
    bert = tmp_path / "bert"  # a from-scratch WordPiece folder that only AutoTokenizer reads
    bert.mkdir()
    (bert / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n")
    (bert / "tokenizer_config.json").write_text('{"tokenizer_class": "BertTokenizer"}')
    counter = load_counter(str(bert))
    assert counter.count(pl.Series(["hello worlds", "hello zzz world"])).tolist() == [3, 3]
    assert "transformers" in counter.rule
