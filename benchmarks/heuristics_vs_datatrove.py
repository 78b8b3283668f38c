"""Winnow's heuristic filters beside datatrove 0.10.1's on the same documents: speed, agreement.

Run from the project root as `.venv/bin/python benchmarks/heuristics_vs_datatrove.py
[--repeat N] [--korean N] [--rounds N] [--whole-repeat N] [--skip-whole] [extra.jsonl ...]`.
datatrove runs in its own virtualenv (benchmarks/.venv-datatrove, made from
benchmarks/requirements-datatrove.txt if missing) in child processes.

The filtering step alone, in-process: a subprocess re-runs this file in worker mode for
datatrove; both sides time only the filtering, in CPU seconds of the whole process
(time.process_time counts every thread). Each family is timed alone from a cold start, then
all four in turn on every document, as a pipeline runs them; each timing is the fastest of
`--rounds` (default 3) on both sides, which takes out most of the noise of a shared machine.
Polars runs on one thread in this part (POLARS_MAX_THREADS=1) so that no CPU time goes to
idle workers; datatrove is single-threaded.

Whole runs (`--skip-whole` leaves them out), as a user runs them, one child process each,
timed by benchmarks/whole_runs.py (CPU: user + system time of the child and its children;
wall too), on a JSONL file of the English web corpus `--whole-repeat` times (default 5; ids
`c<copy>-<n>`, each document's text after a first line "This is copy <copy> of the document
below.", so that no two are the same) and on a file of its first 20 documents; the six runs
go in turn, the order rotating each round, and each keeps its fastest CPU and wall of
`--rounds`. Marginal docs/CPU-s is (N - 20) / (cpu(N) - cpu(20)); whole docs/CPU-s N / cpu(N).
- Winnow: `.venv/bin/winnow curate run RECIPE --source FILE --output heur --workspace DIR`,
  DIR new, the recipe the steps gopher_repetition, gopher_quality, c4 and fineweb in turn with
  default parameters, one worker (the default), once with Polars on every core as a user runs
  it and once with POLARS_MAX_THREADS=1 (idle Polars threads spend CPU time). It includes
  the interpreter's start-up and imports, loading the recipe, reading the JSONL, the four
  steps, writing the dataset version (kept and removed rows as Parquet, the manifest) and
  printing the report.
- datatrove: benchmarks/whole_runs.py run by the virtualenv's Python: its start-up and
  imports, then `LocalPipelineExecutor(tasks=1, workers=1)` over `JsonlReader` (orjson),
  GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter and FineWebQualityFilter with
  default parameters (English, spaCy's word split; a document one drops is not seen by the
  next), and `JsonlWriter` (gzip, its default) of the kept documents, with its logs, stats
  and completion marker.
Agreement compares the ids each whole run kept on the N documents: Winnow's from the
dataset's kept Parquet, datatrove's from its JSONL output.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import tempfile
import time
from functools import partial
from pathlib import Path

from whole_runs import (
    SMALL,
    Timing,
    child,
    datatrove_command,
    datatrove_env,
    datatrove_filter,
    datatrove_kept_ids,
    ensure_datatrove_venv,
    fastest,
    rate_table,
    winnow_command,
)

os.environ.setdefault("POLARS_MAX_THREADS", "1")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared" / "data"
FAMILIES = ("gopher_repetition", "gopher_quality", "c4", "fineweb")
DATATROVE_FILTERS = {
    "gopher_repetition": "GopherRepetitionFilter",
    "gopher_quality": "GopherQualityFilter",
    "c4": "C4QualityFilter",
    "fineweb": "FineWebQualityFilter",
}
RECIPE = "steps:\n" + "".join(f"  - step: {family}\n" for family in FAMILIES)
ONE_THREAD = "winnow, Polars on 1 thread"
SIDES = ("winnow", ONE_THREAD, "datatrove")
"""Whole-run sides: Winnow as a user runs it (Polars on every core), Winnow with Polars on one
thread (no CPU time for idle workers), datatrove."""


def read_corpus(path: Path) -> list[str]:
    """Texts of a JSONL(.gz) file with a `text` field, or of a .txt file with one per line."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        if ".jsonl" in path.name:
            return [json.loads(line)["text"] for line in handle if line.strip()]
        return [line.rstrip("\n") for line in handle if line.strip()]


WARM_UP = 16
"""Documents each side runs through every filter before timing, as a long job would have."""


def datatrove_worker(docs_path: str, out_path: str, language: str, rounds: int) -> None:
    """Inside datatrove's virtualenv: run each family over every document, time it, record it."""
    from datatrove.data import Document
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    texts = json.loads(Path(docs_path).read_text(encoding="utf-8"))
    tokenizer = load_word_tokenizer(language)
    tokenizer.word_tokenize("Warm up the tokenizer. It loads lazily.")
    tokenizer.span_tokenize("Warm up the tokenizer. It loads lazily.")
    filters = {
        family: datatrove_filter(name, {"language": language})
        for family, name in DATATROVE_FILTERS.items()
    }
    for step in filters.values():  # first calls compile regexes and load data: not timed
        for i, text in enumerate(texts[:WARM_UP]):
            step.filter(Document(text=text, id=f"warm-{i}"))
    result = {}
    for family, step in filters.items():
        times = []
        for _ in range(rounds):  # fresh documents each round: C4 rewrites their text
            documents = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
            start = time.process_time()
            decisions = [step.filter(doc) for doc in documents]
            times.append(time.process_time() - start)
        reasons = [
            None if d is True else (d[1] if isinstance(d, tuple) else "drop") for d in decisions
        ]
        result[family] = {"seconds": min(times), "reasons": reasons}
    # All four on every document in turn, as a pipeline runs them: the tokenizer's cache
    # then serves the later filters, and C4's rewritten text reaches FineWeb.
    times = []
    for _ in range(rounds):
        documents = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
        start = time.process_time()
        for doc in documents:
            for step in filters.values():
                step.filter(doc)
        times.append(time.process_time() - start)
    result["pipeline_seconds"] = min(times)
    Path(out_path).write_text(json.dumps(result), encoding="utf-8")


def run_datatrove(texts: list[str], language: str, rounds: int) -> dict:
    """Run the worker in datatrove's virtualenv on these texts and read back its results."""
    python = ensure_datatrove_venv()
    with tempfile.TemporaryDirectory() as tmp:
        docs_path, out_path = Path(tmp, "docs.json"), Path(tmp, "out.json")
        docs_path.write_text(json.dumps(texts), encoding="utf-8")
        command = [str(python), __file__, "--datatrove-worker", str(docs_path), str(out_path)]
        options = ["--language", language, "--rounds", str(rounds)]
        subprocess.run([*command, *options], check=True, env=datatrove_env())
        return json.loads(out_path.read_text(encoding="utf-8"))


def run_winnow(texts: list[str], rounds: int) -> dict:
    """Score and judge the texts with Winnow's four steps, one shard, timing each family."""
    import polars as pl

    from winnow.curate.steps import STEPS
    from winnow.curate.text.stats import TOKEN_CACHE

    frame = pl.DataFrame({"text": texts}, schema={"text": pl.Utf8})
    for family in FAMILIES:  # first calls compile regexes and load data: not timed
        step = STEPS[family]()
        step.score(frame.head(WARM_UP)).select(step.reason())
    result: dict = {}
    for family in FAMILIES:
        step = STEPS[family]()
        times = []
        for _ in range(rounds):
            TOKEN_CACHE.clear()
            start = time.process_time()
            reasons = step.score(frame).select(step.reason()).to_series().to_list()
            times.append(time.process_time() - start)
        result[family] = {"seconds": min(times), "reasons": reasons}
    # All four in turn on the shard, as a recipe runs them: later steps reuse the word split.
    times = []
    for _ in range(rounds):
        TOKEN_CACHE.clear()
        scored = frame
        start = time.process_time()
        for family in FAMILIES:
            scored = STEPS[family]().score(scored)
        times.append(time.process_time() - start)
    result["pipeline_seconds"] = min(times)
    return result


def report(title: str, texts: list[str], theirs: dict, ours: dict) -> list[str]:
    """A Markdown table per family and for the four together: speed, ratio, agreement."""
    n = len(texts)
    lines = [
        f"### {title}",
        "",
        "| family | docs | datatrove docs/CPU-s | winnow docs/CPU-s | ratio | agreement | "
        "dropped (datatrove / winnow) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    total_theirs = total_ours = 0.0
    all_agree = 0
    for family in FAMILIES:
        a, b = theirs[family], ours[family]
        total_theirs += a["seconds"]
        total_ours += b["seconds"]
        keep_a = [r is None for r in a["reasons"]]
        keep_b = [r is None for r in b["reasons"]]
        agree = sum(x == y for x, y in zip(keep_a, keep_b, strict=True))
        lines.append(
            f"| {family} | {n} | {n / a['seconds']:,.0f} | {n / b['seconds']:,.0f} | "
            f"{a['seconds'] / b['seconds']:,.1f}x | {100 * agree / n:.1f}% | "
            f"{keep_a.count(False)} / {keep_b.count(False)} |"
        )
    both = [
        all(theirs[f]["reasons"][i] is None for f in FAMILIES)
        == all(ours[f]["reasons"][i] is None for f in FAMILIES)
        for i in range(n)
    ]
    all_agree = sum(both)
    lines.append(
        f"| all four, each alone | {n} | {n / total_theirs:,.0f} | {n / total_ours:,.0f} | "
        f"{total_theirs / total_ours:,.1f}x | {100 * all_agree / n:.1f}% | |"
    )
    a, b = theirs["pipeline_seconds"], ours["pipeline_seconds"]
    lines.append(f"| all four in turn | {n} | {n / a:,.0f} | {n / b:,.0f} | {a / b:,.1f}x | | |")
    return [*lines, ""]


def disagreements(texts: list[str], theirs: dict, ours: dict, limit: int) -> list[str]:
    """A few documents per family where the two sides decide differently, with both reasons."""
    out = []
    for family in FAMILIES:
        pairs = zip(theirs[family]["reasons"], ours[family]["reasons"], strict=True)
        diff = [(i, a, b) for i, (a, b) in enumerate(pairs) if (a is None) != (b is None)]
        for i, a, b in diff[:limit]:
            out.append(f"{family} doc {i}: datatrove={a} winnow={b} | {texts[i][:80]!r}")
    return out


def whole_corpus(texts: list[str], copies: int, folder: Path) -> tuple[Path, Path]:
    """The corpus `copies` times as JSONL, each copy with its own ids and a numbered first line
    (so that no two documents are the same text), and its first SMALL documents alone."""
    lines = [
        json.dumps(
            {"id": f"c{k + 1}-{i}", "text": f"This is copy {k + 1} of the document below.\n{t}"},
            ensure_ascii=False,
        )
        + "\n"
        for k in range(copies)
        for i, t in enumerate(texts)
    ]
    big, small = folder / "corpus.jsonl", folder / f"first-{SMALL}.jsonl"
    big.write_text("".join(lines), encoding="utf-8")
    small.write_text("".join(lines[:SMALL]), encoding="utf-8")
    return big, small


def run_whole(side: str, source: Path, folder: Path, round_: int) -> Timing:
    """One side's whole run on a JSONL file, into a fresh folder per round: wall and CPU s."""
    run = folder / f"{SIDES.index(side)}-{source.stem}-{round_}"
    if side != "datatrove":
        env = {k: v for k, v in os.environ.items() if k != "POLARS_MAX_THREADS"}
        env |= {"POLARS_MAX_THREADS": "1"} if side == ONE_THREAD else {}
        return child(winnow_command(folder / "heuristics.yaml", source, "heur", run), env)
    filters = [(DATATROVE_FILTERS[family], {}) for family in FAMILIES]
    return child(datatrove_command(source, run, filters), datatrove_env())


def winnow_kept_ids(workspace: Path) -> set[str]:
    """Ids of the documents a Winnow whole run kept, from its dataset's Parquet."""
    import polars as pl

    kept = workspace / "datasets" / "heur" / "v1" / "kept" / "*.parquet"
    return set(pl.read_parquet(kept, columns=["id"])["id"].to_list())


def whole_runs(texts: list[str], copies: int, rounds: int) -> list[str]:
    """Both sides' whole runs on the corpus `copies` times and on its first SMALL documents,
    sides alternating; rates, wall times, kept counts and agreement as Markdown."""
    n = len(texts) * copies
    with tempfile.TemporaryDirectory(prefix="winnow-heuristics-") as tmp:
        folder = Path(tmp)
        (folder / "heuristics.yaml").write_text(RECIPE, encoding="utf-8")
        sources = dict(zip((n, SMALL), whole_corpus(texts, copies, folder), strict=True))
        best = fastest(
            rounds,
            {
                f"{side} {size}": partial(run_whole, side, source, folder)
                for side in SIDES
                for size, source in sources.items()
            },
        )
        kept = {
            "winnow": winnow_kept_ids(folder / "0-corpus-0"),
            "datatrove": datatrove_kept_ids(folder / "2-corpus-0"),
        }
    cpu = {side: {size: best[f"{side} {size}"][1] for size in (n, SMALL)} for side in SIDES}
    lines = [
        f"### Whole runs, {n:,} docs (the corpus {copies}x) and its first {SMALL}, "
        f"fastest of {rounds}",
        "",
        *rate_table(n, cpu, ("datatrove",)),
        f"| side | kept of {n:,} | wall s ({n:,} docs) | wall s ({SMALL} docs) |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {side} | {len(kept[side]):,} | {best[f'{side} {n}'][0]:.2f} | "
        f"{best[f'{side} {SMALL}'][0]:.2f} |"
        for side in kept
    ]
    both = len(kept["winnow"] & kept["datatrove"])
    agree = n - len(kept["winnow"] ^ kept["datatrove"])
    lines += [
        "",
        f"Both whole runs agree on {agree:,} of {n:,} documents ({100 * agree / n:.1f}%): "
        f"{both:,} kept by both, {agree - both:,} dropped by both.",
        "",
    ]
    return lines


def main() -> None:
    """Parse arguments, run both sides, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="*", type=Path, help="extra JSONL(.gz) corpora")
    parser.add_argument("--repeat", type=int, default=1, help="concatenate the corpus N times")
    parser.add_argument("--korean", type=int, default=2000, help="Korean comments to add (0: none)")
    parser.add_argument("--show", type=int, default=0, help="print N disagreements per family")
    parser.add_argument("--datatrove-worker", nargs=2, metavar=("DOCS", "OUT"))
    parser.add_argument("--language", default="en")
    parser.add_argument(
        "--rounds", type=int, default=3, help="time each side N times and keep the fastest"
    )
    parser.add_argument("--skip-whole", action="store_true", help="leave out the whole runs")
    parser.add_argument(
        "--whole-repeat", type=int, default=5, help="whole runs: the English corpus N times"
    )
    args = parser.parse_args()
    if args.datatrove_worker:
        datatrove_worker(*args.datatrove_worker, args.language, args.rounds)
        return
    web = SHARED / "web"
    files = sorted(web.glob("*.jsonl")) + sorted(web.glob("*.jsonl.gz")) + [web / "wiki_demo.txt"]
    files += args.corpora
    texts = [t for path in files for t in read_corpus(path)]
    threads = os.environ["POLARS_MAX_THREADS"]
    print(f"corpus: {len(texts)} documents from {len(files)} files, repeated {args.repeat}x")
    print(f"polars threads: {threads}; CPU time is time.process_time() of each process")
    print(f"each timing is the fastest of {args.rounds} rounds, on both sides")
    sections = [("English web", texts * args.repeat, "en")]
    if args.korean:
        comments = read_corpus(SHARED / "korean" / "news_comments.txt.gz")[: args.korean]
        sections.append(
            (f"Korean news comments (first {len(comments)})", comments * args.repeat, "ko")
        )
    for title, docs, language in sections:
        theirs = run_datatrove(docs, language, args.rounds)
        ours = run_winnow(docs, args.rounds)
        print("\n".join(report(f"{title}, {len(docs)} docs", docs, theirs, ours)))
        if args.show:
            print("\n".join(disagreements(docs, theirs, ours, args.show)))
    if not args.skip_whole:
        print("\n".join(whole_runs(texts, args.whole_repeat, args.rounds)))


if __name__ == "__main__":
    main()
