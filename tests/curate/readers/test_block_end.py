"""Where a JSON Lines block ends, found without NumPy, agrees with the NumPy search it replaced
(the reader no longer imports NumPy, a tenth of a CPU-second at every run's start)."""

from __future__ import annotations

import bisect
import random

from winnow.curate.readers.jsonl import _block_end


def reference(buf: bytes, max_lines: int, max_bytes: int, eof: bool) -> int:
    """The former search: the newline positions (the first `max_lines` of them, plus the end of
    an unterminated last line at the end of the stream), the last one before `max_bytes`, else
    the first."""
    ends = [i for i, byte in enumerate(buf) if byte == 10]
    if len(ends) >= max_lines:
        ends = ends[:max_lines]
    elif eof and buf[-1:] != b"\n":
        ends.append(len(buf) - 1)
    fitting = bisect.bisect_left(ends, max_bytes)
    return ends[max(fitting, 1) - 1] + 1


def test_block_end_matches_reference() -> None:
    """Random buffers of short lines, blank lines and unterminated tails, every limit."""
    rng = random.Random(21)
    checked = 0
    while checked < 20_000:
        buf = bytes(rng.choice(b"ab\n\n") for _ in range(rng.randint(1, 30)))
        eof = rng.random() < 0.5
        if not eof and b"\n" not in buf:
            continue  # the reader reads on until a newline arrives or the stream ends
        max_lines, max_bytes = rng.randint(1, 8), rng.randint(1, 35)
        assert _block_end(buf, max_lines, max_bytes, eof) == reference(
            buf, max_lines, max_bytes, eof
        ), (buf, max_lines, max_bytes, eof)
        checked += 1
