"""Server-side time of the dashboard's Datasets page on a one-million-row dataset version.

The rows are real web text from ../shared/data/web (the CC-MAIN WET extract and the c4 demo),
repeated to one million rows (3.4 GB of text) in 10 Parquet shards, each copy ending with its
own line so that no two rows are equal (Parquet cannot dictionary-encode the column away),
with the score columns a curated version carries (language, a quality score, a length). Each
query is what the page asks `winnow.dashboard.browse.Browser` for: one page of 50 rows (shown
at once), then the count of matching rows (shown when it is done), timed apart.
Each is run `--rounds` times in a fresh Browser per round (so no DuckDB cache carries over);
the median is printed. Goal: under one second each. A text search goes through the version's
full-text index: the first search builds it (timed once, with that search's page and count),
later ones open it (the vocabulary is read once per process, as in the dashboard's server).
`--workspace DIR` keeps the generated version and its index there and reuses them.

    PYTHONPATH=. .venv/bin/python benchmarks/dashboard_browse.py [--rows 1000000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import polars as pl

from winnow.dashboard.browse import Browser, Query
from winnow.workspace import DatasetVersion

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "web"
SHARDS = 10


def real_texts() -> list[str]:
    """The real documents the rows repeat."""
    texts = []
    with gzip.open(SHARED / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", "rt") as f:
        texts += [json.loads(line)["text"] for line in f]
    with (SHARED / "c4_demo.jsonl").open() as f:
        texts += [json.loads(line)["text"] for line in f]
    return [t for t in texts if t.strip()]


def write_version(folder: Path, rows: int) -> DatasetVersion:
    """A dataset version folder with `rows` kept rows in SHARDS shards."""
    texts = pl.Series("text", real_texts())
    per = rows // SHARDS
    for shard in range(SHARDS):
        index = pl.int_range(shard * per, (shard + 1) * per, eager=True)
        frame = pl.DataFrame({"n": index}).with_columns(
            pl.format("doc-{}", "n").alias("id"),
            pl.concat_str([texts.gather(index % len(texts)), pl.format("\n(copy {})", "n")]).alias(
                "text"
            ),
            pl.when(pl.col("n").mod(7) == 0)
            .then(pl.lit("ko"))
            .otherwise(pl.lit("en"))
            .alias("language"),
            (pl.col("n").mul(7919).mod(1000) / 1000).alias("quality_score"),
        )
        frame = frame.with_columns(pl.col("text").str.len_chars().alias("n_chars")).drop("n")
        target = folder / "kept" / f"part-{shard:05d}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(target)
    return DatasetVersion("million", "v1", folder)  # folder: WORKSPACE/datasets/million/v1


def first_search(version: DatasetVersion, query: Query) -> tuple[float, float, int]:
    """Seconds of the first search's page (which builds the index) and its count."""
    browser = Browser(version)
    shutil.rmtree(browser.index_folder(query.split), ignore_errors=True)
    start = time.perf_counter()
    browser.rows(query)
    middle = time.perf_counter()
    total = browser.count(query)
    return middle - start, time.perf_counter() - middle, total


def timed(version: DatasetVersion, query: Query, rounds: int) -> tuple[float, float, int]:
    """Median seconds of the page of rows and of the count, and the count."""
    rows, counts, total = [], [], 0
    for _ in range(rounds):
        browser = Browser(version)
        start = time.perf_counter()
        browser.rows(query)
        middle = time.perf_counter()
        total = browser.count(query)
        rows.append(middle - start)
        counts.append(time.perf_counter() - middle)
    return statistics.median(rows), statistics.median(counts), total


def main() -> None:
    """Build the version, time each query, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workspace", type=Path, help="keep (or reuse) the data here")
    args = parser.parse_args()
    queries = {
        "first page": Query(),
        "page 10,000 (rows 500,000-500,049)": Query(page=10_000),
        "search 'river' (case-insensitive)": Query(search="river"),
        "search 'river', page 500 (matches 25,000-25,049)": Query(search="river", page=500),
        "search 'the river' (two words: candidates checked against the text)": Query(
            search="the river"
        ),
        "search '국민' (Korean, inside eojeols)": Query(search="국민"),
        "search 'e' (one letter: most of the vocabulary)": Query(search="e"),
        "search 'e', page 10,000 (matches 500,000-500,049)": Query(search="e", page=10_000),
        "search '12' (49,000 words, mostly numbers)": Query(search="12"),
        "search '.' (no word: every row checked)": Query(search="."),
        "search 'a b' (common pieces across words)": Query(search="a b"),
        "regex '\\b[0-9]{4}-[0-9]{2}-[0-9]{2}\\b' (page: scan; count: the index's text)": Query(
            search=r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b", regex=True
        ),
        "regex '\\b[0-9]{4}-[0-9]{2}-[0-9]{2}\\b', page 20 (the index's text)": Query(
            search=r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b", regex=True, page=20
        ),
        "filter language=ko, quality_score >= 0.9": Query(
            values={"language": ["ko"]}, ranges={"quality_score": (0.9, None)}
        ),
        "search 'river' + filters, page 20": Query(
            search="river", values={"language": ["en"]}, ranges={"n_chars": (500, None)}, page=20
        ),
    }
    place = nullcontext(str(args.workspace)) if args.workspace else tempfile.TemporaryDirectory()
    with place as tmp:
        folder = Path(tmp) / "datasets" / "million" / "v1"
        started = time.perf_counter()
        if (folder / "kept").is_dir():
            version = DatasetVersion("million", "v1", folder)
            print(f"reused {folder}")
        else:
            version = write_version(folder, args.rows)
            print(f"wrote {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
        rows, count, total = first_search(version, Query(search="river"))
        print(f"first search 'river' (builds the index): page {rows:.1f} s, count {count:.3f} s")
        index = Browser(version).index_folder("kept")
        size = sum(p.stat().st_size for p in index.iterdir()) / 1e9
        data = sum(p.stat().st_size for p in (folder / "kept").iterdir()) / 1e9
        print(f"index {size:.2f} GB ({index}), version's kept split {data:.2f} GB")
        print("| query | page of 50 rows, s | count of matches, s | matching rows |")
        print("|---|---:|---:|---:|")
        for name, query in queries.items():
            rows, count, total = timed(version, query, args.rounds)
            print(f"| {name} | {rows:.3f} | {count:.3f} | {total:,} |", flush=True)


if __name__ == "__main__":
    main()
