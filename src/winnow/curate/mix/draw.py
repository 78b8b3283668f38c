"""The draw: each input's share as whole epochs plus a seeded sample, then a seeded shuffle."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow.parquet as pq
import xxhash

from winnow.curate.mix.inputs import MixSource
from winnow.curate.mix.spec import Budget, MixOptions
from winnow.errors import WinnowError
from winnow.files import write_parquet

SHARD_ROWS = 50_000
"""Rows per Parquet shard of a mix's kept split."""

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
"""SplitMix64's increment, 2^64 divided by the golden ratio."""


@dataclass
class Draw:
    """How often each row of one input is drawn: whole epochs plus a seeded partial epoch."""

    target: float
    full_epochs: int
    copies: np.ndarray
    shortfall: float = 0.0

    @property
    def capped(self) -> bool:
        """Whether the input ran out at --max-epochs before reaching its share."""
        return self.shortfall > 0


def plan_draw(units: np.ndarray, target: float, max_epochs: int, order: np.ndarray) -> Draw:
    """Draw `target` units (1 per doc, or each doc's tokens): whole epochs, then a seeded sample.

    The sample is the longest prefix of `order` (a seeded permutation) within the rest, plus
    the one remaining row that best fills the gap when that brings the total closer; with
    unit costs it is exactly the rest. At most `max_epochs` copies of a row are drawn.
    """
    total = float(units.sum())
    if total <= 0:
        return Draw(target, 0, np.zeros(units.size, dtype=np.int64), target)
    full = min(int(target // total), max_epochs)
    copies = np.full(units.size, full, dtype=np.int64)
    rest = target - full * total
    if full == max_epochs:
        return Draw(target, full, copies, max(rest, 0.0))
    reach = np.concatenate(([0], np.cumsum(units[order])))
    take = int(np.searchsorted(reach, rest, side="right")) - 1
    copies[order[:take]] += 1
    gap = rest - reach[take]
    if gap > 0 and take < units.size:
        left = order[take:]
        misses = np.abs(gap - units[left])
        best = int(np.argmin(misses))
        if misses[best] < gap:
            copies[left[best]] += 1
    return Draw(target, full, copies)


def units_of(source: MixSource, unit: str) -> np.ndarray:
    """What each row of an input costs in the budget's unit: 1 per doc, or its tokens."""
    return source.tokens if unit == "tokens" else np.ones(source.rows, dtype=np.int64)


def targets_for(budget: Budget, shares: list[float]) -> list[float]:
    """Each input's part of the budget; documents are split by largest remainder to sum exactly."""
    exact = [share * budget.amount for share in shares]
    if budget.unit == "tokens":
        return exact
    whole = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (whole[i] - exact[i], i))
    for i in by_remainder[: budget.amount - sum(whole)]:
        whole[i] += 1
    return [float(w) for w in whole]


def scramble(values: np.ndarray, seed: int, name: str, stream: int) -> np.ndarray:
    """Well-mixed uint64 keys for integers, salted by seed, input name and purpose (SplitMix64):
    the same on every machine and NumPy version, and independent of the --input order."""
    salt = np.uint64(xxhash.xxh64_intdigest(f"{seed}\x1f{name}\x1f{stream}".encode()))
    z = values.astype(np.uint64) * GOLDEN + salt
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def seeded_order(size: int, seed: int, name: str) -> np.ndarray:
    """A seeded permutation of an input's row indices, for its sample."""
    return np.argsort(scramble(np.arange(size), seed, name, 0), kind="stable")


def shuffle_keys(rows: np.ndarray, epochs: np.ndarray, seed: int, name: str) -> np.ndarray:
    """The sort key of each drawn copy, from its row, its epoch, the seed and the input."""
    return scramble(scramble(rows, seed, name, 1) + epochs.astype(np.uint64), seed, name, 2)


def plan_mix(sources: list[MixSource], options: MixOptions, shares: list[float]) -> list[Draw]:
    """Each input's draw for its share of the budget, warning about inputs that ran short."""
    unit = options.budget.unit
    draws = []
    for source, target in zip(sources, targets_for(options.budget, shares), strict=True):
        order = seeded_order(source.rows, options.seed, source.name)
        draw = plan_draw(units_of(source, unit), target, options.max_epochs, order)
        draws.append(draw)
        if draw.capped:
            options.warnings.append(
                f"{source.name}: its share is {draw.target:,.0f} {unit} but it holds "
                f"{units_of(source, unit).sum():,} {unit}; capped at --max-epochs "
                f"{options.max_epochs}, {draw.shortfall:,.0f} {unit} short (raise --max-epochs "
                "or lower its weight)."
            )
    if not any(d.copies.any() for d in draws):
        raise WinnowError(
            f"--budget '{options.budget.text}' draws no document at all (every document is "
            "larger than an input's share); raise the budget."
        )
    return draws


def draw_rows(source: MixSource, index: int, draw: Draw, seed: int, folder: Path) -> None:
    """Write the drawn copies of one input's rows, with lineage columns and shuffle keys."""
    offset = 0
    for number, shard in enumerate(source.shards):
        frame = pl.read_parquet(shard)
        counts = draw.copies[offset : offset + frame.height]
        picks = np.repeat(np.arange(frame.height), counts)
        if picks.size:
            epochs = np.arange(picks.size) - np.repeat(np.cumsum(counts) - counts, counts)
            lineage = ["id", "text", "source_id", "mix_source", "mix_epoch"]
            drawn = frame[picks].with_columns(
                pl.col("id").alias("source_id"),
                pl.lit(source.name, dtype=pl.Utf8).alias("mix_source"),
                pl.Series("mix_epoch", epochs, dtype=pl.Int64),
            )
            drawn = drawn.select(*lineage, pl.exclude(lineage))
            repeat = pl.col("mix_epoch") > 0
            drawn = drawn.with_columns(
                pl.when(repeat).then(pl.format("{}#{}", "id", "mix_epoch")).otherwise("id"),
                pl.Series("__key", shuffle_keys(picks + offset, epochs, seed, source.name)),
                pl.lit(index, dtype=pl.Int64).alias("__src"),
                pl.Series("__row", picks + offset, dtype=pl.Int64),
            )
            write_parquet(drawn, folder / f"{index:04d}-{number:05d}.parquet")
        offset += frame.height


def shuffle_into(rows: Path, kept: Path, temp: Path) -> int:
    """Sort the drawn rows by their seeded keys (out of core), cut them into kept shards, and
    return how many rows share an id with an earlier row (inputs that share ids)."""
    ordered = temp / "ordered.parquet"
    con = duckdb.connect(":memory:")
    con.execute(f"SET temp_directory = '{temp}'")
    con.execute(
        f"COPY (SELECT * EXCLUDE (__key, __src, __row) FROM "
        f"read_parquet('{rows}/*.parquet', union_by_name = true) "
        f"ORDER BY __key, __src, __row, mix_epoch) TO '{ordered}' (FORMAT PARQUET, "
        "COMPRESSION ZSTD)"
    )
    query = f"SELECT count(*) - count(DISTINCT id) FROM read_parquet('{ordered}')"
    repeated = con.execute(query).fetchall()[0][0]
    con.close()
    total = pq.ParquetFile(ordered).metadata.num_rows
    scan = pl.scan_parquet(ordered)
    for number, start in enumerate(range(0, total, SHARD_ROWS)):
        write_parquet(scan.slice(start, SHARD_ROWS).collect(), kept / f"part-{number:05d}.parquet")
    return int(repeated)


def describe_draw(
    source: MixSource, draw: Draw, share: float, unit: str, totals: dict[str, int]
) -> dict[str, Any]:
    """The realised part of one input in the mix, for the manifest and the table."""
    docs = int(draw.copies.sum())
    tokens = int((draw.copies * source.tokens).sum())
    available = {"docs": source.rows, "tokens": int(source.tokens.sum())}
    realised = {"docs": docs, "tokens": tokens}
    epochs = realised[unit] / available[unit] if available[unit] else 0.0
    if draw.full_epochs == 0 and docs < source.rows:
        sampling = "down"
    elif epochs > 1:
        sampling = "up"
    else:
        sampling = "all"
    return {
        "input": source.item.text,
        "name": source.name,
        "weight": source.item.weight,
        "requested_share": share,
        "target": draw.target,
        "available_docs": available["docs"],
        "available_tokens": available["tokens"],
        "quarantined": source.quarantined,
        "docs": docs,
        "tokens": tokens,
        "share_of_docs": docs / totals["docs"],
        "share_of_tokens": tokens / totals["tokens"] if totals["tokens"] else 0.0,
        "share": realised[unit] / totals[unit] if totals[unit] else 0.0,
        "epochs": round(epochs, 4),
        "full_epochs": draw.full_epochs,
        "sampling": sampling,
        "capped": draw.capped,
        "shortfall": draw.shortfall,
    }
