"""MinHash dedup: accuracy on labelled near-duplicates, and speed beside datasketch.

English: real documents (../shared/data/web and instruct outputs) plus edited copies
(boilerplate added, sentences dropped or reordered, words changed, whitespace and case
changed) at a spread of Jaccard levels. A pair is a true near-duplicate when the exact
Jaccard similarity of its 5-word shingle sets (Winnow's normalization) is at least the
threshold, over ALL pairs of the set, not only the planted ones. Predicted pairs are all
pairs inside a cluster. Korean: KLUE-STS dev sentence pairs, with the paraphrase label.

Speed: the whole step (shingles, signatures, LSH, clusters) against datasketch 2.0
(MinHash.update_batch per document, MinHashLSH insert and query, union-find in Python) on
the same documents, in CPU seconds of this process.

    .venv/bin/python benchmarks/minhash_vs_datasketch.py [--copies 3]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
from scipy import sparse

from winnow.curate.dedup.minhash.minhash_dedup import MinhashDedup
from winnow.curate.sources import iter_documents, resolve_source
from winnow.curate.steps.base import GlobalContext
from winnow.workspace import Workspace

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
BOILERPLATE = [
    "Share this article on Facebook, Twitter and LinkedIn.",
    "Subscribe to our newsletter for weekly updates. Privacy policy | Terms of use",
    "Copyright 2019 All rights reserved. Contact us | About us | Careers",
]


def real_documents() -> list[str]:
    """Distinct real English documents of 50 words or more."""
    texts: list[str] = []
    web = SHARED / "web"
    for path in [*sorted(web.glob("*.jsonl")), *sorted(web.glob("*.jsonl.gz"))]:
        for batch in iter_documents(resolve_source(str(path))):
            texts += batch.docs["text"].to_list()
    for name in ("alpaca_en_demo.json", "lima.json"):
        rows = json.loads((SHARED / "instruct" / name).read_text(encoding="utf-8"))
        texts += [r["output"] for r in rows if isinstance(r.get("output"), str)]
    return list(dict.fromkeys(t for t in texts if len(t.split()) >= 50))


def edit(text: str, rng: random.Random) -> str:
    """A realistic near-copy: one to three kinds of edit at a random strength."""
    sentences = re.split(r"(?<=[.!?])\s+", text)
    kinds = rng.sample(["boilerplate", "drop", "reorder", "words", "surface"], rng.randint(1, 3))
    strength = rng.uniform(0.02, 0.25)
    if "drop" in kinds and len(sentences) > 3:
        keep = [s for s in sentences if rng.random() > strength]
        sentences = keep or sentences
    if "reorder" in kinds and len(sentences) > 3:
        i = rng.randrange(len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    words = " ".join(sentences).split(" ")
    if "words" in kinds:
        for _ in range(max(1, int(len(words) * strength / 3))):
            words[rng.randrange(len(words))] = rng.choice(["lorem", "ipsum", "dolor", "amet"])
    out = " ".join(words)
    if "boilerplate" in kinds:
        out = rng.choice(BOILERPLATE) + "\n" + out + "\n" + rng.choice(BOILERPLATE)
    if "surface" in kinds:
        out = out.upper() if rng.random() < 0.5 else out.replace(" ", "   ")
    return out


def true_pairs(step: MinhashDedup, texts: list[str], threshold: float) -> set[tuple[int, int]]:
    """Every pair whose exact shingle-set Jaccard is at least the threshold."""
    hashes, first, _ = step.shingle_hashes(pl.Series(texts))
    rows = np.repeat(np.arange(len(texts)), np.diff(first))
    unique, column = np.unique(hashes, return_inverse=True)
    pairs = np.unique(np.stack([rows, column]), axis=1)
    matrix = sparse.csr_matrix(
        (np.ones(pairs.shape[1]), (pairs[0], pairs[1])), shape=(len(texts), len(unique))
    )
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    common = sparse.triu(matrix @ matrix.T, k=1).tocoo()
    jaccard = common.data / (sizes[common.row] + sizes[common.col] - common.data)
    keep = jaccard >= threshold
    return set(zip(common.row[keep].tolist(), common.col[keep].tolist(), strict=True))


def predicted_pairs(verdict: pl.DataFrame) -> set[tuple[int, int]]:
    """All pairs inside each predicted cluster (the kept row with its near-duplicates)."""
    frame = verdict.with_row_index("i").with_columns(
        pl.coalesce(pl.col("cluster_id"), pl.col("i").cast(pl.Int64)).alias("c")
    )
    out = set()
    for members in frame.group_by("c").agg(pl.col("i"))["i"].to_list():
        members = sorted(members)
        out |= {(a, b) for k, a in enumerate(members) for b in members[k + 1 :]}
    return out


def run_step(step: MinhashDedup, texts: list[str], workdir: Path) -> tuple[pl.DataFrame, float]:
    """Score and decide one shard as the runner does; return the verdict and CPU seconds."""
    frame = pl.DataFrame({"id": [str(i) for i in range(len(texts))], "text": texts})
    start = time.process_time()
    keys = step.score(frame).select("id", *step.key_columns).with_row_index("__row")
    keys = keys.with_columns(pl.lit(0, dtype=pl.Int64).alias("__shard"))
    verdict = step.decide(keys, GlobalContext(workdir, Workspace(workdir)))
    return verdict, time.process_time() - start


def scores(truth: set, predicted: set) -> str:
    """Pairwise precision, recall and F1 as a table row fragment."""
    hits = len(truth & predicted)
    p = hits / len(predicted) if predicted else 1.0
    r = hits / len(truth) if truth else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return f"{len(truth)} | {len(predicted)} | {p:.3f} | {r:.3f} | **{f1:.3f}**"


def datasketch_dedup(texts: list[str], threshold: float, num_perm: int) -> int:
    """The same job with datasketch: shingle, sign, index, query, join clusters; clusters."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    signatures = []
    for i, text in enumerate(texts):
        words = re.sub(r"[^\w]+|_", " ", text.lower()).split()
        grams = {" ".join(words[k : k + 5]).encode() for k in range(max(1, len(words) - 4))}
        sig = MinHash(num_perm=num_perm, seed=1)
        sig.update_batch(list(grams))
        lsh.insert(str(i), sig)
        signatures.append(sig)
    parent = list(range(len(texts)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, sig in enumerate(signatures):
        for other in lsh.query(sig):
            a, b = root(i), root(int(other))
            if a != b:
                parent[max(a, b)] = min(a, b)
    return len({root(i) for i in range(len(texts))})


def main() -> None:
    """Build the sets, measure accuracy and speed, print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3, help="speed corpus: corpus x N")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    originals = real_documents()
    texts = originals + [edit(t, rng) for t in rng.sample(originals, len(originals) * 2 // 5)]
    workdir = Path(tempfile.mkdtemp(prefix="winnow-minhash-"))
    print(f"English set: {len(originals)} real documents + {len(texts) - len(originals)} edits")
    print("\n| set | setting | true pairs | predicted | precision | recall | F1 |")
    print("|---|---|---:|---:|---:|---:|---:|")
    truth = true_pairs(MinhashDedup(), texts, 0.8)
    for verify in (False, True):
        step = MinhashDedup(verify=verify)
        verdict, _ = run_step(step, texts, workdir)
        setting = f"0.8, verify {'on (default)' if verify else 'off'}, {step.bands} x {step.rows}"
        print(f"| English | {setting} | {scores(truth, predicted_pairs(verdict))} |")
    sts = json.loads((SHARED / "korean" / "klue-sts-v1.1_dev.json").read_text(encoding="utf-8"))
    sentences = [s for item in sts for s in (item["sentence1"], item["sentence2"])]
    for label, name in (("binary-label", "paraphrase"), ("label", "score >= 4.5")):
        positive = [
            i
            for i, item in enumerate(sts)
            if item["labels"][label] >= (1 if label != "label" else 4.5)
        ]
        truth_ko = {(2 * i, 2 * i + 1) for i in positive}
        for korean, char_n in (("words", 5), ("syllables", 5), ("syllables", 3)):
            step = MinhashDedup(korean=korean, char_n=char_n, threshold=0.5)
            verdict, _ = run_step(step, sentences, workdir)
            found = {p for p in predicted_pairs(verdict) if p[1] == p[0] + 1 and p[0] % 2 == 0}
            setting = f"0.5, {korean}" + (f" {char_n}-grams" if korean == "syllables" else "")
            print(f"| KLUE-STS {name} | {setting} | {scores(truth_ko, found)} |")
    speed_texts = texts + [edit(t, rng) for t in texts * (args.copies - 1)]
    _, ours = run_step(MinhashDedup(), speed_texts, workdir)
    start = time.process_time()
    datasketch_dedup(speed_texts, 0.8, 128)
    theirs = time.process_time() - start
    n = len(speed_texts)
    print(f"\nspeed on {n:,} documents ({sum(map(len, speed_texts)) / 1e6:.1f} MB):")
    print("| tool | CPU s | docs/CPU-s | ratio |\n|---|---:|---:|---:|")
    print(f"| datasketch 2.0 (update_batch + MinHashLSH) | {theirs:.1f} | {n / theirs:,.0f} | 1x |")
    print(f"| winnow minhash_dedup | {ours:.2f} | {n / ours:,.0f} | **{theirs / ours:.1f}x** |")


if __name__ == "__main__":
    main()
