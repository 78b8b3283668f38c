"""JSON Lines and JSON-array files: Polars parses whole blocks, bad lines are set aside exactly.

Nested values (objects and arrays) are read as their JSON text (Utf8), never as Polars
structs or lists: a struct's fields differ from batch to batch (one batch sees keys another
does not), which breaks writing and scanning shards as one table. A field that holds text
in one batch stays text in the next batches of the same file, for the same reason.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import polars as pl
import zstandard

from winnow.curate.readers.base import RawBatch, Reader, empty_quarantine, quarantine_rows

READ_BYTES = 8 << 20
"""Bytes taken from the (decompressed) stream per read."""

BLOCK_BYTES = 32 << 20
"""Upper bound of one parsed block, so memory stays bounded whatever batch_rows is."""

MAX_ELEMENT_CHARS = 256 << 20
"""The largest array element waited for before the array is declared malformed."""

Bad = tuple[int, str, str]
"""A quarantined row as (line, error, raw)."""


def open_binary(path: Path) -> BinaryIO:
    """Open a file for streaming bytes, decompressing .gz and .zst on the fly."""
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if name.endswith(".zst"):
        reader = zstandard.ZstdDecompressor().stream_reader(
            path.open("rb"), read_across_frames=True, closefd=True
        )
        return reader  # type: ignore[return-value]
    return path.open("rb")


def iter_line_blocks(
    stream: BinaryIO, max_lines: int, max_bytes: int = BLOCK_BYTES
) -> Iterator[tuple[int, int, bytes]]:
    """Yield (first line number, line count, bytes) blocks that end at line boundaries."""
    buf = b""
    first = 1
    eof = False
    while True:
        while not eof and (len(buf) < max_bytes or b"\n" not in buf):
            if buf.count(b"\n") >= max_lines:
                break
            chunk = stream.read(READ_BYTES)
            if chunk:
                buf += chunk
            else:
                eof = True
        if not buf:
            return
        ends = np.flatnonzero(np.frombuffer(buf, dtype=np.uint8) == 10)
        if len(ends) >= max_lines:
            ends = ends[:max_lines]
        elif eof:
            ends = np.append(ends, len(buf) - 1) if buf[-1:] != b"\n" else ends
        fitting = int(np.searchsorted(ends, max_bytes))
        end = int(ends[max(fitting, 1) - 1]) + 1
        block, buf = buf[:end], buf[end:]
        lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
        yield first, lines, block
        first += lines


def _reject_constant(name: str) -> Any:
    """Refuse NaN and Infinity, which Python accepts but JSON (and Polars) do not."""
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_SPACE = re.compile(r"[\s\ufeff]*")


def _kind(value: Any) -> str:
    """The JSON name of a Python value's type, for error messages."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def check_line(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """Parse one line as a JSON object, or say in a few words why it is not one."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"invalid UTF-8 at byte {exc.start + 1} of the line"
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        return None, f"malformed JSON at column {exc.colno}: {exc.msg}"
    except ValueError as exc:
        return None, f"malformed JSON: {exc}"
    if not isinstance(value, dict):
        return None, f"expected a JSON object, got a JSON {_kind(value)}"
    return value, None


class BlockParser:
    """Turns blocks of JSON lines into frames, remembering which fields of the file are text."""

    def __init__(self) -> None:
        self.text_fields: set[str] = set()

    def _read(self, block: bytes, extra: frozenset[str] | set[str] = frozenset()) -> pl.DataFrame:
        """One Polars parse, nested and known-text fields read as JSON text."""
        wanted = self.text_fields | extra
        overrides = {n: pl.Utf8 for n in wanted if f'"{n}"'.encode() in block}
        try:
            df = pl.read_ndjson(
                io.BytesIO(block), infer_schema_length=None, schema_overrides=overrides or None
            )
        except pl.exceptions.SchemaFieldNotFoundError:
            df = pl.read_ndjson(io.BytesIO(block), infer_schema_length=None)
        nested = {n for n, t in df.schema.items() if t.is_nested() and t != pl.Utf8}
        if nested:
            overrides = {**overrides, **dict.fromkeys(nested, pl.Utf8)}
            df = pl.read_ndjson(
                io.BytesIO(block), infer_schema_length=None, schema_overrides=overrides
            )
        self.text_fields |= {n for n, t in df.schema.items() if t == pl.Utf8}
        return df

    def parse(self, block: bytes, numbers: Sequence[int]) -> tuple[pl.DataFrame, list[Bad]]:
        """Parse a block whose lines carry `numbers`; bad lines come back as (line, error, raw)."""
        try:
            df = self._read(block)
        except pl.exceptions.PolarsError:
            df = None
        if df is not None and df.height == len(numbers):
            return _with_lines(df, numbers), []
        return self._parse_lines(block.split(b"\n")[: len(numbers)], numbers)

    def _parse_lines(
        self, lines: list[bytes], numbers: Sequence[int]
    ) -> tuple[pl.DataFrame, list[Bad]]:
        """Check each line alone, then let Polars read the good ones together."""
        good: list[bytes] = []
        good_numbers: list[int] = []
        mixed: set[str] = set()
        bad: list[Bad] = []
        for line, number in zip(lines, numbers, strict=True):
            if not line.strip():
                continue
            value, error = check_line(line)
            if error is not None:
                bad.append((number, error, line.decode("utf-8", "replace")))
                continue
            good.append(line)
            good_numbers.append(number)
            mixed.update(k for k, v in value.items() if isinstance(v, dict | list))
        if not good:
            return pl.DataFrame({"__line": pl.Series([], dtype=pl.Int64)}), bad
        block = b"\n".join(good)
        try:
            df = self._read(block, mixed)
        except pl.exceptions.PolarsError:
            keys = {k for line in good for k in json.loads(line)}
            try:
                df = self._read(block, keys)
            except pl.exceptions.PolarsError as exc:
                error = f"unreadable together with its neighbours: {exc}"
                bad += [
                    (n, error, line.decode()) for n, line in zip(good_numbers, good, strict=True)
                ]
                return pl.DataFrame({"__line": pl.Series([], dtype=pl.Int64)}), sorted(bad)
        return _with_lines(df, good_numbers), bad


def _with_lines(df: pl.DataFrame, numbers: Sequence[int]) -> pl.DataFrame:
    """Attach the line numbers and turn all-null columns into text, their only stable type."""
    nulls = [pl.col(n).cast(pl.Utf8) for n, t in df.schema.items() if t == pl.Null]
    return df.with_columns(*nulls, pl.Series("__line", numbers, dtype=pl.Int64))


def iter_array_elements(stream: BinaryIO) -> Iterator[tuple[Any, str | None]]:
    """Stream the elements of a top-level JSON array as (value, error) without reading it whole."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    text, pos, eof = "", 0, False

    def fill() -> None:
        nonlocal text, pos, eof
        chunk = stream.read(READ_BYTES)
        eof = not chunk
        text = text[pos:] + decoder.decode(chunk, final=eof)
        pos = 0

    def skip() -> str:
        nonlocal pos
        while True:
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            if pos < len(text) or eof:
                return text[pos : pos + 1]
            fill()

    fill()
    if skip() != "[":
        yield text[pos : pos + 200], "expected a JSON array of objects"
        return
    pos += 1
    if skip() == "]":
        return
    while True:
        try:
            value, end = _DECODER.raw_decode(text, pos)
            if end == len(text) and not eof:
                raise json.JSONDecodeError("more data needed", text, end)
        except ValueError as exc:
            if not eof and len(text) - pos < MAX_ELEMENT_CHARS:
                fill()
                continue
            yield text[pos : pos + 200], f"malformed JSON array, rest of file unread: {exc}"
            return
        pos = end
        yield value, None
        mark = skip()
        pos += 1
        if mark == "]":
            return
        if mark != ",":
            found = f"'{mark}'" if mark else "end of file"
            yield (
                text[pos - 1 : pos + 199],
                f"malformed JSON array: expected ',' or ']', found {found}",
            )
            return
        skip()


def is_json_array(path: Path) -> bool:
    """Whether a .json file holds one array (instruction sets) rather than JSON lines."""
    name = re.sub(r"\.(gz|zst)$", "", path.name.lower())
    if not name.endswith(".json"):
        return False
    with open_binary(path) as stream:
        head = stream.read(4096)
    return head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] == b"["


class JsonlReader(Reader):
    """JSON Lines (plain, .gz, .zst) and .json files holding an array of objects."""

    formats = ("jsonl", "json", "ndjson")

    def __init__(self, **_options: Any) -> None:
        pass

    def read(self, path: Path, batch_rows: int) -> Iterator[RawBatch]:
        """Yield batches of at most `batch_rows` records, choosing array or lines by content."""
        source_file = str(path)
        if is_json_array(path):
            with open_binary(path) as stream:
                yield from self._read_array(stream, source_file, batch_rows)
            return
        with open_binary(path) as stream:
            parser = BlockParser()
            for first, count, block in iter_line_blocks(stream, batch_rows):
                df, bad = parser.parse(block, range(first, first + count))
                if df.height or bad:
                    yield RawBatch(source_file, df, quarantine_rows(source_file, bad))

    def _read_array(
        self, stream: BinaryIO, source_file: str, batch_rows: int
    ) -> Iterator[RawBatch]:
        """Re-encode array elements as JSON lines and parse them like a JSON Lines file."""
        parser = BlockParser()
        lines: list[bytes] = []
        numbers: list[int] = []
        bad: list[Bad] = []
        for number, (value, error) in enumerate(iter_array_elements(stream), start=1):
            if error is None and not isinstance(value, dict):
                error = f"expected a JSON object, got a JSON {_kind(value)}"
            if error is None:
                try:
                    lines.append(json.dumps(value, ensure_ascii=False).encode("utf-8"))
                    numbers.append(number)
                except UnicodeEncodeError:
                    bad.append((number, "invalid UTF-8 in the record", repr(value)))
            else:
                raw = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                bad.append((number, error, raw.encode("utf-8", "replace").decode("utf-8")))
            if len(lines) + len(bad) >= batch_rows:
                yield self._array_batch(parser, lines, numbers, bad, source_file)
                lines, numbers, bad = [], [], []
        if lines or bad:
            yield self._array_batch(parser, lines, numbers, bad, source_file)

    @staticmethod
    def _array_batch(
        parser: BlockParser, lines: list[bytes], numbers: list[int], bad: list[Bad], source: str
    ) -> RawBatch:
        """One batch of array elements; `__line` is the 1-based element number."""
        if lines:
            df, more = parser.parse(b"\n".join(lines), numbers)
            bad = bad + more
        else:
            df = pl.DataFrame({"__line": pl.Series([], dtype=pl.Int64)})
        quarantine = quarantine_rows(source, sorted(bad)) if bad else empty_quarantine()
        return RawBatch(source, df, quarantine)
