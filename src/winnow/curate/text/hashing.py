"""64-bit hashes of byte spans and the small open-addressing tables that compare them.

Tables are reused for every row: a generation stamp marks the live slots, so nothing is
cleared between rows.
"""

from __future__ import annotations

import numpy as np
from numba import njit

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True)
def mix(h: np.uint64) -> np.uint64:
    """Finish an FNV-1a hash with a multiply-shift so every bit depends on all input bytes."""
    h ^= h >> np.uint64(32)
    h *= MULTIPLIER
    return h ^ (h >> np.uint64(29))


@njit(cache=True, nogil=True)
def table_bits(items: int) -> int:
    """log2 of a hash table size at least twice `items` (and at least 16)."""
    bits = 4
    while (1 << bits) < 2 * items:
        bits += 1
    return bits


@njit(cache=True, nogil=True)
def find_slot(
    keys: np.ndarray, stamp: np.ndarray, gen: int, bits: int, h: np.uint64
) -> tuple[int, bool]:
    """The slot of h in the table of generation gen, and whether it was already there."""
    mask = (1 << bits) - 1
    slot = np.int64((h * MULTIPLIER) >> np.uint64(64 - bits))
    while stamp[slot] == gen:
        if keys[slot] == h:
            return slot, True
        slot = (slot + 1) & mask
    stamp[slot] = gen
    keys[slot] = h
    return slot, False


@njit(cache=True, nogil=True)
def slot_of(keys: np.ndarray, bits: int, h: np.uint64) -> int:
    """The slot of h, which the current generation of the table holds (the first slot on its
    probe path with key h: slots before it hold other keys of this generation)."""
    mask = (1 << bits) - 1
    slot = np.int64((h * MULTIPLIER) >> np.uint64(64 - bits))
    while keys[slot] != h:
        slot = (slot + 1) & mask
    return slot
