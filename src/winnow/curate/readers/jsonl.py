"""JSON Lines and JSON-array files: Polars parses whole blocks, bad lines are set aside exactly.

Nested values (objects and arrays) are read as their JSON text (Utf8), never as Polars
structs or lists: a struct's fields differ from batch to batch (one batch sees keys another
does not), which breaks writing and scanning shards as one table. A field that holds text
in one batch stays text in the next batches of the same file, for the same reason.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl

from winnow.curate.readers.base import RawBatch, Reader, empty_quarantine, quarantine_rows
from winnow.curate.readers.compressed import Damage, DecodedStream, open_stream
from winnow.errors import WinnowError

READ_BYTES = 8 << 20
"""Bytes taken from the (decompressed) stream per read."""

BLOCK_BYTES = 32 << 20
"""Upper bound of one parsed block, so memory stays bounded whatever batch_rows is."""

MAX_ELEMENT_CHARS = 256 << 20
"""The largest array element waited for before the array is declared malformed."""

Bad = tuple[int, str, str]
"""A quarantined row as (line, error, raw)."""

KIND_PREFIX = "__kind."
"""Prefix of the column a reader adds, for a field it was asked to check, holding the JSON
kind (number, boolean, array, object) of each row whose value was not a string (else null):
Polars reads a field that is text in some rows as text in all, writing 5 as "5"."""

_MAYBE_NOT_STRING = r"^(?:[-0-9\[{]|true$|false$)"
"""Text that a number, boolean, array or object becomes when read as text; any other text was
a JSON string, so only rows that match are parsed again to be sure."""


def open_binary(path: Path) -> DecodedStream:
    """Open a file for streaming bytes, decompressing .gz and .zst on the fly (see
    `compressed.open_stream`: `damage` says where a damaged file broke)."""
    return open_stream(path)


def iter_line_blocks(
    stream: BinaryIO | DecodedStream, max_lines: int, max_bytes: int = BLOCK_BYTES
) -> Iterator[tuple[int, int, bytes]]:
    """Yield (first line number, line count, bytes) blocks that end at line boundaries.

    Lines are cut at LF only (JSON Lines; U+2028, U+0085 and the like are text); a UTF-8
    byte order mark at the start of the stream is not part of the first line. When the
    stream ends at damage, the line the damage cut is not yielded: it goes to the stream's
    `damage.tail`, and `damage.line` gets its number (or the next line's when none was cut).
    """
    buf = b""
    first = 1
    eof = False
    damage: Damage | None = None
    while True:
        while not eof and (len(buf) < max_bytes or b"\n" not in buf):
            if buf.count(b"\n") >= max_lines:
                break
            chunk = stream.read(READ_BYTES)
            if chunk:
                buf += chunk.removeprefix(b"\xef\xbb\xbf") if first == 1 and not buf else chunk
            else:
                eof = True
                damage = getattr(stream, "damage", None)
                if damage is not None:
                    cut = buf.rfind(b"\n") + 1
                    buf, damage.tail = buf[:cut], buf[cut:]
        if not buf:
            if damage is not None:
                damage.line = first
            return
        end = _block_end(buf, max_lines, max_bytes, eof)
        block, buf = buf[:end], buf[end:]
        lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
        yield first, lines, block
        first += lines


def _block_end(buf: bytes, max_lines: int, max_bytes: int, eof: bool) -> int:
    """Where the next block of `buf` ends: after the last of its first `max_lines` lines that
    ends before byte `max_bytes`, but after one line at least. A last line without its newline
    counts only at the end of the stream (`eof`); otherwise `buf` holds a newline."""
    end = buf.rfind(b"\n", 0, max_bytes) + 1
    if eof and buf[-1:] != b"\n" and len(buf) <= max_bytes:
        end = len(buf)
    if buf.count(b"\n", 0, end) + (end == len(buf) and buf[-1:] != b"\n") > max_lines:
        end = _past_line(buf, max_lines)
    if end == 0:
        first = buf.find(b"\n")
        end = first + 1 if first >= 0 else len(buf)
    return end


def _past_line(buf: bytes, number: int) -> int:
    """The index just after the `number`th newline of `buf`, which holds that many: newlines
    are counted 64 KiB at a time, then found one by one in the last stretch."""
    start = seen = 0
    while True:
        found = buf.count(b"\n", start, start + (1 << 16))
        if seen + found >= number:
            break
        seen, start = seen + found, start + (1 << 16)
    for _ in range(number - seen):
        start = buf.index(b"\n", start) + 1
    return start


def _reject_constant(name: str) -> Any:
    """Refuse NaN and Infinity, which Python accepts but JSON (and Polars) do not."""
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_PERMISSIVE = json.JSONDecoder()
_SPACE = re.compile(r"[\s\ufeff]*")
_SURROGATE_ESCAPES = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
)
"""A high-low pair of UTF-16 surrogate escapes (an emoji), else one surrogate escape alone."""


def lone_surrogate_escape(data: bytes) -> bool:
    """Whether JSON text holds a surrogate escape outside a high-low pair: Polars turns such a
    lone one into other text, so blocks that have one are checked line by line."""
    return any(m.end() - m.start() == 6 for m in _SURROGATE_ESCAPES.finditer(data))


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
    if lone_surrogate_escape(line):
        return (None, error) if (error := lone_surrogate(value)) else (value, None)
    return value, None


def lone_surrogate(value: Any) -> str | None:
    """Why a parsed JSON value is not text: a string holding a lone UTF-16 surrogate escape
    (which Python's json accepts and no UTF-8 writer can store), or None."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(exc.object[exc.start])
        return f"a string holds a lone UTF-16 surrogate (\\u{code:04x}), not text"
    return None


class BlockParser:
    """Turns blocks of JSON lines into frames, remembering which fields of the file are text.

    For each of `check` (field names) present as text, a `__kind.FIELD` column marks the rows
    whose value was not a JSON string (see KIND_PREFIX); it is added only when there are some.
    """

    def __init__(self, check: Sequence[str] = ()) -> None:
        self.text_fields: set[str] = set()
        self.check = tuple(check)

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
            df = None if lone_surrogate_escape(block) else self._read(block)
        except pl.exceptions.PolarsError:
            df = None
        if df is not None and df.height == len(numbers):
            return self._finish(df, numbers, block, None), []
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
        try:
            df = self._read(b"\n".join(good), mixed)
        except pl.exceptions.PolarsError:
            keys = {k for line in good for k in json.loads(line)}
            frames, unreadable = self._read_parts(good, keys)
            bad += [(good_numbers[i], error, good[i].decode()) for i, error in unreadable.items()]
            good_numbers = [n for i, n in enumerate(good_numbers) if i not in unreadable]
            good = [line for i, line in enumerate(good) if i not in unreadable]
            try:
                df = pl.concat(frames, how="diagonal_relaxed") if frames else None
            except pl.exceptions.PolarsError as exc:
                error = f"unreadable together with its neighbours: {exc}"
                bad += [
                    (n, error, line.decode()) for n, line in zip(good_numbers, good, strict=True)
                ]
                df = None
            if df is None:
                return pl.DataFrame({"__line": pl.Series([], dtype=pl.Int64)}), sorted(bad)
        return self._finish(df, good_numbers, None, good), sorted(bad)

    def _read_parts(
        self, lines: list[bytes], keys: set[str], start: int = 0
    ) -> tuple[list[pl.DataFrame], dict[int, str]]:
        """Frames of runs of lines Polars reads together (in order), and the lines (by index)
        it cannot read even alone, such as valid JSON with a number beyond 128 bits: found by
        halving, so their neighbours are read."""
        try:
            return [self._read(b"\n".join(lines), keys)], {}
        except pl.exceptions.PolarsError as exc:
            if len(lines) == 1:
                error = (
                    f"valid JSON that cannot be read into a column ({exc}); integers must fit "
                    "in 128 bits and floats in 64, so store bigger numbers as strings"
                )
                return [], {start: error}
        middle = len(lines) // 2
        first, bad = self._read_parts(lines[:middle], keys, start)
        second, more = self._read_parts(lines[middle:], keys, start + middle)
        return first + second, bad | more

    def _finish(
        self,
        df: pl.DataFrame,
        numbers: Sequence[int],
        block: bytes | None,
        lines: list[bytes] | None,
    ) -> pl.DataFrame:
        """Attach line numbers and, for the checked fields, the kinds of non-string values."""
        df = _with_lines(df, numbers)
        for name in self.check:
            if df.schema.get(name) != pl.Utf8:
                continue
            suspects = df[name].str.contains(_MAYBE_NOT_STRING).fill_null(False)
            if not suspects.any():
                continue
            if lines is None:
                assert block is not None
                lines = block.split(b"\n")
            kinds: list[str | None] = [None] * df.height
            for index in suspects.arg_true().to_list():
                value = json.loads(lines[index]).get(name)
                if value is not None and not isinstance(value, str):
                    kinds[index] = _kind(value)
            if any(kinds):
                df = df.with_columns(pl.Series(KIND_PREFIX + name, kinds, dtype=pl.Utf8))
        return df


def _with_lines(df: pl.DataFrame, numbers: Sequence[int]) -> pl.DataFrame:
    """Attach the line numbers and turn all-null columns into text, their only stable type."""
    nulls = [pl.col(n).cast(pl.Utf8) for n, t in df.schema.items() if t == pl.Null]
    return df.with_columns(*nulls, pl.Series("__line", numbers, dtype=pl.Int64))


def iter_array_elements(
    stream: BinaryIO | DecodedStream, decoder: json.JSONDecoder = _DECODER
) -> Iterator[tuple[Any, str | None]]:
    """Stream the elements of a top-level JSON array as (value, error) without reading it whole.

    An element that is JSON syntax but that `decoder` refuses (NaN, or what its hooks refuse)
    is one error; a syntax error ends the stream: what follows is not read, and it says so.
    """
    utf8 = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    text, pos, eof = "", 0, False

    def fill() -> None:
        nonlocal text, pos, eof
        chunk = stream.read(READ_BYTES)
        eof = not chunk
        text = text[pos:] + utf8.decode(chunk, final=eof)
        pos = 0

    def skip() -> str:
        nonlocal pos
        while True:
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            if pos < len(text) or eof:
                return text[pos : pos + 1]
            fill()

    def after_array() -> Iterator[tuple[Any, str | None]]:
        """Nothing but white space may follow the closing bracket; else one error."""
        if skip():
            yield text[pos : pos + 200], "more data after the end of the JSON array; rest unread"

    fill()
    if skip() != "[":
        yield text[pos : pos + 200], "expected a JSON array of objects"
        return
    pos += 1
    if skip() == "]":
        pos += 1
        yield from after_array()
        return
    while True:
        error = None
        try:
            try:
                value, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError:
                raise
            except ValueError as exc:  # NaN or Infinity: Python reads them, JSON has none
                error = f"malformed JSON: {exc}"
                _, end = _PERMISSIVE.raw_decode(text, pos)
                value = text[pos:end][:200]
            if end == len(text) and not eof:
                raise json.JSONDecodeError("more data needed", text, end)
        except json.JSONDecodeError as exc:
            if not eof and len(text) - pos < MAX_ELEMENT_CHARS:
                fill()
                continue
            yield text[pos : pos + 200], f"malformed JSON array, rest of file unread: {exc}"
            return
        pos = end
        yield value, error
        mark = skip()
        pos += 1
        if mark == "]":
            yield from after_array()
            return
        if mark != ",":
            found = f"'{mark}'" if mark else "end of file"
            yield (
                text[pos - 1 : pos + 199],
                f"malformed JSON array: expected ',' or ']', found {found}; rest of file unread",
            )
            return
        skip()


def is_json_array(path: Path) -> bool:
    """Whether a file's content starts with '[' (a JSON array) rather than JSON lines."""
    with open_binary(path) as stream:
        head = stream.read(4096)
    return head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] == b"["


def damage_row(damage: Damage, unit: str = "line") -> Bad:
    """The quarantine row of a damaged file: at the cut line, with the bytes read of it."""
    return damage.line, damage.describe(unit), damage.tail.decode("utf-8", "replace")


class JsonlReader(Reader):
    """JSON Lines (plain, .gz, .zst) and .json files holding an array of objects.

    `check_strings` names fields (the text field) whose non-string values are marked in a
    `__kind.FIELD` column. A damaged compressed file keeps the rows before the damage and
    ends in one quarantined row naming the byte where it broke.
    """

    formats = ("jsonl", "json", "ndjson")

    def __init__(self, check_strings: Sequence[str] = (), **_options: Any) -> None:
        self.check = tuple(check_strings)

    def read(self, path: Path, batch_rows: int) -> Iterator[RawBatch]:
        """Yield batches of at most `batch_rows` records, choosing array or lines by content."""
        source_file = str(path)
        if is_json_array(path):
            if re.sub(r"\.(gz|zst)$", "", path.name.lower()).endswith(".json"):
                with open_binary(path) as stream:
                    yield from self._read_array(stream, source_file, batch_rows)
                return
            raise WinnowError(
                f"{path}: holds a JSON array ([...]), but this extension is read as JSON Lines, "
                "one object per line; rename it to .json to read the array, or write one "
                "record per line."
            )
        with open_binary(path) as stream:
            parser = BlockParser(self.check)
            for first, count, block in iter_line_blocks(stream, batch_rows):
                df, bad = parser.parse(block, range(first, first + count))
                if df.height or bad:
                    yield RawBatch(source_file, df, quarantine_rows(source_file, bad))
            if stream.damage is not None:
                empty = pl.DataFrame({"__line": pl.Series([], dtype=pl.Int64)})
                row = damage_row(stream.damage)
                yield RawBatch(source_file, empty, quarantine_rows(source_file, [row]))

    def _read_array(
        self, stream: DecodedStream, source_file: str, batch_rows: int
    ) -> Iterator[RawBatch]:
        """Re-encode array elements as JSON lines and parse them like a JSON Lines file."""
        parser = BlockParser(self.check)
        lines: list[bytes] = []
        numbers: list[int] = []
        bad: list[Bad] = []
        reported = False
        number = 0
        for number, (value, error) in enumerate(iter_array_elements(stream), start=1):
            if error is None and not isinstance(value, dict):
                error = f"expected a JSON object, got a JSON {_kind(value)}"
            if error is None and (error := lone_surrogate(value)) is not None:
                bad.append((number, error, repr(value)))
            elif error is None:
                lines.append(json.dumps(value, ensure_ascii=False).encode("utf-8"))
                numbers.append(number)
            else:
                if stream.damage is not None and "unread" in error:
                    stream.damage.line = number
                    error = stream.damage.describe("element")
                    reported = True
                raw = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                bad.append((number, error, raw.encode("utf-8", "replace").decode("utf-8")))
            if len(lines) + len(bad) >= batch_rows:
                yield self._array_batch(parser, lines, numbers, bad, source_file)
                lines, numbers, bad = [], [], []
        if stream.damage is not None and not reported:
            stream.damage.line = number + 1
            bad.append(damage_row(stream.damage, "element"))
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
