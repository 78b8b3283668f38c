"""Diverse selection to a budget (LIMA: a thousand well-chosen examples beat 52,000).

Every row's `column` (the instruction, by default) becomes a vector: with `method: tfidf`,
TF-IDF of words and word pairs (hashed, so memory does not grow with the vocabulary) reduced
to `dimensions` by truncated SVD; with `method: embedding`, the mean of a Hugging Face
encoder's last hidden states (`model`: a local folder, or a hub id once online, such as a
sentence-transformers checkpoint), computed in batches on CUDA when there is one. Vectors are
normalized. k-means splits the vectors into `clusters` groups, and the
budget is shared across them as evenly as their sizes allow (a small cluster gives all its
rows, the rest is spread over the others), so one over-represented kind of request (52k
"generate a list of..." rows) cannot fill the budget. Within each cluster farthest-point
selection picks its share: first the row nearest the centre (or the highest `score_column`),
then again and again the row least similar to everything picked so far, so near-paraphrases
are picked once. Rows left out get reason `not_selected`.

The report compares the set before and after: rows per cluster (how many clusters the
selection covers, and the largest cluster's size) and the leading word of each instruction
(the imperative verb in most instruction sets: "write", "explain"...): how many distinct
ones, and how many of the most common ones remain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import polars as pl

from winnow.curate.steps.base import GlobalContext, Step, register
from winnow.errors import WinnowError

_TOP_VERBS = 5


def vectors(texts: list[str], dimensions: int, seed: int) -> np.ndarray:
    """Unit-length TF-IDF vectors of words and word pairs, reduced by truncated SVD."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    hashed = HashingVectorizer(
        n_features=2**16, ngram_range=(1, 2), alternate_sign=False, norm=None
    ).transform(texts)
    weighted = TfidfTransformer(sublinear_tf=True).fit_transform(hashed)
    size = min(dimensions, weighted.shape[0] - 1, weighted.shape[1] - 1)
    dense = (
        TruncatedSVD(n_components=size, algorithm="arpack", random_state=seed).fit_transform(
            weighted
        )
        if size >= 2
        else weighted.toarray()
    )
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    return dense / np.where(norms > 0, norms, 1.0)


def embeddings(texts: list[str], model: str, batch_size: int) -> np.ndarray:
    """Mean-pooled last hidden states of a Hugging Face encoder, one row per text."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
        encoder = AutoModel.from_pretrained(model).to(device).eval()
    except OSError as exc:
        raise WinnowError(
            f"step select_diverse: cannot load model '{model}' ({str(exc).splitlines()[0]}); "
            "give a local folder, or download the hub id once while online."
        ) from exc
    parts = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                texts[start : start + batch_size],
                truncation=True,
                max_length=256,
                padding=True,
                return_tensors="pt",
            ).to(device)
            hidden = encoder(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            parts.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).cpu().numpy())
    dense = np.concatenate(parts) if parts else np.zeros((0, 1))
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    return dense / np.where(norms > 0, norms, 1.0)


def farthest_points(points: np.ndarray, budget: int, start: int) -> np.ndarray:
    """Greedy k-center: from `start`, keep adding the point farthest from all picked ones."""
    picked = np.empty(min(budget, len(points)), dtype=np.int64)
    picked[0] = start
    distance = 1.0 - points @ points[start]
    distance[start] = -np.inf
    for k in range(1, len(picked)):
        picked[k] = int(np.argmax(distance))
        distance = np.minimum(distance, 1.0 - points @ points[picked[k]])
        distance[picked[k]] = -np.inf
    return picked


def shares(sizes: np.ndarray, budget: int) -> np.ndarray:
    """Split a budget across groups as evenly as their sizes allow (water-filling)."""
    quota = np.zeros(len(sizes), dtype=np.int64)
    left = min(budget, int(sizes.sum()))
    while left > 0:
        open_groups = np.flatnonzero(quota < sizes)
        each = max(1, left // len(open_groups))
        for g in open_groups:
            give = min(each, sizes[g] - quota[g], left)
            quota[g] += give
            left -= give
            if left == 0:
                break
    return quota


def leading_words(texts: pl.Series) -> pl.Series:
    """The first word of each text, lower-cased, without punctuation."""
    first = texts.fill_null("").str.to_lowercase().str.extract(r"([\p{L}\p{N}']+)", 1)
    return first.fill_null("")


@register
@dataclass
class SelectDiverse(Step):
    """Keep `budget` rows that cover the set as widely as possible; leave out the rest."""

    name: ClassVar[str] = "select_diverse"
    scope: ClassVar[str] = "global"
    budget: int = 1000
    column: str = "instruction"
    method: str = "tfidf"
    dimensions: int = 64
    clusters: int = 20
    score_column: str | None = None
    model: str | None = None
    batch_size: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        """Check the parameters before any shard is read."""
        where = "step select_diverse"
        if self.budget < 1:
            raise WinnowError(f"{where}: budget {self.budget} must be at least 1.")
        if self.method not in ("tfidf", "embedding"):
            raise WinnowError(
                f"{where}: method '{self.method}' is unknown; use tfidf or embedding."
            )
        if self.method == "embedding" and not self.model:
            raise WinnowError(
                f"{where}: method embedding needs model, an encoder folder or hub id."
            )
        if self.dimensions < 2 or self.clusters < 1:
            raise WinnowError(f"{where}: dimensions must be at least 2 and clusters at least 1.")

    @property
    def key_columns(self) -> tuple[str, ...]:  # type: ignore[override]
        """The column to diversify over, and the score that picks the first row if given."""
        return (self.column, *([self.score_column] if self.score_column else []))

    def decide(self, keys: pl.DataFrame, context: GlobalContext | None = None) -> pl.DataFrame:
        """Vectorize every row, pick farthest points up to the budget, cluster for the report."""
        from sklearn.cluster import KMeans

        texts = keys[self.column].fill_null("").to_list()
        if self.method == "embedding" and self.model:
            points = embeddings(texts, self.model, self.batch_size)
        else:
            points = vectors(texts, self.dimensions, self.seed)
        k = min(self.clusters, len(texts))
        kmeans = KMeans(n_clusters=k, n_init=3, random_state=self.seed).fit(points)
        labels = kmeans.labels_
        scores = None
        if self.score_column:
            scores = keys[self.score_column].cast(pl.Float64).fill_null(-np.inf).to_numpy()
        selected = np.zeros(len(texts), dtype=bool)
        quota = shares(np.bincount(labels, minlength=k), self.budget)
        for cluster in np.flatnonzero(quota):
            members = np.flatnonzero(labels == cluster)
            centre = kmeans.cluster_centers_[cluster]
            first = members[np.argmax(scores[members])] if scores is not None else None
            start = first if first is not None else members[np.argmax(points[members] @ centre)]
            order = farthest_points(
                points[members], quota[cluster], int(np.flatnonzero(members == start)[0])
            )
            selected[members[order]] = True
        return pl.DataFrame(
            {
                "__shard": keys["__shard"],
                "__row": keys["__row"],
                "reason": pl.Series(~selected).replace_strict(
                    {True: "not_selected", False: None}, return_dtype=pl.String
                ),
                "__cluster": labels,
                "__selected": selected,
                "__verb": leading_words(keys[self.column]),
            }
        )

    def tally(self, frame: pl.DataFrame) -> dict[str, int]:
        """Cluster coverage and leading words, before and after selection."""
        after = frame.filter(pl.col("__selected"))
        out: dict[str, int] = {}
        for label, part in (("before", frame), ("after", after)):
            sizes = part["__cluster"].value_counts()["count"]
            out[f"clusters covered ({self.clusters} in all), {label}"] = sizes.len()
            out[f"rows in the largest cluster, {label}"] = int(sizes.max() or 0)
            out[f"distinct leading words, {label}"] = part["__verb"].n_unique()
        top = frame["__verb"].value_counts(sort=True).head(_TOP_VERBS)["__verb"].to_list()
        for verb in top:
            before = int((frame["__verb"] == verb).sum())
            kept = int((after["__verb"] == verb).sum())
            out[f"leading word '{verb}': before {before}, after"] = kept
        return out
