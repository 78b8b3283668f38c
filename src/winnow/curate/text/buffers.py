"""A text column's Arrow buffers and the UTF-8 reads that compiled scans make on them."""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
from numba import njit


def text_buffers(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """The Arrow offsets and UTF-8 bytes of a text column, nulls as empty strings."""
    array = texts.fill_null("").rechunk().to_arrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array = array.cast(pa.large_string())
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[array.offset :][: len(array) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer else np.zeros(1, np.uint8)
    return offsets, data


@njit(cache=True, nogil=True)
def code_point(data: np.ndarray, i: int) -> int:
    """The code point whose UTF-8 encoding starts at byte i."""
    b = np.int64(data[i])
    if b < 0x80:
        return b
    if b < 0xE0:
        return ((b & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F)
    if b < 0xF0:
        return ((b & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6) | (data[i + 2] & 0x3F)
    return (
        ((b & 0x07) << 18)
        | ((np.int64(data[i + 1]) & 0x3F) << 12)
        | ((np.int64(data[i + 2]) & 0x3F) << 6)
        | (data[i + 3] & 0x3F)
    )


@njit(cache=True, nogil=True)
def is_space(c: int) -> bool:
    """Unicode White_Space, which is what Polars' `str.strip_chars()` strips."""
    if c < 0x80:
        return c == 0x20 or 0x9 <= c <= 0xD
    return (
        c == 0x85
        or c == 0xA0
        or c == 0x1680
        or 0x2000 <= c <= 0x200A
        or c == 0x2028
        or c == 0x2029
        or c == 0x202F
        or c == 0x205F
        or c == 0x3000
    )
