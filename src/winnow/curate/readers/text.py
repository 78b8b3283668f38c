"""Plain text files: one document per non-empty line, or the whole file as one document.

Lines end at LF only (a CR before it is removed): U+2028, U+0085, form feeds and the
like are characters of a line. A damaged .gz/.zst file keeps the lines before the damage;
the line it cut (or, in file mode, the whole file) is quarantined with where it broke.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from winnow.curate.readers.base import RawBatch, Reader, empty_quarantine, quarantine_rows
from winnow.curate.readers.jsonl import damage_row, iter_line_blocks, open_binary
from winnow.errors import WinnowError

TEXT_MODES = ("line", "file")


def _decode_lines(
    raw: list[bytes], first: int
) -> tuple[list[str], list[int], list[tuple[int, str, str]]]:
    """Decode a block's lines in one go, or line by line when some are not UTF-8."""
    numbers = range(first, first + len(raw))
    try:
        return b"\n".join(raw).decode("utf-8").split("\n"), list(numbers), []
    except UnicodeDecodeError:
        texts, lines, bad = [], [], []
        for line, number in zip(raw, numbers, strict=True):
            try:
                texts.append(line.decode("utf-8"))
                lines.append(number)
            except UnicodeDecodeError:
                bad.append((number, "invalid UTF-8 in the line", line.decode("utf-8", "replace")))
        return texts, lines, bad


class TextReader(Reader):
    """.txt (and .txt.gz/.zst); `text_mode` is "line" (default) or "file"."""

    formats = ("text", "txt")

    def __init__(self, text_mode: str = "line", **_options: Any) -> None:
        if text_mode not in TEXT_MODES:
            raise WinnowError(
                f"text_mode '{text_mode}' is not known; expected one of {', '.join(TEXT_MODES)} "
                "in the source's options."
            )
        self.text_mode = text_mode

    def read(self, path: Path, batch_rows: int) -> Iterator[RawBatch]:
        """Yield documents with a `text` column; lines that are not UTF-8 are quarantined."""
        if self.text_mode == "file":
            yield from self._read_file(path)
            return
        source = str(path)
        with open_binary(path) as stream:
            for first, count, block in iter_line_blocks(stream, batch_rows):
                texts, lines, bad = _decode_lines(block.split(b"\n")[:count], first)
                docs = pl.DataFrame(
                    {
                        "text": pl.Series(texts, dtype=pl.Utf8),
                        "__line": pl.Series(lines, dtype=pl.Int64),
                    }
                ).with_columns(pl.col("text").str.strip_suffix("\r"))
                docs = docs.filter(pl.col("text").str.strip_chars().str.len_bytes() > 0)
                if docs.height or bad:
                    yield RawBatch(source, docs, quarantine_rows(source, bad))
            if stream.damage is not None:
                empty = pl.DataFrame(schema={"text": pl.Utf8, "__line": pl.Int64})
                yield RawBatch(source, empty, quarantine_rows(source, [damage_row(stream.damage)]))

    @staticmethod
    def _read_file(path: Path) -> Iterator[RawBatch]:
        """The whole file as one document, unless it is empty or not UTF-8."""
        with open_binary(path) as stream:
            data = stream.read()
        if stream.damage is not None:
            stream.damage.line, stream.damage.tail = 1, data
            bad = quarantine_rows(str(path), [damage_row(stream.damage, "file")])
            yield RawBatch(str(path), pl.DataFrame({"__line": pl.Series([], dtype=pl.Int64)}), bad)
            return
        if not data.strip():
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            error = f"invalid UTF-8 at byte {exc.start + 1} of the file"
            bad = quarantine_rows(str(path), [(1, error, data[:2000].decode("utf-8", "replace"))])
            yield RawBatch(str(path), pl.DataFrame({"__line": pl.Series([], dtype=pl.Int64)}), bad)
            return
        yield RawBatch(str(path), pl.DataFrame({"text": [text], "__line": [1]}), empty_quarantine())
