"""Model-based quality filtering on sentence embeddings (FineWeb-Edu's recipe, small and local).

`model` is a folder from `winnow curate quality train-embed`: the head's weights and a card
naming the encoder it was trained on. Rows are embedded with that encoder (refused when the
encoder installed here has other weights) in batches of `batch_size`, on CUDA when there is one
(`device: auto`), and scored by the head: the kept class's probability, or for a regression
head the predicted score (e.g. 0-5 educational value). Column: `<column>` (default
`embed_score`). Rows scoring below `threshold` (default: the card's chosen threshold) are
dropped as `below_threshold`, as `hf_classifier` does. Tally: `docs_scored` and
`scoring_ms`, summed over shards, so the run's documents per second is their ratio; the
step's details show the encoder, device and this worker's documents per second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import polars as pl

from winnow.curate.embed_model import EmbedModel, check_encoder, load_embed_model, score_texts
from winnow.curate.rules import Rule
from winnow.curate.steps.base import Step, bounds, first_reason, register
from winnow.errors import WinnowError


@register
@dataclass
class EmbedClassifier(Step):
    """Score rows with an embedding quality model; drop those below `threshold`."""

    name: ClassVar[str] = "embed_classifier"
    model: str = ""
    threshold: float | None = field(default=None, metadata=bounds(None, None))  # scores
    column: str = "embed_score"
    batch_size: int = 64
    device: str = "auto"

    def __post_init__(self) -> None:
        """Fail at recipe load, not mid-run: a missing model, another encoder, bad settings."""
        where = "step embed_classifier"
        if not self.model:
            raise WinnowError(
                f"{where}: 'model' is required; give the folder written by 'winnow curate "
                "quality train-embed'."
            )
        if self.device not in ("auto", "cpu", "cuda"):
            raise WinnowError(f"{where}: device '{self.device}': use auto, cpu or cuda.")
        if isinstance(self.batch_size, bool) or self.batch_size < 1:
            raise WinnowError(f"{where}: batch_size must be at least 1; write e.g. 64.")
        if not self.column or self.column in ("id", "text"):
            raise WinnowError(f"{where}: column '{self.column}' must be a new column name.")
        loaded = self._model()
        check_encoder(loaded, f"{where} ({self.model})")
        if self.threshold is None:
            self.threshold = float(loaded.card["threshold"])
        if loaded.objective == "classify" and not 0.0 <= self.threshold <= 1.0:
            raise WinnowError(
                f"{where}: threshold {self.threshold} must be between 0 and 1 for this model, "
                "whose score is a probability; leave it out to use the card's chosen one."
            )
        self._docs = 0
        self._seconds = 0.0
        self._last = (0, 0.0)

    def _model(self) -> EmbedModel:
        """The loaded head and card, from the per-process cache."""
        return load_embed_model(self.model)

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Add `<column>` for every row, embedding the shard in batches."""
        started = time.perf_counter()
        scores = score_texts(self._model(), df.get_column("text"), self.batch_size, self.device)
        seconds = time.perf_counter() - started
        self._last = (df.height, seconds)
        self._docs += df.height
        self._seconds += seconds
        return df.with_columns(pl.Series(self.column, scores, dtype=pl.Float64))

    def rules(self) -> tuple[Rule, ...]:
        """A score below the threshold; none known for a step read back unbuilt (the
        dashboard's fallback for a model folder that is not on this machine)."""
        if self.threshold is None:
            return ()
        return (Rule(self.column, "<", self.threshold, "below_threshold"),)

    def reason(self) -> pl.Expr:
        """Drop rows whose score is below the threshold."""
        return first_reason(*self.rules())

    def tally(self, frame: pl.DataFrame) -> dict[str, int]:
        """Rows scored and the milliseconds scoring them took (embedding included)."""
        docs, seconds = getattr(self, "_last", (0, 0.0))
        return {"docs_scored": docs, "scoring_ms": round(seconds * 1000)}

    def describe(self) -> dict[str, Any]:
        """The encoder, device, threshold and this worker's documents per second so far."""
        from winnow.embed.encoder import pick_device

        card = self._model().card
        docs, seconds = getattr(self, "_docs", 0), getattr(self, "_seconds", 0.0)
        return {
            "encoder": f"{card['encoder']['name']} ({card['encoder']['fingerprint']})",
            "head": f"{card['head']['type']} {card['head']['objective']}",
            "threshold": self.threshold,
            "device": pick_device(self.device),
            "docs_per_second": round(docs / seconds, 1) if seconds else None,
        }
