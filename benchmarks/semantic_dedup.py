"""Semantic dedup against MinHash: paraphrase recall and precision, throughput and memory.

    PYTHONPATH=. .venv/bin/python benchmarks/semantic_dedup.py [--embed-docs 5000]

a. KLUE-STS dev (/work/shared/data/korean): the 1,038 sentences of its 519 pairs form one
   corpus; truth is the 220 pairs the dataset labels paraphrase (binary-label 1). English:
   real documents from /work/shared/data/web with paraphrase-like variants planted here
   (synonyms swapped in, sentences shuffled or dropped), truth being what was planted.
   A pair counts as found when both rows end in the same duplicate group (a kept row and the
   rows pointing at it); precision is over every pair inside the groups, so one large group
   of unrelated rows costs precision quadratically, as it costs the data.
b. 100,000 documents built from the real web files (below, `hundred_k`): MinHash over all of
   them; semantic dedup's embedding over the first `--embed-docs` (2 CPU cores cannot embed
   100k in minutes), extrapolated and labelled so; k-means and the walk at 100k on vectors
   made from the embedded ones (each reused with Gaussian noise), also labelled so.
Each part runs in its own process, so its peak RSS is its own. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import polars as pl

DATA = Path(os.environ.get("WINNOW_SHARED_DATA", Path(__file__).parents[2] / "shared" / "data"))
HUNDRED_K = 100_000
SYNONYMS = {
    "good": "fine", "great": "excellent", "help": "assist", "home": "house", "make": "create",
    "need": "require", "best": "finest", "many": "numerous", "use": "employ", "get": "obtain",
    "new": "fresh", "big": "large", "small": "little", "buy": "purchase", "start": "begin",
    "show": "display", "find": "discover", "important": "significant", "easy": "simple",
    "quickly": "rapidly", "often": "frequently", "enough": "sufficient", "people": "folks",
    "children": "kids", "about": "around", "very": "really", "also": "as well",
    "however": "yet", "because": "since", "work": "labour", "place": "spot", "world": "globe",
}  # fmt: skip
SENTENCE = re.compile(r"(?<=[.!?])\s+")


def peak_mb() -> float:
    """This process's peak resident memory in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def keys_frame(ids: list[str], step, frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Score shards with a step and stack their keys as the runner hands them to `decide`."""
    from winnow.curate.runner import global_keys

    return global_keys(step, [step.score(f) for f in frames])


def groups(verdict: pl.DataFrame, ids: list[str]) -> list[list[str]]:
    """Duplicate groups: each kept row with the rows whose `duplicate_of` names it."""
    removed = verdict.filter(pl.col("reason").is_not_null())
    by_kept: dict[str, list[str]] = {}
    row_ids = verdict.select(pl.col("__shard"), pl.col("__row")).rows()
    flat = {pair: ids[i] for i, pair in enumerate(row_ids)}
    for shard, row, kept in removed.select("__shard", "__row", "duplicate_of").rows():
        by_kept.setdefault(kept, [kept]).append(flat[(shard, row)])
    return list(by_kept.values())


def score_pairs(found: list[list[str]], truth: set[frozenset[str]]) -> dict[str, float]:
    """Pair recall and precision of duplicate groups against true pairs."""
    pairs = {frozenset(p) for g in found for p in combinations(g, 2)}
    hits = len(pairs & truth)
    return {
        "pairs": len(pairs),
        "recall": hits / len(truth),
        "precision": hits / len(pairs) if pairs else float("nan"),
    }


def sweep(step_class, keys, ids, truth, thresholds, **params) -> list[dict]:
    """Decide once per threshold over the same embedded keys."""
    out = []
    for t in thresholds:
        verdict = step_class(threshold=round(float(t), 2), **params).decide(keys)
        out.append({"threshold": round(float(t), 2)} | score_pairs(groups(verdict, ids), truth))
    return out


def at_precision(rows: list[dict], floor: float = 0.9) -> dict | None:
    """The row with the best recall among those with precision at least `floor`."""
    good = [r for r in rows if r["pairs"] and r["precision"] >= floor]
    return max(good, key=lambda r: (r["recall"], r["threshold"])) if good else None


def minhash_runs(texts: list[str], ids: list[str], truth: set, configs: list[dict]) -> list:
    """MinHash dedup with each settings mapping, scored like the semantic rows."""
    from winnow.curate.dedup.minhash.minhash_dedup import MinhashDedup

    frame = pl.DataFrame({"id": ids, "text": texts})
    out = []
    for config in configs:
        step = MinhashDedup(**config)
        verdict = step.decide(keys_frame(ids, step, [frame]))
        label = ", ".join(f"{k} {v}" for k, v in config.items()) or "defaults (threshold 0.8)"
        out.append({"settings": label} | score_pairs(groups(verdict, ids), truth))
    return out


def split_misses(keys, ids, truth, threshold: float, ks: list[int]) -> list[dict]:
    """True pairs found with every row compared (clusters 1) that k-means splits apart."""
    from winnow.curate.dedup.semantic.semantic_dedup import SemanticDedup

    exact = score_pairs(
        groups(SemanticDedup(threshold=threshold, clusters=1).decide(keys), ids), truth
    )
    out = []
    for k in ks:
        got = score_pairs(
            groups(SemanticDedup(threshold=threshold, clusters=k).decide(keys), ids), truth
        )
        lost = exact["recall"] - got["recall"]
        out.append(
            {
                "clusters": k,
                "recall": got["recall"],
                "lost": lost,
                "lost_share": lost / exact["recall"] if exact["recall"] else 0.0,
            }
        )
    return [{"clusters": 1, "recall": exact["recall"], "lost": 0.0, "lost_share": 0.0}, *out]


def part_klue() -> dict:
    """KLUE-STS: semantic sweep, MinHash settings, cosines of true, false and random pairs."""
    from winnow.curate.dedup.semantic.semantic_dedup import SemanticDedup

    pairs = json.loads((DATA / "korean" / "klue-sts-v1.1_dev.json").read_text(encoding="utf-8"))
    ids, texts, truth = [], [], set()
    for i, p in enumerate(pairs):
        ids += [f"{i}a", f"{i}b"]
        texts += [p["sentence1"], p["sentence2"]]
        if p["labels"]["binary-label"] == 1:
            truth.add(frozenset((f"{i}a", f"{i}b")))
    step = SemanticDedup()
    started = time.perf_counter()
    keys = keys_frame(ids, step, [pl.DataFrame({"id": ids, "text": texts})])
    embed_s = time.perf_counter() - started
    v = keys[step.vector_column].to_numpy()
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(ids), 5000), rng.integers(0, len(ids), 5000)
    unrelated = np.einsum("ij,ij->i", v[a], v[b])[(a // 2) != (b // 2)]
    pos = np.array(
        [v[2 * i] @ v[2 * i + 1] for i, p in enumerate(pairs) if p["labels"]["binary-label"] == 1]
    )
    neg = np.array(
        [v[2 * i] @ v[2 * i + 1] for i, p in enumerate(pairs) if p["labels"]["binary-label"] == 0]
    )
    cosines = {
        name: [float(np.percentile(x, q)) for q in (5, 50, 95)]
        for name, x in (
            ("paraphrase pairs", pos),
            ("labelled non-paraphrase pairs", neg),
            ("random sentences of different pairs", unrelated),
        )
    }
    fine = sweep(SemanticDedup, keys, ids, truth, np.arange(0.80, 1.0001, 0.01), clusters=1)
    shown = [r for r in fine if round(r["threshold"] * 100) % 2 == 0 or r["threshold"] >= 0.95]
    minhash = minhash_runs(
        texts,
        ids,
        truth,
        [
            {},
            {"threshold": 0.5},
            {"threshold": 0.5, "korean": "syllables"},
            {"threshold": 0.3, "korean": "syllables"},
        ],
    )
    return {
        "rows": len(ids),
        "truth": len(truth),
        "embed_s": embed_s,
        "cosines": cosines,
        "semantic": shown,
        "best": at_precision(fine),
        "minhash": minhash,
        "peak_mb": peak_mb(),
    }


def web_documents() -> list[str]:
    """Real English web documents: C4 rows, CC-MAIN records and Wikipedia articles."""
    texts = [
        json.loads(line)["text"] for line in (DATA / "web" / "c4_demo.jsonl").open(encoding="utf-8")
    ]
    with gzip.open(
        DATA / "web" / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz",
        "rt",
        encoding="utf-8",
    ) as f:
        texts += [json.loads(line)["text"] for line in f]
    texts += (DATA / "web" / "wiki_demo.txt").read_text(encoding="utf-8").splitlines()
    return texts


def paraphrased(text: str, kind: str, rng: random.Random) -> str:
    """A planted paraphrase-like variant: synonyms always; then shuffle or drop sentences."""
    words = [SYNONYMS.get(w, w) for w in text.split(" ")]
    sentences = SENTENCE.split(" ".join(words))
    if kind == "shuffled":
        rng.shuffle(sentences)
    elif kind == "dropped" and len(sentences) > 2:
        sentences = [s for s in sentences if rng.random() > 0.25] or sentences[:1]
    return " ".join(sentences)


def part_english() -> dict:
    """Planted English paraphrases: semantic sweep and MinHash, recall per kind of variant."""
    from winnow.curate.dedup.semantic.semantic_dedup import SemanticDedup

    rng = random.Random(25)
    originals = list(
        dict.fromkeys(t.strip() for t in web_documents() if 50 <= len(t.split()) <= 300)
    )
    rng.shuffle(originals)
    originals = originals[:600]
    ids = [f"o{i}" for i in range(len(originals))]
    texts = list(originals)
    truth: dict[str, set] = {"synonyms": set(), "shuffled": set(), "dropped": set()}
    for i in range(200):
        kind = ("synonyms", "shuffled", "dropped")[i % 3]
        ids.append(f"v{i}")
        texts.append(paraphrased(originals[i], kind, rng))
        truth[kind].add(frozenset((f"o{i}", f"v{i}")))
    everything = set().union(*truth.values())
    step = SemanticDedup()
    started = time.perf_counter()
    keys = keys_frame(ids, step, [pl.DataFrame({"id": ids, "text": texts})])
    embed_s = time.perf_counter() - started
    semantic = sweep(SemanticDedup, keys, ids, everything, [0.8, 0.85, 0.9, 0.95, 0.98], clusters=1)
    per_kind = {
        kind: score_pairs(groups(SemanticDedup().decide(keys), ids), t)["recall"]
        for kind, t in truth.items()
    }
    minhash = minhash_runs(texts, ids, everything, [{}, {"threshold": 0.5}])
    from winnow.curate.dedup.minhash.minhash_dedup import MinhashDedup

    frame = pl.DataFrame({"id": ids, "text": texts})
    mh_kind = {}
    for config in ({}, {"threshold": 0.5}):
        mh = MinhashDedup(**config)
        found = groups(mh.decide(keys_frame(ids, mh, [frame])), ids)
        mh_kind[f"minhash threshold {config.get('threshold', 0.8)}"] = {
            kind: score_pairs(found, t)["recall"] for kind, t in truth.items()
        }
    splits = split_misses(keys, ids, everything, 0.9, [4, 8, 16])
    return {
        "rows": len(ids),
        "truth": len(everything),
        "embed_s": embed_s,
        "semantic": semantic,
        "best": at_precision(semantic),
        "per_kind": {"semantic 0.9": per_kind} | mh_kind,
        "minhash": minhash,
        "splits": splits,
        "peak_mb": peak_mb(),
    }


def hundred_k() -> list[str]:
    """100,000 documents from the real web files: each joins one to three paragraphs drawn
    (seeded) from the C4, CC-MAIN and Wikipedia paragraphs of 8 words or more, with one word
    dropped at random so that no two are byte-identical by construction."""
    rng = random.Random(100)
    paragraphs = [p.strip() for t in web_documents() for p in t.split("\n") if len(p.split()) >= 8]
    docs = []
    for _ in range(HUNDRED_K):
        words = " ".join(rng.choice(paragraphs) for _ in range(rng.randint(1, 3))).split(" ")
        del words[rng.randrange(len(words))]
        docs.append(" ".join(words))
    return docs


def part_embed(n: int) -> dict:
    """Semantic dedup on the first `n` of the 100k documents: embedding, then k-means + walk."""
    from winnow.curate.dedup.semantic.semantic_dedup import SemanticDedup

    docs = hundred_k()[:n]
    ids = [str(i) for i in range(n)]
    step = SemanticDedup()
    step.load()  # the encoder's load (a few seconds) is not counted as embedding
    loaded = peak_mb()
    frames = [
        pl.DataFrame({"id": ids[s : s + 2000], "text": docs[s : s + 2000]})
        for s in range(0, n, 2000)
    ]
    started = time.perf_counter()
    keys = keys_frame(ids, step, frames)
    embed_s = time.perf_counter() - started
    started = time.perf_counter()
    verdict = step.decide(keys)
    decide_s = time.perf_counter() - started
    removed = int(verdict["reason"].is_not_null().sum())
    exact = SemanticDedup(clusters=1).decide(keys)
    both = int((verdict["reason"].is_not_null() & exact["reason"].is_not_null()).sum())
    np.save(os.environ["SEMDEDUP_VECTORS"], keys[step.vector_column].to_numpy())
    return {
        "docs": n,
        "words": sum(len(d.split()) for d in docs),
        "embed_s": embed_s,
        "decide_s": decide_s,
        "clusters": n // 1000,
        "removed": removed,
        "removed_exhaustive": int(exact["reason"].is_not_null().sum()),
        "removed_both": both,
        "model_mb": loaded,
        "peak_mb": peak_mb(),
    }


def part_decide_100k() -> dict:
    """k-means + walk on 100k vectors: the embedded ones, each reused with small noise."""
    from winnow.curate.dedup.semantic.semantic_dedup import SemanticDedup

    real = np.load(os.environ["SEMDEDUP_VECTORS"])
    rng = np.random.default_rng(0)
    v = real[np.arange(HUNDRED_K) % len(real)] + rng.normal(
        0, 0.03, (HUNDRED_K, real.shape[1])
    ).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    step = SemanticDedup()
    keys = pl.DataFrame(
        {
            "__row": np.arange(HUNDRED_K, dtype=np.uint32),
            "id": [str(i) for i in range(HUNDRED_K)],
            step.vector_column: pl.Series(v, dtype=pl.Array(pl.Float32, v.shape[1])),
            step.chars_column: np.ones(HUNDRED_K, np.int64),
            "__shard": np.zeros(HUNDRED_K, np.int64),
        }
    )
    before = peak_mb()
    started = time.perf_counter()
    verdict = step.decide(keys)
    seconds = time.perf_counter() - started
    return {
        "docs": HUNDRED_K,
        "decide_s": seconds,
        "removed": int(verdict["reason"].is_not_null().sum()),
        "inputs_mb": before,
        "peak_mb": peak_mb(),
    }


def part_minhash_100k() -> dict:
    """Winnow's MinHash step (defaults) over all 100k documents, scored in shards of 10k."""
    from winnow.curate.dedup.minhash.minhash_dedup import MinhashDedup

    docs = hundred_k()
    ids = [str(i) for i in range(len(docs))]
    step = MinhashDedup()
    step.score(pl.DataFrame({"id": ["warm"], "text": ["numba kernels compile once, not timed"]}))
    frames = [
        pl.DataFrame({"id": ids[s : s + 10_000], "text": docs[s : s + 10_000]})
        for s in range(0, len(docs), 10_000)
    ]
    started = time.perf_counter()
    keys = keys_frame(ids, step, frames)
    score_s = time.perf_counter() - started
    started = time.perf_counter()
    verdict = step.decide(keys)
    decide_s = time.perf_counter() - started
    return {
        "docs": len(docs),
        "score_s": score_s,
        "decide_s": decide_s,
        "removed": int(verdict["reason"].is_not_null().sum()),
        "peak_mb": peak_mb(),
    }


def run_part(name: str, *extra: str) -> dict:
    """Run one part in a fresh process and read its JSON line."""
    out = subprocess.run(
        [sys.executable, __file__, "--part", name, *extra],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def pct(x: float) -> str:
    """A share as a percentage with one decimal."""
    return "n/a" if x != x else f"{100 * x:.1f}%"


def table(header: list[str], rows: list[list[object]]) -> None:
    """Print a Markdown table."""
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


def quality(title: str, data: dict) -> None:
    """Pair recall and precision of every setting, and recall at precision >= 90%."""
    print(f"\n#### {title}: pair recall and precision\n")
    rows = [
        ["semantic (MiniLM)", f"cosine >= {r['threshold']:.2f}", r["pairs"], pct(r["recall"])]
        + [pct(r["precision"])]
        for r in data["semantic"]
    ]
    rows += [
        ["MinHash", r["settings"], r["pairs"], pct(r["recall"]), pct(r["precision"])]
        for r in data["minhash"]
    ]
    table(["method", "settings", "pairs in groups", "recall", "precision"], rows)
    best = data["best"]
    found = f"{pct(best['recall'])} (cosine {best['threshold']:.2f})" if best else "none"
    print(f"\nSemantic recall at precision >= 90%: {found}")


def report(klue: dict, english: dict, embed: dict, decide: dict, minhash: dict) -> None:
    """Print the results as Markdown."""
    print(f"### KLUE-STS dev: {klue['rows']} sentences, {klue['truth']} paraphrase pairs\n")
    print(f"Embedding took {klue['embed_s']:.1f} s. MiniLM cosine percentiles:\n")
    cosines = [[name, *(f"{c:.3f}" for c in cs)] for name, cs in klue["cosines"].items()]
    table(["pairs", "p5", "median", "p95"], cosines)
    quality("KLUE-STS (Korean)", klue)
    quality("Planted English paraphrases", english)
    real = english["rows"] - english["truth"]
    print(f"\nEnglish: {real} real documents and {english['truth']} planted variants.\n")
    kinds = list(next(iter(english["per_kind"].values())))
    recalls = [[m, *(pct(r[k]) for k in kinds)] for m, r in english["per_kind"].items()]
    table(["recall by kind of variant", *kinds], recalls)
    print("\nPairs k-means splits apart (English, cosine >= 0.90):\n")
    splits = [[r["clusters"], pct(r["recall"]), pct(r["lost_share"])] for r in english["splits"]]
    table(["k-means clusters", "recall", "share of clusters-1 finds lost"], splits)
    n, embed_s, decide_s = embed["docs"], embed["embed_s"], decide["decide_s"]
    estimate = HUNDRED_K * embed_s / n + decide_s
    minhash_s = minhash["score_s"] + minhash["decide_s"]
    print(f"\n### {HUNDRED_K:,} documents (semantic embedding measured on {n:,})\n")
    k = f"{HUNDRED_K:,}"
    table(
        ["stage", "docs", "seconds", "docs/s", "peak RSS MB"],
        [
            ["semantic: embedding (MiniLM, CPU)", f"{n:,}", f"{embed_s:.1f}"]
            + [f"{n / embed_s:.1f}", f"{embed['peak_mb']:.0f}"],
            ["semantic: k-means + walk, real vectors", f"{n:,}", f"{embed['decide_s']:.2f}"]
            + [f"{n / embed['decide_s']:,.0f}", "(same process)"],
            ["semantic: k-means + walk, 100k vectors made from the real ones", k]
            + [f"{decide_s:.1f}", f"{HUNDRED_K / decide_s:,.0f}", f"{decide['peak_mb']:.0f}"],
            ["**estimate** semantic total (embedding extrapolated from the first row)", k]
            + [f"~{estimate:,.0f}", f"~{HUNDRED_K / estimate:.1f}", "n/a"],
            ["MinHash (defaults): shingle + sign", k, f"{minhash['score_s']:.1f}"]
            + [f"{HUNDRED_K / minhash['score_s']:,.0f}", ""],
            ["MinHash (defaults): buckets + verify + components", k, f"{minhash['decide_s']:.1f}"]
            + [f"{HUNDRED_K / minhash['decide_s']:,.0f}", ""],
            ["MinHash (defaults): total", k, f"{minhash_s:.1f}"]
            + [f"{HUNDRED_K / minhash_s:,.0f}", f"{minhash['peak_mb']:.0f}"],
        ],
    )
    print(f"\nSemantic / MinHash time at 100k: ~{estimate / minhash_s:,.0f}x (estimate).")
    print(
        f"Removed: MinHash {minhash['removed']:,} of {k}; semantic {embed['removed']:,} of "
        f"the {n:,} embedded ({embed['removed_exhaustive']:,} with clusters 1, "
        f"{embed['removed_both']:,} by both), {decide['removed']:,} of the 100k made vectors."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part")
    parser.add_argument("--embed-docs", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("SEMDEDUP_VECTORS", f"/tmp/semdedup-{os.getpid()}.npy")
    parts = {
        "klue": part_klue,
        "english": part_english,
        "decide": part_decide_100k,
        "minhash": part_minhash_100k,
    }
    if args.part == "embed":
        print(json.dumps(part_embed(args.embed_docs)))
    elif args.part:
        print(json.dumps(parts[args.part]()))
    else:
        results = [
            run_part("klue"),
            run_part("english"),
            run_part("embed", "--embed-docs", str(args.embed_docs)),
            run_part("decide"),
            run_part("minhash"),
        ]
        Path(os.environ["SEMDEDUP_VECTORS"]).unlink(missing_ok=True)
        report(*results)


if __name__ == "__main__":
    main()
