"""The numeric core of semantic dedup, apart from the step so it can be tested and timed alone:
k-means on unit vectors, and the greedy walk that keeps or removes each member of a cluster."""

from __future__ import annotations

import numpy as np

BLOCK = 1024
"""Rows compared per matrix product: a block x cluster-size float32 matrix at a time."""


def kmeans(vectors: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each vector's cluster and the cluster centres, seeded so a rerun splits alike."""
    if k <= 1 or len(vectors) <= 1:
        centre = vectors.mean(axis=0, keepdims=True) if len(vectors) else vectors[:1]
        return np.zeros(len(vectors), np.int64), centre
    from sklearn.cluster import MiniBatchKMeans

    model = MiniBatchKMeans(
        n_clusters=min(k, len(vectors)), random_state=seed, n_init=3, batch_size=4096
    ).fit(vectors)
    return model.labels_.astype(np.int64), model.cluster_centers_.astype(np.float32)


def greedy_walk(
    vectors: np.ndarray, threshold: float, block: int = BLOCK
) -> tuple[np.ndarray, np.ndarray]:
    """Walk rows in the given order; a row whose cosine to an earlier kept row reaches
    `threshold` is removed. Returns, per row, the most similar kept earlier row (-1: kept)
    and that similarity (0 when kept).

    Similarities come a block of rows at a time, as matrix products against all earlier rows;
    only rows with some earlier row at the threshold are walked one by one, against the rows
    still kept.
    """
    m = len(vectors)
    duplicate_of = np.full(m, -1, np.int64)
    similarity = np.zeros(m, np.float32)
    removed = np.zeros(m, bool)
    for start in range(0, m, block):
        end = min(start + block, m)
        sims = vectors[start:end] @ vectors[:end].T
        later = np.arange(end)[None, :] >= np.arange(start, end)[:, None]
        sims[later] = -2.0  # a row is compared with earlier rows only
        for r in np.flatnonzero(sims.max(axis=1) >= threshold):
            row = np.where(removed[:end], -2.0, sims[r])
            best = int(row.argmax())
            if row[best] >= threshold:
                removed[start + r] = True
                duplicate_of[start + r] = best
                similarity[start + r] = row[best]
    return duplicate_of, similarity
