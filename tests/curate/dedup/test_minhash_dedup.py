"""MinHash dedup: planted near-copies found with the right `duplicate_of`, others untouched."""

import json
import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.cli_helpers import run_cli
from tests.curate.judge import decide_global
from tests.curate.samples import edited, read_texts
from winnow.curate.dedup.minhash import lsh
from winnow.curate.dedup.minhash.core import shared_buckets
from winnow.curate.dedup.minhash.minhash_dedup import MinhashDedup
from winnow.errors import WinnowError


@pytest.fixture(scope="module")
def web_texts(shared_data: Path) -> list[str]:
    """Real English web documents of 150 to 1,500 words, distinct from each other."""
    texts = read_texts(shared_data / "web" / "c4_demo.jsonl")
    chosen = [t for t in texts if 150 <= len(t.split()) <= 1500]
    return list(dict.fromkeys(chosen))[:60]


def test_planted_near_copies_point_at_their_original(web_texts: list[str]):
    rng = random.Random(7)
    originals = pl.DataFrame({"id": [f"o{i}" for i in range(len(web_texts))], "text": web_texts})
    copies = pl.DataFrame(
        {"id": [f"c{i}" for i in range(10)], "text": [edited(t, rng, 2) for t in web_texts[:10]]}
    )
    verdict = decide_global(MinhashDedup(), [originals, copies])
    removed = verdict.filter(pl.col("reason") == "near_duplicate")
    assert removed["duplicate_of"].to_list() == [f"o{i}" for i in range(10)]
    assert removed["__shard"].to_list() == [1] * 10
    assert verdict.filter(pl.col("__shard") == 0)["reason"].null_count() == len(web_texts)
    assert set(removed["cluster_id"].to_list()) == set(range(10))


def test_keep_longest_keeps_the_copy_with_more_text(web_texts: list[str]):
    longer = web_texts[0] + " And one more closing sentence."
    frame = pl.DataFrame({"id": ["short", "long"], "text": [web_texts[0], longer]})
    verdict = decide_global(MinhashDedup(keep="longest"), [frame])
    assert verdict["duplicate_of"].to_list() == ["long", None]


def test_verify_rejects_candidates_below_the_threshold(web_texts: list[str]):
    rng = random.Random(3)
    frame = pl.DataFrame({"id": ["a", "b"], "text": [web_texts[1], edited(web_texts[1], rng, 1)]})
    assert decide_global(MinhashDedup(verify=True), [frame])["reason"].to_list() == [
        None,
        "near_duplicate",
    ]
    assert (
        decide_global(MinhashDedup(verify=True, threshold=1.0), [frame])["reason"].null_count() == 2
    )


def test_short_documents_do_not_collapse_and_empty_ones_are_kept():
    texts = ["Hello there.", "Good night!", "Yes", "No", "", "!!!", "Hello there"]
    frame = pl.DataFrame({"id": [str(i) for i in range(len(texts))], "text": texts})
    step = MinhashDedup()
    verdict = decide_global(step, [frame])
    assert verdict["reason"].to_list() == [None] * 6 + ["near_duplicate"]
    assert verdict["duplicate_of"].to_list()[-1] == "0"
    assert step.tally(verdict) == {"clusters of 2": 1, "rows without shingles (kept)": 2}


def test_korean_syllable_shingles_see_through_spacing(shared_data: Path):
    text = (shared_data / "korean" / "constitution.txt").read_text(encoding="utf-8")[:1500]
    respaced = text.replace(" ", "")
    frame = pl.DataFrame({"id": ["a", "b"], "text": [text, respaced]})
    by_words = decide_global(MinhashDedup(), [frame])["reason"].to_list()
    by_syllables = decide_global(MinhashDedup(korean="syllables"), [frame])["reason"].to_list()
    assert by_words == [None, None]
    assert by_syllables == [None, "near_duplicate"]


def test_text_without_spaces_uses_character_shingles():
    text = "我们今天去公园散步然后在湖边吃午饭下午回家休息晚上看书" * 3
    step = MinhashDedup()
    hashes, first, _ = step.shingle_hashes(pl.Series([text]))
    assert np.diff(first).tolist() == [len(text) - 4]


def test_bands_follow_the_threshold_and_bad_parameters_are_named():
    assert lsh.optimal_bands(0.8, 128) == (9, 13)
    assert (MinhashDedup().bands, MinhashDedup().rows) == (14, 9)
    assert (MinhashDedup(verify=False).bands, MinhashDedup(verify=False).rows) == (9, 13)
    low = MinhashDedup(threshold=0.5)
    assert low.bands is not None and low.bands > 9
    curve = MinhashDedup(verify=False).describe()["S-curve"]
    assert curve.startswith("0.50:0.001") and curve.endswith("1.00:1.000")
    for params, words in (
        ({"threshold": 1.5}, "threshold 1.5 must be in (0, 1]"),
        ({"bands": 20, "rows": 10}, "bands x rows = 20 x 10 must be at most num_perm"),
        ({"bands": 4}, "give both bands and rows"),
        ({"keep": "score"}, "needs score_column"),
        ({"shingle": "bytes"}, "shingle must be one of"),
    ):
        with pytest.raises(WinnowError, match=words.replace("(", r"\(").replace(")", r"\)")):
            MinhashDedup(**params)


def test_recipe_run_reports_clusters_and_s_curve(
    tmp_path: Path, workspace: Path, web_texts: list[str], capsys: pytest.CaptureFixture[str]
):
    rng = random.Random(11)
    rows = [{"id": f"o{i}", "text": t} for i, t in enumerate(web_texts[:20])]
    rows += [{"id": f"c{i}", "text": edited(web_texts[i], rng, 2)} for i in range(3)]
    rows.append({"id": "c9", "text": edited(web_texts[0], rng, 3)})
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    recipe = tmp_path / "fuzzy.yaml"
    recipe.write_text("steps:\n  - step: minhash_dedup\n    threshold: 0.8\n", encoding="utf-8")
    code, out = run_cli(
        capsys, "curate", "run", str(recipe), "--source", str(source), "--output", "f"
    )
    assert code == 0, out
    assert "near_duplicate" in out and "[c0] DON’T THINK" in out
    assert "clusters of 2 │ 2" in out and "clusters of 3-4 │ 1" in out
    assert "bands x rows: 14 x 9 of 128 permutations" in out
    rejected = pl.read_parquet(workspace / "datasets" / "f" / "v1" / "rejected" / "*.parquet")
    assert sorted(zip(rejected["id"], rejected["duplicate_of"], strict=True)) == [
        ("c0", "o0"),
        ("c1", "o1"),
        ("c2", "o2"),
        ("c9", "o0"),
    ]
    manifest = json.loads((workspace / "datasets" / "f" / "v1" / "manifest.json").read_text())
    assert manifest["steps"][0]["tally"] == {"clusters of 2": 2, "clusters of 3-4": 1}


def test_exact_jaccard_matches_python_sets():
    rng = np.random.default_rng(5)
    rows = [rng.integers(0, 30, size=rng.integers(0, 25)).astype(np.uint64) for _ in range(12)]
    first = np.concatenate(([0], np.cumsum([len(r) for r in rows])))
    left, right = np.array([0, 1, 2, 3, 4, 0]), np.array([5, 6, 7, 8, 9, 0])
    got = lsh.jaccard(np.concatenate(rows), first, left, right)
    for k, (a, b) in enumerate(zip(left, right, strict=True)):
        x, y = set(rows[a].tolist()), set(rows[b].tolist())
        assert got[k] == pytest.approx(len(x & y) / len(x | y) if x | y else 0.0)


def test_against_an_earlier_dataset_removes_its_near_copies(
    tmp_path: Path, workspace: Path, web_texts: list[str], capsys: pytest.CaptureFixture[str]
):
    rng = random.Random(5)
    earlier = tmp_path / "earlier.jsonl"
    earlier.write_text(
        "".join(
            json.dumps({"id": f"e{i}", "text": t}) + "\n" for i, t in enumerate(web_texts[:15])
        ),
        encoding="utf-8",
    )
    recipe = tmp_path / "exact.yaml"
    recipe.write_text("steps:\n  - step: exact_dedup\n", encoding="utf-8")
    code, out = run_cli(
        capsys, "curate", "run", str(recipe), "--source", str(earlier), "--output", "old"
    )
    assert code == 0, out
    rows = [{"id": f"c{i}", "text": edited(web_texts[i], rng, 2)} for i in (2, 7)]
    rows += [{"id": f"n{i}", "text": web_texts[i]} for i in range(20, 30)]
    rows.append({"id": "n30", "text": edited(web_texts[20], rng, 1)})
    fresh = tmp_path / "fresh.jsonl"
    fresh.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    fuzzy = tmp_path / "fuzzy.yaml"
    fuzzy.write_text("steps:\n  - step: minhash_dedup\n    against: old\n", encoding="utf-8")
    built: list[int] = []
    for run in ("new", "again"):
        code, out = run_cli(
            capsys, "curate", "run", str(fuzzy), "--source", str(fresh), "--output", run
        )
        assert code == 0, out
        index_files = (workspace / "indexes" / "old" / "v1").glob("minhash-*.parquet")
        built += [path.stat().st_mtime_ns for path in index_files]
        assert "near-copies of old │ 2" in out
        rejected = pl.read_parquet(workspace / "datasets" / run / "v1" / "rejected" / "*.parquet")
        assert sorted(zip(rejected["id"], rejected["duplicate_of"], strict=True)) == [
            ("c2", "old@v1:e2"),
            ("c7", "old@v1:e7"),
            ("n30", "n20"),
        ]
    assert len(built) == 2 and built[0] == built[1]  # the second run reads the saved index
    indexes = list((workspace / "indexes" / "old" / "v1").glob("minhash-*.parquet"))
    assert len(indexes) == 1 and pl.read_parquet(indexes[0]).height == 15
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - step: minhash_dedup\n    against: nothing\n", encoding="utf-8")
    code, out = run_cli(capsys, "curate", "run", str(bad), "--source", str(fresh), "--output", "x")
    assert code == 2 and "no dataset 'nothing'" in out


def test_shared_buckets_keep_buckets_of_two_or_more_rows_ascending() -> None:
    rows = np.random.default_rng(3).permutation(60_000)  # as shards' rows arrive, unordered
    buckets = pl.DataFrame({"band": rows % 2, "h": rows // 4, "doc": rows})
    groups = shared_buckets(buckets, "band", "h").sort("band", "h")
    assert groups.height == 30_000
    assert groups["doc"].to_list()[:2] == [[0, 2], [4, 6]]
    assert all(d == sorted(d) and len(d) == 2 for d in groups["doc"].to_list())
    lone = pl.DataFrame({"h": [1, 2, 3], "doc": [2, 0, 1]})
    assert shared_buckets(lone, "h").height == 0
