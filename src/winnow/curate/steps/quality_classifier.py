"""Model-based quality filtering with a fastText classifier (GPT-3, Llama 3, DCLM)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from winnow.curate.quality_model import POSITIVE, check_label, load_model, score_texts
from winnow.curate.rules import Rule
from winnow.curate.steps.base import Step, first_reason, register
from winnow.errors import WinnowError


@register
@dataclass
class QualityClassifier(Step):
    """Score rows with a fastText quality model; drop those below `threshold`.

    `model` is a .bin from `winnow curate quality train` (or any fastText classifier, naming
    its positive `label`). Column: `quality_score`, the probability of `label` (0 for rows
    with no words), the whole shard in one fastText call. Reason: `low_quality`. The model
    loads once per process and path (and reloads when the file changes); the step itself
    holds only its parameters, so worker processes get it cheaply.
    """

    name: ClassVar[str] = "quality_classifier"
    prefix: ClassVar[str] = "quality_"
    model: str = ""
    threshold: float = 0.5
    label: str = POSITIVE

    def __post_init__(self) -> None:
        """Fail at recipe load, not mid-run, on a missing model, label or bad threshold."""
        if not self.model:
            raise WinnowError(
                "step quality_classifier: 'model' is required; give the path of a model made "
                "by 'winnow curate quality train'."
            )
        if isinstance(self.threshold, bool) or not 0.0 <= self.threshold <= 1.0:
            raise WinnowError(
                f"step quality_classifier: threshold {self.threshold} must be between 0 and 1; "
                "it is a probability (0.5 splits the classes evenly)."
            )
        check_label(self._model(), self.label, f"step quality_classifier ({self.model})")

    def _model(self) -> Any:
        """The loaded fastText model, from the per-process cache."""
        return load_model(Path(self.model))

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Add `quality_score` for every row."""
        model = self._model()
        wanted = check_label(model, self.label, f"step quality_classifier ({self.model})")
        scores = score_texts(model, df.get_column("text"), wanted)
        return df.with_columns(pl.Series(self.col("score"), scores, dtype=pl.Float64))

    def rules(self) -> tuple[Rule, ...]:
        """A score below the threshold."""
        return (Rule(self.col("score"), "<", self.threshold, "low_quality"),)

    def reason(self) -> pl.Expr:
        """Drop rows whose score is below the threshold."""
        return first_reason(*self.rules())
