"""The near-duplicate job written with datasketch or rensa, each set up as its docs advise.

Both peers get what Winnow's `minhash_dedup` does by default: lower case, words as runs of
letters and digits, word 5-gram shingles, 126 or 128 permutations in 14 bands of 9 rows at
threshold 0.8, the exact Jaccard similarity of each candidate pair's shingle sets checked
against the threshold (`check`), and clusters joined by union-find.

- datasketch 2.x: one prototype `MinHash` whose permutations every document's sketch copies
  (`MinHash.generator`, "avoids unnecessary overhead when initializing many minhashes"),
  xxhash's `xxh32_intdigest` as `hashfunc` instead of the SHA-1 default (the docstring
  suggests a fast hash), `update_batch` per document, `MinHashLSH(params=(bands, rows))`
  filled through an `insertion_session`, then `query` per document.
- rensa (Rust): `RMinHash.from_token_sets` (the README's batch constructor, strings hashed in
  Rust), `RMinHashLSH.insert_many` and `query_all`. Its `num_bands` must divide `num_perm`,
  so it signs bands x rows permutations (126 for 14 x 9).

Imported by `minhash_vs_datasketch.py`; run as a script it is the whole job as a user runs
it (start-up, reading JSONL, writing the kept rows), one child process per run:

    .venv/bin/python benchmarks/minhash_peers.py datasketch IN.jsonl OUT.jsonl [--no-check]

datasketch, rensa and xxhash are benchmark-only dependencies (`pip install -e .[bench]`).
"""

from __future__ import annotations

import argparse
import json
import re
import time

WORD = re.compile(r"[^\W_]+")
SEPARATORS = re.compile(r"[\W_]+")


def shingle_sets(texts: list[str], n: int = 5) -> list[set[str]]:
    """Each text's word n-grams after lower-casing (one shingle of all words if fewer).

    Words are runs of letters and digits (`WORD`); replacing the separators and splitting on
    spaces gives the same words as `WORD.findall` in three quarters of the time."""
    out = []
    for text in texts:
        words = SEPARATORS.sub(" ", text.lower()).split()
        if len(words) < n:
            out.append({" ".join(words)} if words else set())
        else:
            out.append({" ".join(words[k : k + n]) for k in range(len(words) - n + 1)})
    return out


def clusters(n: int, pairs, sets: list[set] | None, threshold: float) -> list[int]:
    """Union-find over candidate pairs (checked by exact Jaccard when `sets` is given)."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in pairs:
        if sets is not None:
            a, b = sets[i], sets[j]
            common = len(a & b)
            if common < threshold * (len(a) + len(b) - common):
                continue
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return [root(i) for i in range(n)]


def candidate_pairs(candidates) -> set[tuple[int, int]]:
    """Each document's LSH candidates as distinct pairs (smaller index first)."""
    pairs = set()
    for i, found in enumerate(candidates):
        for j in found:
            j = int(j)
            if j != i:
                pairs.add((i, j) if i < j else (j, i))
    return pairs


def dedup(
    texts: list[str],
    tool: str,
    *,
    threshold: float = 0.8,
    bands: int = 14,
    rows: int = 9,
    num_perm: int = 128,
    check: bool = True,
) -> tuple[list[int], dict[str, float]]:
    """Cluster roots (a document's smallest near-copy index) and wall seconds per phase."""
    clock = [time.perf_counter()]
    phases: dict[str, float] = {}

    def lap(name: str) -> None:
        clock.append(time.perf_counter())
        phases[name] = clock[-1] - clock[-2]

    sets = shingle_sets(texts)
    lap("shingles")
    if tool == "datasketch":
        from datasketch import MinHash, MinHashLSH
        from xxhash import xxh32_intdigest

        byte_sets = ([s.encode() for s in grams] for grams in sets)
        sketches = list(MinHash.generator(byte_sets, num_perm=num_perm, hashfunc=xxh32_intdigest))
        lap("signatures")
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=(bands, rows))
        with lsh.insertion_session() as session:
            for i, sketch in enumerate(sketches):
                session.insert(i, sketch, check_duplication=False)
        pairs = candidate_pairs(lsh.query(sketch) for sketch in sketches)
    elif tool == "rensa":
        from rensa import RMinHash, RMinHashLSH

        sketches = RMinHash.from_token_sets(sets, num_perm=bands * rows, seed=42)
        lap("signatures")
        lsh = RMinHashLSH(threshold=threshold, num_perm=bands * rows, num_bands=bands)
        lsh.insert_many(sketches, start_key=0)
        pairs = candidate_pairs(lsh.query_all(sketches))
    else:
        raise ValueError(f"unknown tool {tool!r}")
    lap("lsh")
    roots = clusters(len(texts), sorted(pairs), sets if check else None, threshold)
    lap("check and clusters")
    return roots, phases


def main() -> None:
    """Read JSONL, dedup, write the kept rows as JSONL; print counts and seconds as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=["datasketch", "rensa"])
    parser.add_argument("source")
    parser.add_argument("output")
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--bands", type=int, default=14)
    parser.add_argument("--rows", type=int, default=9)
    parser.add_argument("--no-check", dest="check", action="store_false")
    args = parser.parse_args()
    with open(args.source, encoding="utf-8") as handle:
        docs = [json.loads(line) for line in handle]
    roots, phases = dedup(
        [d["text"] for d in docs],
        args.tool,
        threshold=args.threshold,
        bands=args.bands,
        rows=args.rows,
        check=args.check,
    )
    kept = 0
    with open(args.output, "w", encoding="utf-8") as out:
        for i, doc in enumerate(docs):
            if roots[i] == i:
                out.write(json.dumps(doc, ensure_ascii=False) + "\n")
                kept += 1
    print(json.dumps({"documents": len(docs), "kept": kept, "phases": phases}))


if __name__ == "__main__":
    main()
