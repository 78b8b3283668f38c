"""Semantic near-duplicate removal (SemDeDup; NeMo Curator and semhash do it alike).

Per shard, `score` embeds each row's `column` with a sentence encoder (`encoder`: `minilm`,
all-MiniLM-L6-v2, by default; or a sentence-transformers folder) into a unit vector kept in
`__semantic_dedup_vector`, which only the decision reads. `decide` splits all vectors into
`clusters` groups with seeded k-means (0: one per 1,000 rows) and, inside each group, walks
the rows in the `keep` order: a row whose cosine similarity to a row kept before it reaches
`threshold` is removed. `keep: first` walks in input order (the earliest copy stays, as
semhash keeps it), `longest` walks the longest texts first, `central` the rows nearest their
k-means centre first (SemDeDup's "easy" end).

Removed rows carry reason `semantic_duplicate`, `duplicate_of` (the id of the most similar
kept row) and `similarity` (that cosine). Rows whose text is empty are kept and counted.
Two copies that k-means puts in different groups are never compared, so a few pairs are
missed; `clusters: 1` compares every pair (n² / 2 products) and misses none. The encoder
reads the first `max_length` tokens of a text (256 for MiniLM) and nothing after them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, get_args

import numpy as np
import polars as pl

from winnow.curate.dedup.minhash.core import cluster_histogram
from winnow.curate.dedup.semantic.walk import greedy_walk, kmeans
from winnow.curate.steps.base import GlobalContext, Step, bounds, register
from winnow.embed.encoder import (
    DEFAULT_ENCODER,
    Encoder,
    encoder_folder,
    encoder_record,
    load_encoder,
)
from winnow.errors import WinnowError

Keep = Literal["first", "longest", "central"]
Device = Literal["auto", "cpu", "cuda"]
ROWS_PER_CLUSTER = 1000
"""With `clusters: 0`, one k-means group per this many rows: each walk stays small."""

_TRUNCATION = threading.Lock()


@contextmanager
def truncated(encoder: Encoder, max_length: int) -> Iterator[None]:
    """Let the shared, cached encoder read at most `max_length` tokens, then restore it."""
    if not max_length:
        yield
        return
    if max_length > encoder.max_length:
        raise WinnowError(
            f"step semantic_dedup: max_length {max_length} is more than encoder "
            f"'{encoder.name}' reads ({encoder.max_length}); lower it, or 0 for its own."
        )
    with _TRUNCATION:
        before = encoder.model.max_seq_length
        encoder.model.max_seq_length = max_length
        try:
            yield
        finally:
            encoder.model.max_seq_length = before


@register
@dataclass
class SemanticDedup(Step):
    """Drop rows whose sentence vector is within `threshold` cosine of a kept row's."""

    name: ClassVar[str] = "semantic_dedup"
    scope: ClassVar[str] = "global"
    prefix: ClassVar[str] = "semantic_dedup_"
    encoder: str = DEFAULT_ENCODER
    threshold: float = field(default=0.9, metadata=bounds(0, 1))
    clusters: int = 0
    keep: Keep = "first"
    batch_size: int = field(default=64, metadata=bounds(1, None))
    device: Device = "auto"
    max_length: int = 0
    seed: int = 1
    column: str = "text"

    def __post_init__(self) -> None:
        """Check choices made outside a recipe, and that the encoder is there to load."""
        for key, allowed in (("keep", get_args(Keep)), ("device", get_args(Device))):
            if getattr(self, key) not in allowed:
                raise WinnowError(
                    f"step semantic_dedup: parameter '{key}' must be one of {', '.join(allowed)}."
                )
        if not 0 < self.threshold <= 1:
            raise WinnowError(
                f"step semantic_dedup: parameter 'threshold' is {self.threshold}, but it must "
                "be above 0 and at most 1 (a cosine similarity)."
            )
        encoder_folder(self.encoder)  # a missing package or folder fails when the recipe loads

    @property
    def vector_column(self) -> str:
        """Each row's unit vector, which only the decision reads (hence the "__")."""
        return "__" + self.col("vector")

    @property
    def chars_column(self) -> str:
        """Each row's length in characters, for `keep: longest`."""
        return "__" + self.col("chars")

    @property
    def key_columns(self) -> tuple[str, ...]:
        """What `decide` needs of every row: its vector and its length."""
        return (self.vector_column, self.chars_column)

    def load(self) -> Encoder:
        """The encoder, loaded once per process."""
        return load_encoder(self.encoder, self.device)

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Embed each row's text (empty texts get a zero vector, which is never compared)."""
        if self.column not in df.columns:
            raise WinnowError(
                f"step semantic_dedup: the rows have no column '{self.column}'; name one of: "
                f"{', '.join(df.columns)}."
            )
        texts = df[self.column].cast(pl.Utf8).fill_null("")
        filled = (texts.str.strip_chars() != "").arg_true().to_numpy()
        encoder = self.load()
        vectors = np.zeros((df.height, encoder.dim), np.float32)
        with truncated(encoder, self.max_length):
            vectors[filled] = encoder.encode(texts.gather(filled).to_list(), self.batch_size)
        return df.with_columns(
            pl.Series(self.vector_column, vectors, dtype=pl.Array(pl.Float32, encoder.dim)),
            pl.Series(self.chars_column, texts.str.len_chars(), dtype=pl.Int64),
        )

    def decide(self, keys: pl.DataFrame, context: GlobalContext | None = None) -> pl.DataFrame:
        """Cluster the vectors, walk each cluster in keep order, point removals at kept rows."""
        vectors = np.ascontiguousarray(keys[self.vector_column].to_numpy(), dtype=np.float32)
        n = keys.height
        valid = np.flatnonzero(np.abs(vectors).sum(axis=1) > 0)
        k = self.clusters or max(1, len(valid) // ROWS_PER_CLUSTER)
        labels, centres = kmeans(vectors[valid], k, self.seed)
        rank = self.rank(keys, valid, vectors[valid], centres[labels])
        order = np.lexsort((valid, rank, labels))
        bounds_at = np.flatnonzero(np.diff(labels[order])) + 1
        duplicate_of = np.full(n, -1, np.int64)
        similarity = np.zeros(n, np.float32)
        for group in np.split(order, bounds_at):
            members = valid[group]
            earlier, cosine = greedy_walk(vectors[members], self.threshold)
            hit = earlier >= 0
            duplicate_of[members[hit]] = members[earlier[hit]]
            similarity[members[hit]] = cosine[hit]
        removed = duplicate_of >= 0
        cluster = np.full(n, -1, np.int64)
        cluster[valid] = labels
        kept = pl.Series(~removed)
        return pl.DataFrame(
            {
                "__shard": keys["__shard"],
                "__row": keys["__row"],
                "reason": pl.Series(removed).replace_strict(
                    {True: "semantic_duplicate", False: None}, return_dtype=pl.String
                ),
                "duplicate_of": keys["id"].gather(np.maximum(duplicate_of, 0)).set(kept, None),
                "similarity": pl.Series(similarity).set(kept, None),
                "__kmeans": pl.Series(cluster).set(pl.Series(cluster < 0), None),
            }
        )

    def rank(
        self, keys: pl.DataFrame, valid: np.ndarray, vectors: np.ndarray, centres: np.ndarray
    ) -> np.ndarray:
        """The `keep` rule as a sort key over the valid rows: least first, ties in input order."""
        if self.keep == "longest":
            return -keys[self.chars_column].to_numpy()[valid]
        if self.keep == "central":
            return -np.einsum("ij,ij->i", vectors, centres)
        return np.zeros(len(valid), np.int64)

    def tally(self, frame: pl.DataFrame) -> dict[str, int]:
        """k-means groups, duplicate groups by size (the kept row counted in), empty rows."""
        sizes = frame["duplicate_of"].drop_nulls().value_counts()["count"].to_numpy() + 1
        out = {"k-means clusters": frame["__kmeans"].drop_nulls().n_unique()}
        for label, count in cluster_histogram(sizes).items():
            if count:
                out[label.replace("clusters", "duplicate groups")] = count
        empty = frame["__kmeans"].null_count()
        if empty:
            out["rows without text (kept)"] = empty
        return out

    def describe(self) -> dict[str, Any]:
        """The encoder (name, folder, weights fingerprint, device) and the settings, without
        loading the encoder in a process that only decides."""
        clusters = self.clusters or f"auto (rows // {ROWS_PER_CLUSTER})"
        return {
            "encoder": encoder_record(self.encoder, self.device),
            "settings": f"cosine >= {self.threshold}, k-means clusters {clusters}, "
            f"keep {self.keep}, seed {self.seed}, max_length {self.max_length or 'encoder'}",
        }
