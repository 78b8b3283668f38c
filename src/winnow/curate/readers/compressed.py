"""Byte streams of plain, gzip and zstd files that notice where a damaged file breaks.

Python's gzip module raises on a truncated file after throwing away what it had decoded in
that read, and zstandard's stream reader ends a truncated frame without a word. `open_stream`
decodes member by member (frame by frame) itself: every byte decoded before the damage is
returned, then the stream ends and `damage` says how many decompressed bytes were good and
what broke. A file whose name promises compression but whose first bytes are not that
compression is refused in one sentence.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

from winnow.errors import WinnowError

CHUNK = 1 << 20
"""Compressed bytes read from the file at a time."""

FEED = 1 << 16
"""Compressed bytes handed to the decoder at a time: its output since the last good call is
all that a decoding error can take with it (and zstd's decoder has no output limit)."""

RAW_HEAD = 2000
"""Bytes of a misnamed file kept to show."""

MAGIC = {"gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd"}
"""The first bytes of each compression."""

TOOL = {"gzip": "gzip", "zstd": "zstd"}
"""The command that makes each compression, for the advice."""


class NotCompressed(WinnowError):
    """A file whose name promises a compression its bytes do not have. `reason` says so
    without the path (for a quarantine row of that file) and `head` holds its first bytes."""

    def __init__(self, path: Path, reason: str, head: bytes) -> None:
        super().__init__(f"{path}: {reason}.")
        self.reason, self.head = reason, head


@dataclass
class Damage:
    """Where a compressed file stopped being readable.

    `offset` is the number of decompressed bytes read intact before the damage; readers
    that cut lines set `line` (the number of the line the damage cut, or of the line after
    the last whole one) and `tail` (the bytes of that line read before the damage).
    """

    compression: str
    offset: int
    error: str
    line: int = 0
    tail: bytes = b""

    def describe(self, unit: str = "line") -> str:
        """One sentence: what broke, where, what was kept, what to do."""
        part = (
            f"the {len(self.tail):,} bytes of this {unit} read before it are in raw; "
            if (self.tail)
            else ""
        )
        return (
            f"the {self.compression} data is damaged after {self.offset:,} bytes of "
            f"decompressed text ({self.error}); the rows before this {unit} were read, "
            f"{part}nothing after it could be read; fetch or compress the file again"
        )


def compression_of(path: Path | str) -> str | None:
    """The compression a file name promises: gzip (.gz), zstd (.zst) or None."""
    name = str(path).lower()
    if name.endswith(".gz"):
        return "gzip"
    if name.endswith(".zst"):
        return "zstd"
    return None


class DecodedStream:
    """A read-only byte stream of a file's decompressed bytes; see the module doc."""

    def __init__(self, path: Path, compression: str | None) -> None:
        self.path, self.compression = path, compression
        self.raw: BinaryIO = path.open("rb")
        self.damage: Damage | None = None
        self.delivered = 0
        self.pending = b""
        self.decoder: Any = None
        self.done = False
        if compression is not None:
            self._check_magic()

    def _check_magic(self) -> None:
        """Refuse a file whose first bytes are not the compression its name says."""
        assert self.compression is not None
        head = self.raw.read(CHUNK)
        self.pending = head
        if not head:
            self.done = True
            return
        magic = MAGIC[self.compression]
        skippable = self.compression == "zstd" and self._skippable()
        if not head.startswith(magic) and not skippable:
            self.raw.close()
            ext = ".gz" if self.compression == "gzip" else ".zst"
            raise NotCompressed(
                self.path,
                f"the name ends in {ext} but the file is not {self.compression} data (it starts "
                f"with {head[:12]!r}); rename it without {ext}, or compress it with "
                f"{TOOL[self.compression]}",
                head[:RAW_HEAD],
            )

    def read(self, size: int = -1) -> bytes:
        """Up to `size` decompressed bytes (all that is left when negative); b"" at the end."""
        if self.compression is None:
            data = self.raw.read(size)
            self.delivered += len(data)
            return data
        parts: list[bytes] = []
        wanted = size if size >= 0 else float("inf")
        got = 0
        while got < wanted and not self.done:
            piece = self._decode(int(min(wanted - got, CHUNK)))
            if piece:
                parts.append(piece)
                got += len(piece)
                self.delivered += len(piece)
        return b"".join(parts)

    def _fill(self) -> bool:
        """Read more compressed bytes into `pending`; False at the end of the file."""
        if self.pending:
            return True
        self.pending = self.raw.read(CHUNK)
        return bool(self.pending)

    def _need(self, count: int) -> bool:
        """Read until `pending` holds `count` bytes; False when the file ends first."""
        while len(self.pending) < count:
            more = self.raw.read(CHUNK)
            if not more:
                return False
            self.pending += more
        return True

    def _skippable(self) -> bool:
        """Whether a zstd skippable frame (metadata, seek tables) starts here."""
        self._need(4)
        head = self.pending[:4]
        return len(head) == 4 and head[1:] == b"\x2a\x4d\x18" and head[0] & 0xF0 == 0x50

    def _skip_frame(self) -> bytes:
        """Step over a skippable frame, which holds no data."""
        if not self._need(8):
            return self._broken("the file ends inside a zstd skippable frame")
        end = 8 + int.from_bytes(self.pending[4:8], "little")
        if not self._need(end):
            return self._broken("the file ends inside a zstd skippable frame")
        self.pending = self.pending[end:]
        return b""

    def _broken(self, error: str) -> bytes:
        """End the stream at damage, remembering where and why."""
        self.damage = Damage(self.compression or "", self.delivered, error)
        self.done = True
        return b""

    def _decode(self, limit: int) -> bytes:
        """Decode up to `limit` bytes, starting the next member or frame when one ends."""
        if self.decoder is None:
            if self.compression == "gzip":
                self.pending = self.pending.lstrip(b"\x00")
                while not self.pending and self._fill():
                    self.pending = self.pending.lstrip(b"\x00")
            if not self.pending and not self._fill():
                self.done = True
                return b""
            if self.compression == "zstd" and self._skippable():
                return self._skip_frame()
            magic = MAGIC[self.compression or "gzip"]
            if self.pending[: len(magic)] != magic[: len(self.pending)]:
                return self._broken("unexpected bytes after the end of the compressed data")
            self.decoder = (
                zlib.decompressobj(wbits=31)
                if self.compression == "gzip"
                else zstandard.ZstdDecompressor().decompressobj()
            )
        more = self._fill()
        try:
            chunk, rest = self.pending[:FEED], self.pending[FEED:]
            if self.compression == "gzip":
                out = self.decoder.decompress(chunk, limit)
                self.pending = self.decoder.unconsumed_tail + rest
            else:
                out = self.decoder.decompress(chunk) if chunk else b""
                self.pending = rest
        except (zlib.error, zstandard.ZstdError) as exc:
            return self._broken(str(exc))
        if self.decoder.eof:
            # the input after the member's end: unconsumed_tail may hold a copy of it
            self.pending = self.decoder.unused_data + rest
            self.decoder = None
        elif not more and not out and not self.pending:
            what = "member" if self.compression == "gzip" else "frame"
            return self._broken(f"the file ends inside a {self.compression} {what}")
        return out

    def tell(self) -> int:
        """Decompressed bytes returned so far."""
        return self.delivered

    def read1(self, size: int = -1) -> bytes:
        """`read`, for io.TextIOWrapper."""
        return self.read(size if size >= 0 else CHUNK)

    def readable(self) -> bool:
        """A stream to read."""
        return True

    def writable(self) -> bool:
        """Not a stream to write."""
        return False

    def seekable(self) -> bool:
        """Read once, front to back."""
        return False

    @property
    def closed(self) -> bool:
        """Whether the file is closed."""
        return self.raw.closed

    def flush(self) -> None:
        """Nothing to flush."""

    def close(self) -> None:
        """Close the file."""
        self.raw.close()

    def __enter__(self) -> DecodedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_stream(path: Path) -> DecodedStream:
    """A file's decompressed bytes (.gz and .zst by name), noticing damage; see the module doc."""
    return DecodedStream(path, compression_of(path))
