"""Fixed-length training blocks read from token shards: documents are split into a training
and a held-out part by a seeded hash of their position (so no document is in both), each
part's documents are laid end to end, and block i is tokens [i * L, (i + 1) * L) of that
stream, read from the shard files with positioned reads. Only the per-document index is in
memory (16 bytes a document), never the tokens.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from winnow.train.token_shards import ShardSet


def held_out(documents: int, fraction: float, seed: int) -> np.ndarray:
    """Which of `documents` documents (by position) are held out: the round(fraction x
    documents) (at least one) whose splitmix64 hash of (seed, position) is least."""
    chosen = np.zeros(documents, dtype=bool)
    count = min(documents, max(1, round(documents * fraction)))
    with np.errstate(over="ignore"):
        x = np.arange(documents, dtype=np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    chosen[np.argpartition(x, count - 1)[:count]] = True
    return chosen


def document_index(shards: ShardSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every document's shard number, first token and length, in shard order."""
    shard, start, length = [], [], []
    for n in range(len(shards.shards)):
        lengths = shards.lengths(n)
        shard.append(np.full(len(lengths), n, dtype=np.int32))
        start.append(np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)[:-1])))
        length.append(lengths.astype(np.int64))
    if not shard:
        return np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(shard), np.concatenate(start), np.concatenate(length)


class PackedBlocks:
    """A map-style dataset of `block`-token blocks over some documents of a shard set, each
    item `input_ids` and `labels` (the same ids: the model shifts them)."""

    def __init__(
        self, shards: ShardSet, block: int, chosen: np.ndarray, limit: int | None = None
    ) -> None:
        shard, start, length = document_index(shards)
        self.files = [shards.folder / meta["name"] for meta in shards.shards]
        self.dtype = np.dtype(shards.dtype)
        self.block = block
        self.shard, self.start = shard[chosen], start[chosen]
        self.end = np.cumsum(length[chosen], dtype=np.int64)
        self.documents = int(chosen.sum())
        self.tokens = int(self.end[-1]) if len(self.end) else 0
        self.blocks = self.tokens // self.block
        self.limit = limit
        self.handles: dict[int, int] = {}

    def __len__(self) -> int:
        """Whole blocks in the stream (the last partial block is left out), at most `limit`."""
        return self.blocks if self.limit is None else min(self.blocks, self.limit)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled for data-loader workers without this process's open files."""
        return {**self.__dict__, "handles": {}}

    def read(self, doc: int, offset: int, count: int) -> bytes:
        """`count` tokens of document `doc` from token `offset` on, as bytes."""
        n = int(self.shard[doc])
        if n not in self.handles:
            self.handles[n] = os.open(self.files[n], os.O_RDONLY)
        size = self.dtype.itemsize
        return os.pread(self.handles[n], count * size, (int(self.start[doc]) + offset) * size)

    def tokens_at(self, first: int, count: int) -> np.ndarray:
        """Tokens [first, first + count) of the stream."""
        doc = int(np.searchsorted(self.end, first, side="right"))
        offset = first - (int(self.end[doc - 1]) if doc else 0)
        parts = []
        while count:
            length = int(self.end[doc]) - (int(self.end[doc - 1]) if doc else 0)
            take = min(count, length - offset)
            parts.append(self.read(doc, offset, take))
            count, doc, offset = count - take, doc + 1, 0
        return np.frombuffer(b"".join(parts), dtype=self.dtype)

    def __getitem__(self, i: int) -> dict[str, Any]:
        """Block i as int64 tensors."""
        import torch

        if not 0 <= i < len(self):
            raise IndexError(i)
        ids = torch.from_numpy(self.tokens_at(i * self.block, self.block).astype(np.int64))
        return {"input_ids": ids, "labels": ids.clone()}


EVAL_BLOCKS = 1_000
"""Held-out blocks an evaluation reads at most (the first of the held-out stream): on a large
corpus 5% of the documents would make every evaluation a long pass, while a thousand blocks
already pin the loss to about a hundredth."""


def split_blocks(
    shards: ShardSet, block: int, fraction: float, seed: int, max_documents: int | None = None
) -> tuple[PackedBlocks, PackedBlocks | None]:
    """(training blocks, held-out blocks or None) over the first `max_documents` documents;
    evaluations read at most EVAL_BLOCKS of the held-out ones."""
    documents = min(shards.documents, max_documents or shards.documents)
    within = np.arange(shards.documents) < documents
    held = np.zeros_like(within)
    if fraction > 0 and documents > 1:
        held[:documents] = held_out(documents, fraction, seed)
    train = PackedBlocks(shards, block, within & ~held)
    return train, (PackedBlocks(shards, block, held, EVAL_BLOCKS) if held.any() else None)
