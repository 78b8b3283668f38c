"""Language identification: a language code and its probability per row, then a language filter."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from winnow.curate.rules import Rule
from winnow.curate.steps.base import Step, bounds, first_reason, register
from winnow.errors import WinnowError


@cache
def py3langid_identifier() -> Any:
    """The embedded py3langid model with normalized probabilities, loaded once per process."""
    from py3langid import langid

    return langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)


@cache
def fasttext_model(path: str) -> Any:
    """A fastText language-identification model such as lid.176, loaded once per path."""
    import fasttext

    try:
        return fasttext.load_model(path)
    except ValueError as exc:
        raise WinnowError(
            f"language: model_path '{path}' is not a fastText model ({exc}); give lid.176.bin "
            "or lid.176.ftz, or remove model_path to use the built-in py3langid model."
        ) from exc


def identify_py3langid(texts: list[str]) -> tuple[list[str], list[float]]:
    """Classify each text with py3langid (a Python loop, but a fast one per document)."""
    identifier = py3langid_identifier()
    results = [identifier.classify(t) for t in texts]
    return [lang for lang, _ in results], [float(score) for _, score in results]


def identify_fasttext(texts: list[str], path: str) -> tuple[list[str], list[float]]:
    """Classify all texts in one fastText call; its probabilities can exceed 1 by rounding."""
    labels, probs = fasttext_model(path).predict(texts, k=1)
    langs = [label[0].removeprefix("__label__") for label in labels]
    return langs, [min(float(p[0]), 1.0) for p in probs]


@register
@dataclass
class Language(Step):
    """Tag each row's language; with `languages`, keep only those identified confidently enough.

    Without `languages` the step only labels: it never drops a row (`min_score` then does
    nothing, since tables, numbers and code score low in every language). py3langid is the
    embedded default; `model_path` names a fastText model (lid.176.bin or .ftz) to use instead.
    Columns: `language` (ISO 639-1 code where one exists, null for rows with no letters) and
    `language_score` (probability of that language, 0.0 for those rows).
    Reasons (only with `languages`): `language_not_allowed` (another language, or no letters),
    `language_score_below_threshold` (an allowed language below `min_score`). Only the first
    `max_chars` characters (whitespace folded) are classified, since a language is settled long
    before the end of a long document and the cost grows with length; None reads everything.
    """

    name: ClassVar[str] = "language"
    prefix: ClassVar[str] = "language_"
    version: ClassVar[int] = 2
    """2: without `languages` no row is dropped (1 dropped rows scoring below `min_score`)."""
    languages: list[str] | None = None
    min_score: float = field(default=0.65, metadata=bounds(0, 1))
    model_path: str | None = None
    max_chars: int | None = field(default=4000, metadata=bounds(1, None))

    def __post_init__(self) -> None:
        """Fail at recipe load, not mid-run, on a bare string or a missing model file."""
        if isinstance(self.languages, str):
            raise ValueError(f"languages must be a list such as [{self.languages}], not a string")
        if self.languages is not None and not self.languages:
            raise ValueError(
                "languages is an empty list, which would drop every row; list the codes to "
                "keep, e.g. [en], or leave languages out to only label rows"
            )
        if self.model_path is not None and not Path(self.model_path).expanduser().is_file():
            raise WinnowError(
                f"language: model_path '{self.model_path}' is not a file; download a fastText "
                "language model (lid.176.bin or lid.176.ftz) there, or remove model_path to use "
                "the built-in py3langid model."
            )

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Add `language` and `language_score`, classifying only rows that contain letters."""
        flat = df.get_column("text").fill_null("").str.replace_all(r"\s+", " ").str.strip_chars()
        if self.max_chars is not None:
            flat = flat.str.slice(0, self.max_chars)
        has_letters = flat.str.contains(r"\p{L}")
        texts = flat.filter(has_letters).to_list()
        if self.model_path is None:
            langs, scores = identify_py3langid(texts)
        else:
            langs, scores = identify_fasttext(texts, str(Path(self.model_path).expanduser()))
        lang_col = pl.Series("language", [None] * df.height, dtype=pl.Utf8)
        score_col = pl.Series(self.col("score"), [0.0] * df.height, dtype=pl.Float64)
        index = has_letters.arg_true()
        lang_col = lang_col.scatter(index, pl.Series(langs, dtype=pl.Utf8))
        score_col = score_col.scatter(index, pl.Series(scores, dtype=pl.Float64))
        return df.with_columns(lang_col, score_col)

    def rules(self) -> tuple[Rule, ...]:
        """With `languages`: other languages (or no language) first, then identifications below
        `min_score`. Without: none (the step only labels)."""
        if self.languages is None:
            return ()
        return (
            Rule("language", "not in", self.languages, "language_not_allowed"),
            Rule(self.col("score"), "<", self.min_score, "language_score_below_threshold"),
        )

    def reason(self) -> pl.Expr:
        """The first rule a row breaks; without `languages` every row stays."""
        return first_reason(*self.rules())
