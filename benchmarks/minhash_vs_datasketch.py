"""MinHash dedup: accuracy against planted near-duplicates, and speed beside datasketch and rensa.

English truth comes from the edits, not from any tool's shingles. Real documents
(../shared/data/web and the outputs of instruct/alpaca_en_demo.json and lima.json, 50 words or
more) are first made pairwise distinct (a document whose word 5-grams overlap an earlier one's
by Jaccard 0.3 or more is left out, a tenth are held out as foreign text to insert); then a
share of them get one edited copy each. Every copy is a list of the original's words, each
word remembering where it came from: words replaced, sentences dropped or swapped, boilerplate
or foreign text inserted; case, spacing and punctuation changed. A 5-word window of the copy
is the original's only when its five words are unchanged and still consecutive there, so the
edit log alone says which share of the original's word 5-grams survive: the planted Jaccard
`J` (windows repeated inside the original counted once). Each copy aims at a `J` drawn from
above (0.85-1.0), around (0.75-0.85) or below (0.45-0.75) the threshold 0.8; the `J` reached
is recorded. A pair is a true near-duplicate when it is an original and its copy with
`J >= 0.8`; every other pair is not. Predicted pairs are all pairs inside a predicted
cluster. As a check, the script also computes the realized Jaccard of every planted pair
from its text and reports how many land on the other side of 0.8.

Korean: the 519 KLUE-STS dev sentence pairs (all sentences as documents), true pairs the
paraphrase label or a similarity score of 4.5 or more (Winnow only).

Speed, on the labelled set with every document edited once more per extra copy (`--copies`):
- the step alone, in this process: Winnow's `minhash_dedup` (score + decide, as the runner
  calls them) against `minhash_peers.dedup` for datasketch and rensa (shingles, signatures,
  LSH, the same exact check, union-find), after an untimed warm-up of each;
- the whole job as a user runs it, a child process per run (start-up, reading the JSONL,
  writing the output), timed by benchmarks/whole_runs.py (CPU: user + system time of the
  child): `winnow curate run` with a one-step recipe against `minhash_peers.py TOOL IN OUT`,
  on the first 20 documents and on all N; from the two, marginal docs/CPU-s
  (N - 20) / (cpu(N) - cpu(20)), the rate once start-up is paid, beside whole docs/CPU-s
  N / cpu(N).
Sides alternate round by round; each side's fastest round is kept (`--rounds`).

    .venv/bin/python benchmarks/minhash_vs_datasketch.py [--size N] [--copies 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl
from minhash_peers import WORD, dedup, shingle_sets
from scipy import sparse
from whole_runs import SMALL, Timing, child, fastest, rate_table, winnow_command

from winnow.curate.dedup.minhash.minhash_dedup import MinhashDedup
from winnow.curate.sources import iter_documents, resolve_source
from winnow.curate.steps.base import GlobalContext
from winnow.workspace import Workspace

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
THRESHOLD = 0.8
BOILERPLATE = [
    "Share this article on Facebook, Twitter and LinkedIn.",
    "Subscribe to our newsletter for weekly updates. Privacy policy | Terms of use",
    "Copyright 2019 All rights reserved. Contact us | About us | Careers",
    "Click here to read more stories like this one from our archive.",
]
FILLER = ["lorem", "ipsum", "dolor", "amet", "vivamus", "porta", "quam", "felis", "nunc", "augue"]
TOOLS = ("winnow", "datasketch", "rensa")


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
    return list(dict.fromkeys(t for t in texts if len(WORD.findall(t)) >= 50))


def jaccard_matrix(sets: list[set[str]]) -> sparse.coo_matrix:
    """Exact Jaccard of every pair that shares a shingle (upper triangle, sparse)."""
    ids: dict[str, int] = {}
    rows, cols = [], []
    for i, grams in enumerate(sets):
        for g in grams:
            rows.append(i)
            cols.append(ids.setdefault(g, len(ids)))
    matrix = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(sets), max(len(ids), 1))
    )
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    common = sparse.triu(matrix @ matrix.T, k=1).tocoo()
    common.data = common.data / (sizes[common.row] + sizes[common.col] - common.data)
    return common


def distinct(texts: list[str], limit: float = 0.3) -> list[str]:
    """Leave out every document whose 5-grams overlap an earlier one's by `limit` or more."""
    common = jaccard_matrix(shingle_sets(texts))
    drop = set(common.col[common.data >= limit].tolist())
    return [t for i, t in enumerate(texts) if i not in drop]


# A token is [word, the separator after it, the index of the original word or -1].
Token = list


def tokenize(text: str) -> tuple[str, list[Token]]:
    """The text as its leading separator and one token per word."""
    spans = [m.span() for m in WORD.finditer(text)]
    ends = [s for s, _ in spans[1:]] + [len(text)]
    tokens = [
        [text[s:e], text[e:nxt], k] for k, ((s, e), nxt) in enumerate(zip(spans, ends, strict=True))
    ]
    return text[: spans[0][0]] if spans else text, tokens


def windows(tokens: list[Token]) -> list[tuple[str, ...]]:
    """Every word 5-gram of an original, lower case (or all words if fewer)."""
    words = [t[0].lower() for t in tokens]
    return [tuple(words[k : k + 5]) for k in range(max(1, len(words) - 4))]


def planted_jaccard(original: set, grams: list[tuple], copy: list[Token]) -> float:
    """The share of 5-grams the copy keeps, from the words' provenance alone."""
    kept, novel = set(), 0
    for i in range(max(1, len(copy) - 4)):
        origin = copy[i][2]
        window = copy[i : i + 5]
        if origin >= 0 and all(t[2] == origin + j for j, t in enumerate(window)):
            kept.add(grams[origin])
        else:
            novel += 1
    return len(kept) / (len(original) + novel)


def sentence_starts(copy: list[Token]) -> list[int]:
    """Token indices that begin a sentence (after . ! ? or a line break)."""
    return [0] + [i + 1 for i, t in enumerate(copy[:-1]) if re.search(r"[.!?\n]", t[1])]


def edit_once(copy: list[Token], gap: float, rng: random.Random, foreign: list[str]) -> str:
    """Apply one edit sized to the gap left to the target; return its kind."""
    n = len(copy)
    kind = rng.choice(["words", "words", "drop", "insert", "swap"])
    starts = sentence_starts(copy)
    if kind == "drop" and len(starts) > 2:
        k = rng.randrange(len(starts) - 1)
        size = max(1, min(starts[k + 1] - starts[k], int(gap * n * 0.6) + 1))
        del copy[starts[k] : starts[k] + size]
    elif kind == "insert":
        size = max(3, int(gap * n * 0.6))
        source = rng.choice(BOILERPLATE) if size < 14 else rng.choice(foreign)
        words = tokenize(source)[1]
        at = rng.randrange(max(0, len(words) - size) + 1)
        piece = [[w, s, -1] for w, s, _ in words[at : at + size]]
        piece[-1][1] = "\n"
        where = rng.choice([0, n, rng.choice(starts)])
        copy[where:where] = piece
    elif kind == "swap" and len(starts) > 3:
        k = rng.randrange(len(starts) - 2)
        a, b, c = starts[k], starts[k + 1], starts[k + 2]
        copy[a:c] = copy[b:c] + copy[a:b]
    else:
        kind = "words"
        places = [i for i, t in enumerate(copy) if t[2] >= 0]
        for i in rng.sample(places, min(len(places), max(1, int(gap * n / 10)))):
            choices = [w for w in FILLER if w != copy[i][0].lower()]
            copy[i] = [rng.choice(choices), copy[i][1], -1]
    return kind


def surface(copy: list[Token], rng: random.Random) -> str:
    """Change case, spacing or punctuation (no word changes); return what was done."""
    kind = rng.choice(["upper", "spaces", "punctuation"])
    for t in copy:
        if kind == "upper":
            t[0] = t[0].upper()
        elif kind == "spaces":
            t[1] = t[1].replace(" ", "  ")
        else:
            t[1] = t[1].replace(",", ";").replace(". ", "! ")
    return kind


def plant(text: str, target: float, rng: random.Random, foreign: list[str]) -> tuple[str, dict]:
    """An edited copy aiming at planted Jaccard `target`; the text and its edit record."""
    prefix, tokens = tokenize(text)
    grams = windows(tokens)
    original = set(grams)
    copy = [list(t) for t in tokens]
    kinds, jc = [], 1.0
    for _ in range(80):
        if jc <= target:
            break
        kinds.append(edit_once(copy, jc - target, rng, foreign))
        jc = planted_jaccard(original, grams, copy)
    if rng.random() < 0.3 or not kinds:
        kinds.append(surface(copy, rng))
    out = prefix + "".join(w + s for w, s, _ in copy)
    return out, {"jaccard": jc, "target": target, "edits": kinds}


def labelled_set(size: int | None, rng: random.Random) -> tuple[list[str], list[dict]]:
    """Originals and planted copies, shuffled; the planted pairs with their records."""
    docs = distinct(real_documents())
    rng.shuffle(docs)
    if size:
        docs = docs[: size + size // 9]
    foreign, originals = docs[: len(docs) // 10], docs[len(docs) // 10 :]
    texts = list(originals)
    pairs = []
    for i in rng.sample(range(len(originals)), len(originals) * 2 // 5):
        band = rng.random()
        if band < 0.1:
            target = 1.0
        elif band < 0.45:
            target = rng.uniform(0.85, 1.0)
        elif band < 0.7:
            target = rng.uniform(0.75, 0.85)
        else:
            target = rng.uniform(0.45, 0.75)
        copy, record = plant(originals[i], target, rng, foreign)
        pairs.append({"original": i, "copy": len(texts), **record})
        texts.append(copy)
    order = list(range(len(texts)))
    rng.shuffle(order)
    where = {old: new for new, old in enumerate(order)}
    for p in pairs:
        a, b = where[p["original"]], where[p["copy"]]
        p["pair"] = (min(a, b), max(a, b))
    return [texts[k] for k in order], pairs


def pairs_of(labels) -> set[tuple[int, int]]:
    """All pairs inside each cluster, given one cluster label per document."""
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(labels):
        groups.setdefault(int(c), []).append(i)
    return {(a, b) for m in groups.values() for k, a in enumerate(m) for b in m[k + 1 :]}


def winnow_labels(verdict: pl.DataFrame) -> list[int]:
    """Cluster label per document from the step's verdict (a kept row is its own)."""
    frame = verdict.with_row_index("i").with_columns(
        pl.coalesce(pl.col("cluster_id"), pl.col("i").cast(pl.Int64)).alias("c")
    )
    return frame["c"].to_list()


def run_step(step: MinhashDedup, texts: list[str], workdir: Path) -> pl.DataFrame:
    """Score and decide one shard as the runner does; return the verdict."""
    frame = pl.DataFrame({"id": [str(i) for i in range(len(texts))], "text": texts})
    keys = step.score(frame).select("id", *step.key_columns).with_row_index("__row")
    keys = keys.with_columns(pl.lit(0, dtype=pl.Int64).alias("__shard"))
    return step.decide(keys, GlobalContext(workdir, Workspace(workdir)))


def side(tool: str, texts: list[str], check: bool, workdir: Path) -> tuple[list[int], dict]:
    """Cluster labels by one tool, matched settings (check on: 14 x 9; off: 9 x 13)."""
    bands, rows = (14, 9) if check else (9, 13)
    if tool == "winnow":
        step = MinhashDedup(verify=check)
        assert (step.bands, step.rows) == (bands, rows), (step.bands, step.rows)
        return winnow_labels(run_step(step, texts, workdir)), {}
    return dedup(texts, tool, threshold=THRESHOLD, bands=bands, rows=rows, check=check)


def prf(truth: set, predicted: set) -> str:
    """Pairwise precision, recall and F1 as a table row fragment."""
    hits = len(truth & predicted)
    p = hits / len(predicted) if predicted else 1.0
    r = hits / len(truth) if truth else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return f"{len(truth)} | {len(predicted)} | {p:.3f} | {r:.3f} | **{f1:.3f}**"


def accuracy(texts: list[str], pairs: list[dict], workdir: Path) -> None:
    """Print P/R/F1 against the planted truth, recall by planted Jaccard, and the check."""
    realized = shingle_sets(texts)
    crossed, gaps = 0, []
    for p in pairs:
        a, b = (realized[k] for k in p["pair"])
        real = len(a & b) / len(a | b)
        gaps.append(abs(real - p["jaccard"]))
        crossed += (real >= THRESHOLD) != (p["jaccard"] >= THRESHOLD)
    print(
        f"check: realized vs planted Jaccard, median |difference| {np.median(gaps):.3f}, "
        f"{crossed} of {len(pairs)} planted pairs on the other side of {THRESHOLD}"
    )
    truth = {p["pair"] for p in pairs if p["jaccard"] >= THRESHOLD}
    near = {p["pair"] for p in pairs if abs(p["jaccard"] - THRESHOLD) < 0.05}
    edges = [0.45, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.01]
    rows_all, rows_clear, curve = [], [], []
    for check in (True, False):
        for tool in TOOLS:
            predicted = pairs_of(side(tool, texts, check, workdir)[0])
            setting = f"{tool}, {'exact check, 14 x 9' if check else 'no check, 9 x 13'}"
            rows_all.append(f"| {setting} | {prf(truth, predicted)} |")
            rows_clear.append(f"| {setting} | {prf(truth - near, predicted - near)} |")
            found = []
            for lo, hi in zip(edges[:-1], edges[1:], strict=True):
                inside = [p["pair"] for p in pairs if lo <= p["jaccard"] < hi]
                hit = sum(x in predicted for x in inside)
                found.append(f"{hit}/{len(inside)}")
            curve.append(f"| {setting} | " + " | ".join(found) + " |")
    head = "| setting | true pairs | predicted | precision | recall | F1 |\n"
    head += "|---|---:|---:|---:|---:|---:|"
    print(f"\nAll pairs (true: planted J >= {THRESHOLD}):\n{head}\n" + "\n".join(rows_all))
    print(f"\nPlanted 0.05 or more from {THRESHOLD} (pairs within 0.05 set aside):\n{head}")
    print("\n".join(rows_clear))
    names = [f"{lo:.2f}-{min(hi, 1.0):.2f}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    names[-1] = "1.0 (case, spacing)"
    print("\nPlanted pairs found, by planted Jaccard:\n| setting | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names) + "\n" + "\n".join(curve))


def korean(workdir: Path) -> None:
    """Winnow on KLUE-STS paraphrase pairs (an external label, not a planted edit)."""
    sts = json.loads((SHARED / "korean" / "klue-sts-v1.1_dev.json").read_text(encoding="utf-8"))
    sentences = [s for item in sts for s in (item["sentence1"], item["sentence2"])]
    print("\n| set | setting | true pairs | predicted | precision | recall | F1 |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for label, name in (("binary-label", "paraphrase"), ("label", "score >= 4.5")):
        positive = [
            i
            for i, item in enumerate(sts)
            if item["labels"][label] >= (1 if label != "label" else 4.5)
        ]
        truth = {(2 * i, 2 * i + 1) for i in positive}
        for kind, char_n in (("words", 5), ("syllables", 5), ("syllables", 3)):
            step = MinhashDedup(korean=kind, char_n=char_n, threshold=0.5)
            found = pairs_of(winnow_labels(run_step(step, sentences, workdir)))
            found = {p for p in found if p[1] == p[0] + 1 and p[0] % 2 == 0}
            setting = f"0.5, {kind}" + (f" {char_n}-grams" if kind == "syllables" else "")
            print(f"| KLUE-STS {name} | {setting} | {prf(truth, found)} |")


def timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    """Wall and CPU seconds (this process, all threads) of one call, and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def times(ratio: float) -> str:
    """A ratio as 12.3x, or 0.45x below one."""
    return f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.2f}x"


def table(title: str, n: int, best: dict[str, tuple[float, float]], kept: dict) -> None:
    """Markdown: each tool's fastest wall and CPU seconds, and theirs over Winnow's."""
    print(f"\n{title}\n| tool | kept | wall s | CPU s | docs/CPU-s | their time / winnow's |")
    print("|---|---:|---:|---:|---:|---:|")
    ours = best["winnow"]
    for tool, (wall, cpu) in best.items():
        ratio = "1" if tool == "winnow" else f"**{times(wall / ours[0])}** wall, "
        ratio += "" if tool == "winnow" else f"{times(cpu / ours[1])} CPU"
        print(f"| {tool} | {kept[tool]} | {wall:.2f} | {cpu:.2f} | {n / cpu:,.0f} | {ratio} |")


def speed(texts: list[str], rounds: int, workdir: Path) -> None:
    """Step alone in this process, then whole runs in child processes; sides alternate."""
    n, megabytes = len(texts), sum(len(t.encode()) for t in texts) / 1e6
    print(f"\nSpeed corpus: {n:,} documents, {megabytes:.1f} MB")
    for check in (True, False):
        for tool in TOOLS:  # warm-up: numba's cache, regexes, imports
            side(tool, texts[:300], check, workdir)
        best: dict[str, tuple[float, float]] = {}
        kept: dict[str, int] = {}
        phases: dict[str, dict] = {}
        for r in range(rounds):
            for tool in TOOLS[r % 3 :] + TOOLS[: r % 3]:
                wall, cpu, (labels, laps) = timed(partial(side, tool, texts, check, workdir))
                kept[tool] = sum(int(c) == i for i, c in enumerate(labels))
                previous = best.get(tool, (wall, cpu))
                if laps and wall <= previous[0]:
                    phases[tool] = laps
                best[tool] = (min(wall, previous[0]), min(cpu, previous[1]))
        setting = "exact check, 14 x 9" if check else "no check, 9 x 13"
        table(f"Step alone ({setting}), fastest of {rounds} rounds:", n, best, kept)
        for tool, laps in phases.items():
            print(
                f"  {tool} phases (its fastest round, wall s): "
                + json.dumps({k: round(v, 2) for k, v in laps.items()})
            )
    recipe = workdir / "fuzzy.yaml"
    recipe.write_text("steps:\n  - step: minhash_dedup\n", encoding="utf-8")
    sizes = (SMALL, n)
    best = {
        size: whole_runs(texts[:size], recipe, rounds, workdir / f"whole-{size}") for size in sizes
    }
    print(f"\nWhole runs on {n:,} and on {SMALL} documents, fastest CPU of {rounds}:")
    cpu = {tool: {size: best[size][tool][1] for size in sizes} for tool in TOOLS}
    print("\n".join(rate_table(n, cpu, ("datasketch", "rensa"))))


def whole_run(tool: str, corpus: Path, recipe: Path, out: Path) -> tuple[Timing, int]:
    """One tool's whole run on a JSONL file, into a fresh path: its timing and rows kept."""
    if tool == "winnow":
        timing = child(winnow_command(recipe, corpus, "fuzzy", out))
        manifest = out / "datasets" / "fuzzy" / "v1" / "manifest.json"
        return timing, json.loads(manifest.read_text())["counts"]["kept"]
    peers = [sys.executable, str(HERE / "minhash_peers.py"), tool, str(corpus), str(out)]
    return child(peers), sum(1 for _ in out.open(encoding="utf-8"))


def whole_runs(texts: list[str], recipe: Path, rounds: int, workdir: Path) -> dict[str, Timing]:
    """Each tool as a user runs it on a JSONL file, a child process per run; sides alternate.
    Prints the table and returns each tool's fastest wall and CPU."""
    workdir.mkdir()
    corpus = workdir / "corpus.jsonl"
    with corpus.open("w", encoding="utf-8") as out:
        for i, text in enumerate(texts):
            out.write(json.dumps({"id": f"d{i}", "text": text}, ensure_ascii=False) + "\n")
    kept: dict[str, int] = {}

    def run(tool: str, r: int) -> Timing:
        """Round r of one tool, noting what it kept."""
        timing, kept[tool] = whole_run(tool, corpus, recipe, workdir / f"{tool}{r}")
        return timing

    best = fastest(rounds, {tool: partial(run, tool) for tool in TOOLS})
    title = f"Whole run on {len(texts):,} documents (a child process each, start-up included)"
    table(f"{title}, fastest of {rounds}:", len(texts), best, kept)
    return best


def main() -> None:
    """Build the sets, measure accuracy and speed, print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=None, help="originals to use (all if unset)")
    parser.add_argument("--copies", type=int, default=3, help="speed corpus: labelled set x N")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    texts, pairs = labelled_set(args.size, rng)
    workdir = Path(tempfile.mkdtemp(prefix="winnow-minhash-"))
    above = sum(p["jaccard"] >= THRESHOLD for p in pairs)
    print(
        f"English set: {len(texts) - len(pairs)} distinct real documents + {len(pairs)} planted "
        f"copies ({above} with planted Jaccard >= {THRESHOLD}, {len(pairs) - above} below)"
    )
    accuracy(texts, pairs, workdir)
    korean(workdir)
    if not args.skip_speed:
        speed_texts = list(texts)
        foreign = texts[:50]
        for _ in range(args.copies - 1):
            speed_texts += [plant(t, rng.uniform(0.45, 1.0), rng, foreign)[0] for t in texts]
        speed(speed_texts, args.rounds, workdir)


if __name__ == "__main__":
    main()
