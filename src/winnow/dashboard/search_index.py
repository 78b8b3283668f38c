"""A full-text index of one split of a dataset version, so that a search's count and any page of
its matches come back without reading every row's text.

The index holds a vocabulary of words (lowercased runs of `\\w`, so a Korean eojeol is one
word, each with an id and its number of rows) to find the words that contain a search; per
segment of rows, the rows of each word id (postings); and the searched text itself, for what
the postings alone cannot decide (a search across words or punctuation, a rare hash collision,
or a word piece so common, such as one letter, that reading its rows costs more than reading
the text): those are checked with the very regular expression the scan uses, in place in the
memory-mapped text, so the rows found are the rows the scan finds, in the same order.
Versions never change, so an index is built once, on the first search, and kept in the
workspace under `indexes/NAME/VERSION/search/SPLIT/`; one that fails its checks is rebuilt.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import shutil
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

FORMAT = 2
"""Layout version of an index folder; another one is rebuilt."""

WORD = r"\w+"
"""A word: a run of word characters (letters of any script, digits, marks, `_`)."""

PARTS = r"\w+|\W+"
"""A search cut into words and the runs of other characters between them."""

ROW_BITS = 20
"""Bits of a (word, row) key that hold the row within its segment, while building."""

SEGMENT_ROWS = 50_000
"""Rows per segment: its postings hold a row in 16 bits, so at most 65,536."""

SEED = 20
"""Seed of the word hash (kept in the vocabulary, never recomputed at search time)."""

FOLD = {
    "\u00b5": "\u03bc",
    "\u017f": "s",
    "\u0345": "\u03b9",
    "\u03c2": "\u03c3",
    "\u03d0": "\u03b2",
    "\u03d1": "\u03b8",
    "\u03d5": "\u03c6",
    "\u03d6": "\u03c0",
    "\u03f0": "\u03ba",
    "\u03f1": "\u03c1",
    "\u03f5": "\u03b5",
    "\u1c80": "\u0432",
    "\u1c81": "\u0434",
    "\u1c82": "\u043e",
    "\u1c83": "\u0441",
    "\u1c84": "\u0442",
    "\u1c85": "\u0442",
    "\u1c86": "\u044a",
    "\u1c87": "\u0463",
    "\u1c88": "\ua64b",
    "\u1e9b": "\u1e61",
    "\u1fbe": "\u03b9",
}
"""Lowercase letters that RE2's case-insensitive match equates with another lowercase letter
(long s with s, final sigma with sigma...): folded to it, so no match is missed."""

READ_ROWS = 8
"""A word piece whose matching words hold more rows than this many per row of the split (a
letter, a digit) is not read from the postings: checking every row's text is faster."""

COPY_SHARE = 0.25
"""Up to this share of the split, candidates are copied out of the text to be checked; more are
checked in place, all rows at once."""

_LOCKS: dict[Path, threading.Lock] = {}
_OPEN: dict[Path, tuple[dict[str, Any], SearchIndex]] = {}
_GUARD = threading.Lock()


def pattern(search: str) -> str:
    """The RE2 pattern of a case-insensitive substring search (the scan's and the check's)."""
    return "(?i)" + re.escape(search)


def fold(texts: pl.Series) -> pl.Series:
    """Lowercased text with the letters RE2 equates made equal."""
    return texts.str.to_lowercase().str.replace_many(FOLD)


def parts(search: str) -> list[tuple[str, bool]]:
    """The folded search cut into words and separators, each with whether it is a word."""
    pieces = fold(pl.Series([search])).str.extract_all(PARTS)[0].to_list()
    return [(p, re.fullmatch(r"\w+", p) is not None) for p in pieces]


def index_folder(root: Path, name: str, version: str, split: str) -> Path:
    """Where the index of one split of a version lives in the workspace."""
    return root / "indexes" / name / version / "search" / split


@dataclass
class Source:
    """What an index is built from: the split's shards in scan order and the searched text."""

    files: list[tuple[str, int, int]]
    """(path, bytes, rows) of each shard, in the order DuckDB reads them."""
    expr: str
    """The SQL expression of the searched text."""
    relation: str
    """The SQL that reads the split."""

    def identity(self) -> dict[str, Any]:
        """What must match for a built index to serve this source."""
        return {"format": FORMAT, "expr": self.expr, "files": [list(f) for f in self.files]}


def segment(texts: pl.Series, folder: Path, number: int) -> pl.DataFrame:
    """Write one segment's sorted (word, row) keys; return its words, their hashes and rows."""
    words = fold(texts.fill_null("")).str.extract_all(WORD)
    tokens = pl.DataFrame(
        {"row": pl.int_range(len(texts), dtype=pl.UInt64, eager=True), "word": words}
    ).explode("word")
    tokens = tokens.filter(pl.col("word").is_not_null())
    hashes = tokens["word"].hash(SEED)
    shift = np.uint64(ROW_BITS)
    keys = distinct((hashes.to_numpy() >> shift << shift) | tokens["row"].to_numpy())
    np.save(folder / f"keys-{number:05d}.npy", keys)
    return pl.DataFrame({"word": tokens["word"], "hash": hashes}).unique(subset="hash")


def postings(folder: Path, number: int, ids: np.ndarray) -> np.ndarray:
    """Turn one segment's sorted keys into its postings: the rows of each vocabulary id in id
    order (16 bits each) and where each id's rows start, so a search reads them directly;
    return each id's number of rows."""
    keys = np.load(folder / f"keys-{number:05d}.npy")
    words = keys >> np.uint64(ROW_BITS)
    change = np.ones(len(words), dtype=bool)
    change[1:] = words[1:] != words[:-1]
    first = np.flatnonzero(change)
    counts = np.zeros(len(ids), dtype=np.int64)
    counts[np.searchsorted(ids, words[first])] = np.diff(np.append(first, len(keys)))
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.uint32)
    np.save(folder / f"starts-{number:05d}.npy", starts)
    rows = (keys & np.uint64((1 << ROW_BITS) - 1)).astype(np.uint16)
    np.save(folder / f"rows-{number:05d}.npy", rows)
    (folder / f"keys-{number:05d}.npy").unlink()
    return counts


class TextWriter:
    """Appends the searched text of each batch to text.bin, with offsets and lengths."""

    def __init__(self, folder: Path) -> None:
        self.handle = (folder / "text.bin").open("wb")
        self.offsets: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
        self.lengths: list[np.ndarray] = []
        self.end = 0

    def add(self, column: pa.Array) -> None:
        """One batch of text; a null keeps length -1, so that no search or length bound hits it."""
        column = column.cast(pa.large_string())
        offsets = np.frombuffer(column.buffers()[1], dtype=np.int64)
        offsets = offsets[column.offset : column.offset + len(column) + 1]
        data = column.buffers()[2]
        if data is not None:
            self.handle.write(memoryview(data)[offsets[0] : offsets[-1]])
        self.offsets.append(offsets[1:] - offsets[0] + self.end)
        self.end += int(offsets[-1] - offsets[0])
        lengths = pa.compute.utf8_length(column).fill_null(-1)
        self.lengths.append(lengths.to_numpy(zero_copy_only=False).astype(np.int64))

    def close(self, folder: Path) -> None:
        """Write the offsets and lengths next to the text."""
        self.handle.close()
        np.save(folder / "offsets.npy", np.concatenate(self.offsets))
        np.save(folder / "lengths.npy", np.concatenate(self.lengths or [np.zeros(0, np.int64)]))


def build(source: Source, folder: Path) -> None:
    """Build the index into a fresh folder next to `folder`, then move it into place."""
    work = folder.with_name(f"{folder.name}.building-{uuid.uuid4().hex[:8]}")
    work.mkdir(parents=True)
    try:
        write_index(source, work)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_index(source: Source, work: Path) -> None:
    """Postings, text, vocabulary and meta.json of an index, in `work`."""
    con = duckdb.connect(":memory:")
    reader = con.sql(f"SELECT {source.expr} AS t FROM {source.relation}").to_arrow_reader(
        SEGMENT_ROWS
    )
    text = TextWriter(work)
    segments: list[tuple[int, int]] = []
    pending: list[Future[pl.DataFrame]] = []
    words: list[pl.DataFrame] = []
    threads = max(1, os.cpu_count() or 1)
    with ThreadPoolExecutor(threads) as pool:
        for batch in reader:
            column = batch.column(0)
            text.add(column)
            base = segments[-1][0] + segments[-1][1] if segments else 0
            segments.append((base, len(column)))
            series = pl.Series(column.cast(pa.large_string()))
            pending.append(pool.submit(segment, series, work, len(segments) - 1))
            if len(pending) > threads:
                words.append(pending.pop(0).result())
        words += [f.result() for f in pending]
        vocabulary = vocabulary_of(words)
        ids = vocabulary["key"].unique().sort().to_numpy()
        rows = sum(pool.map(lambda n: postings(work, n, ids), range(len(segments))))
    text.close(work)
    counts = rows if len(segments) else np.zeros(len(ids), np.int64)
    vocabulary = vocabulary.with_columns(pl.Series("rows", counts[vocabulary["id"].to_numpy()]))
    vocabulary.drop("key").write_parquet(work / "vocabulary.parquet")
    meta = source.identity() | {"segments": segments}
    meta["sizes"] = {p.name: p.stat().st_size for p in sorted(work.iterdir())}
    (work / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def vocabulary_of(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Every word once with its key, the id of that key (its rank), and whether another word
    shares the key (then the rows found through it are checked against the text)."""
    words = pl.concat(parts) if parts else pl.DataFrame(schema={"word": pl.Utf8, "hash": pl.UInt64})
    words = words.unique(subset="hash").select(
        "word", (pl.col("hash") // (1 << ROW_BITS)).alias("key")
    )
    return words.with_columns(
        (pl.col("key").rank("dense") - 1).cast(pl.Int64).alias("id"),
        (pl.col("key").count().over("key") > 1).alias("collided"),
    )


class SearchIndex:
    """A built index, opened: the vocabulary in memory, postings and text memory-mapped."""

    def __init__(self, folder: Path, meta: dict[str, Any]) -> None:
        self.folder = folder
        self.segments = [tuple(s) for s in meta["segments"]]
        self.vocabulary = pl.read_parquet(folder / "vocabulary.parquet")
        self.postings = [
            (
                np.load(folder / f"starts-{i:05d}.npy", mmap_mode="r"),
                np.load(folder / f"rows-{i:05d}.npy", mmap_mode="r"),
            )
            for i in range(len(self.segments))
        ]
        self.offsets = np.load(folder / "offsets.npy", mmap_mode="r")
        self.lengths = np.load(folder / "lengths.npy", mmap_mode="r")
        self.rows = len(self.lengths)
        size = int(self.offsets[-1]) if len(self.offsets) else 0
        with (folder / "text.bin").open("rb") as handle:
            self.text = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        if len(self.offsets) != self.rows + 1 or len(self.text) != size:
            raise ValueError(f"{folder}: text, offsets and lengths disagree")
        valid = np.packbits(np.asarray(self.lengths) >= 0, bitorder="little")
        self.texts = pa.LargeStringArray.from_buffers(
            self.rows, pa.py_buffer(self.offsets), pa.py_buffer(self.text), pa.py_buffer(valid)
        )

    def matches(self, search: str) -> np.ndarray:
        """Row numbers, ascending, whose text contains `search` ignoring case."""
        found, exact = self.candidates(parts(search))
        return found if exact else self.checked(found, pattern(search))

    def candidates(self, pieces: list[tuple[str, bool]]) -> tuple[np.ndarray | None, bool]:
        """Rows holding every word of the search where it must be (inside a word, at its
        start or end, or the whole word), and whether that alone decides the match; None
        when no word narrows the search enough to be worth reading its rows."""
        found: np.ndarray | None = None
        exact = len(pieces) == 1
        for i, (piece, is_word) in enumerate(pieces):
            if not is_word:
                continue
            words = self.vocabulary.filter(word_test(piece, i > 0, i < len(pieces) - 1))
            if words["rows"].sum() > READ_ROWS * max(1, self.rows):
                exact = False
                continue
            exact = exact and not words["collided"].any()
            rows = self.rows_of(words["id"].unique().to_numpy())
            found = rows if found is None else np.intersect1d(found, rows, assume_unique=True)
        return found, exact and found is not None

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """The rows, ascending and once each, that hold any word with one of these ids."""
        found = []
        for (base, rows), (starts, numbers) in zip(self.segments, self.postings, strict=True):
            picked = numbers[spans(starts[ids].astype(np.int64), starts[ids + 1].astype(np.int64))]
            hit = np.zeros(rows, dtype=bool)
            hit[picked] = True
            found.append(np.flatnonzero(hit) + base)
        return np.concatenate(found) if found else np.zeros(0, np.int64)

    def checked(self, rows: np.ndarray | None, regex: str) -> np.ndarray:
        """The candidate rows (every row for None), ascending, whose text an RE2 regular
        expression matches as the scan's `regexp_matches` does: a few are copied out and
        checked, many are checked in place."""
        if rows is None or len(rows) > COPY_SHARE * self.rows:
            numbers, texts = np.arange(self.rows, dtype=np.int64), self.texts
        else:
            numbers, texts = rows, self.texts.take(pa.array(rows))
        table = pa.table({"row": numbers, "t": texts})
        con = duckdb.connect(":memory:")
        batches = table.to_batches(SEGMENT_ROWS)
        con.register("candidates", pa.Table.from_batches(batches, schema=table.schema))
        sql = "SELECT row FROM candidates WHERE regexp_matches(t, ?) ORDER BY row"
        return con.sql(sql, params=[regex]).fetchnumpy()["row"]

    def within(self, rows: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
        """The rows whose text length lies within the bounds (a null text never does)."""
        lengths = self.lengths[rows]
        keep = lengths >= 0
        if low is not None:
            keep &= lengths >= low
        if high is not None:
            keep &= lengths <= high
        return rows[keep]


def word_test(piece: str, after: bool, before: bool) -> pl.Expr:
    """Which words can hold a piece of the search: one followed and preceded by other
    characters is a whole word; one at the start of the search ends a word, one at its end
    starts one, and a search of one word lies anywhere inside one."""
    word = pl.col("word")
    if after and before:
        return word == piece
    if after:
        return word.str.starts_with(piece)
    if before:
        return word.str.ends_with(piece)
    return word.str.contains(piece, literal=True)


def distinct(values: np.ndarray) -> np.ndarray:
    """The values sorted, once each (np.unique is many times slower on 64-bit keys)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]


def spans(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Every index in the ranges [low, high), range by range."""
    counts = high - low
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(low - np.cumsum(counts) + counts, counts)
    return starts + np.arange(total)


def checked_meta(folder: Path, source: Source) -> dict[str, Any] | None:
    """The index's meta.json when it was built from this source and every file has the size
    it was written with; None when it is missing, stale or damaged."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if {k: meta.get(k) for k in source.identity()} != source.identity():
            return None
        for name, size in meta["sizes"].items():
            if (folder / name).stat().st_size != size:
                return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return meta


def opened(folder: Path, source: Source) -> SearchIndex | None:
    """The index in `folder`, opened, when it passes its checks."""
    meta = checked_meta(folder, source)
    if meta is None:
        return None
    cached = _OPEN.get(folder)
    if cached is not None and cached[0] == meta:
        return cached[1]
    try:
        index = SearchIndex(folder, meta)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    _OPEN[folder] = (meta, index)
    return index


def search_index(folder: Path, source: Source) -> SearchIndex:
    """The index of a source, opened from the workspace or built there first (once, however
    many sessions of this process ask at the same time); a damaged one is rebuilt."""
    with _GUARD:
        lock = _LOCKS.setdefault(folder, threading.Lock())
    with lock:
        index = opened(folder, source)
        if index is None:
            build(source, folder)
            index = opened(folder, source)
        if index is None:
            raise OSError(f"{folder}: the search index just built cannot be read back")
        return index
