"""Server-side time of the dashboard's Datasets page on a one-million-row dataset version.

The rows are real web text from ../shared/data/web (the CC-MAIN WET extract and the c4 demo),
repeated with distinct ids to one million rows in 10 Parquet shards, with the score columns a
curated version carries (language, a quality score, a length). Each query is what the page
asks `winnow.dashboard.browse.Browser` for: one page of 50 rows and the count of matching rows.
Each is run `--rounds` times in a fresh Browser per round (so no DuckDB cache carries over);
the median is printed. Goal: under one second each.

    PYTHONPATH=. .venv/bin/python benchmarks/dashboard_browse.py [--rows 1000000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import tempfile
import time
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
            texts.gather(index % len(texts)),
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
    return DatasetVersion("million", "v1", folder)


def timed(version: DatasetVersion, query: Query, rounds: int) -> tuple[float, int]:
    """Median seconds of one page + count, and the count."""
    seconds, total = [], 0
    for _ in range(rounds):
        browser = Browser(version)
        start = time.perf_counter()
        total = browser.page(query).total
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), total


def main() -> None:
    """Build the version, time each query, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    queries = {
        "first page": Query(),
        "page 10,000 (rows 500,000-500,049)": Query(page=10_000),
        "search 'river' (case-insensitive)": Query(search="river"),
        "regex search '\\b[0-9]{4}-[0-9]{2}-[0-9]{2}\\b'": Query(
            search=r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b", regex=True
        ),
        "filter language=ko, quality_score >= 0.9": Query(
            values={"language": ["ko"]}, ranges={"quality_score": (0.9, None)}
        ),
        "search 'river' + filters, page 20": Query(
            search="river", values={"language": ["en"]}, ranges={"n_chars": (500, None)}, page=20
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        version = write_version(Path(tmp) / "million" / "v1", args.rows)
        print(f"wrote {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
        print("| query (50 rows + count of matches) | median s | matching rows |")
        print("|---|---:|---:|")
        for name, query in queries.items():
            seconds, total = timed(version, query, args.rounds)
            print(f"| {name} | {seconds:.3f} | {total:,} |")


if __name__ == "__main__":
    main()
