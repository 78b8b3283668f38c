"""Why a row went, in numbers: each removal reason's score column, the step parameter that holds
its threshold and the comparison that removed it, so the page can say "top_2_gram_frac 0.42 >
0.20" instead of a bare reason."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import polars as pl

from winnow.curate.dedup.minhash import lsh
from winnow.curate.dedup.minhash.core import MinhashSettings
from winnow.curate.steps import STEPS, build_step

Limit = Callable[[Any, dict[str, Any]], Any]
"""The threshold a rule applied to a row, from the step's parameters and the row."""


@dataclass(frozen=True)
class Rule:
    """How one reason was decided: the row's measured column, the comparison, the threshold."""

    column: str
    op: str
    limit: Limit


def param(name: str) -> Limit:
    """The threshold in one step parameter."""
    return lambda step, row: getattr(step, name)


def korean_or(korean: str, other: str) -> Limit:
    """gopher_quality's bound for a Hangul row or for any other row (its `_by_script`)."""

    def pick(step: Any, row: dict[str, Any]) -> Any:
        share = row.get("gopher_quality_hangul_share") or 0
        return getattr(step, korean if share >= step.korean_min_hangul_share else other)

    return pick


def ngram(field: str, n: int) -> Limit:
    """gopher_repetition's threshold for n-grams of size n in a (n, fraction) table."""
    return lambda step, row: dict(getattr(step, field)).get(n)


RULES: dict[tuple[str, str], Rule] = {
    ("language", "language_not_allowed"): Rule("language", "not in", param("languages")),
    ("language", "language_score_below_threshold"): Rule("language_score", "<", param("min_score")),
    **{
        ("gopher_repetition", reason): Rule(f"gopher_repetition_{reason}", ">", param(reason))
        for reason in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac")
    },
    **{
        ("gopher_repetition", f"top_{n}_gram"): Rule(
            f"gopher_repetition_top_{n}_gram_frac", ">", ngram("top_n_grams", n)
        )
        for n in range(1, 11)
    },
    **{
        ("gopher_repetition", f"duplicated_{n}_n_grams"): Rule(
            f"gopher_repetition_dup_{n}_gram_frac", ">", ngram("dup_n_grams", n)
        )
        for n in range(1, 11)
    },
    ("gopher_quality", "gopher_short_doc"): Rule(
        "gopher_quality_n_words", "<", korean_or("korean_min_doc_words", "min_doc_words")
    ),
    ("gopher_quality", "gopher_long_doc"): Rule(
        "gopher_quality_n_words", ">", param("max_doc_words")
    ),
    ("gopher_quality", "gopher_below_avg_threshold"): Rule(
        "gopher_quality_avg_word_length",
        "<",
        korean_or("korean_min_avg_word_length", "min_avg_word_length"),
    ),
    ("gopher_quality", "gopher_above_avg_threshold"): Rule(
        "gopher_quality_avg_word_length",
        ">",
        korean_or("korean_max_avg_word_length", "max_avg_word_length"),
    ),
    ("gopher_quality", "gopher_too_many_hashes"): Rule(
        "gopher_quality_hash_ratio", ">", param("max_symbol_word_ratio")
    ),
    ("gopher_quality", "gopher_too_many_ellipsis"): Rule(
        "gopher_quality_ellipsis_ratio", ">", param("max_symbol_word_ratio")
    ),
    ("gopher_quality", "gopher_too_many_bullets"): Rule(
        "gopher_quality_bullet_lines_ratio", ">", param("max_bullet_lines_ratio")
    ),
    ("gopher_quality", "gopher_too_many_end_ellipsis"): Rule(
        "gopher_quality_ellipsis_lines_ratio", ">", param("max_ellipsis_lines_ratio")
    ),
    ("gopher_quality", "gopher_below_alpha_threshold"): Rule(
        "gopher_quality_alpha_words_ratio", "<", param("max_non_alpha_words_ratio")
    ),
    ("gopher_quality", "gopher_enough_stop_words"): Rule(
        "gopher_quality_n_stop_words", "<", param("min_stop_words")
    ),
    ("c4", "too_few_sentences"): Rule("c4_n_sentences", "<", param("min_num_sentences")),
    ("fineweb", "line_punct_ratio"): Rule("fineweb_line_punct_ratio", "<", param("line_punct_thr")),
    ("fineweb", "short_line_ratio"): Rule("fineweb_short_line_ratio", ">", param("short_line_thr")),
    ("fineweb", "char_dup_ratio"): Rule(
        "fineweb_char_dup_ratio", ">", param("char_duplicates_ratio")
    ),
    ("fineweb", "list_ratio"): Rule("fineweb_list_ratio", ">", param("new_line_ratio")),
    ("short_text", "too_short"): Rule("short_text_letters", "<", param("min_letters")),
    ("short_text", "repetitive"): Rule("short_text_run_share", ">", param("max_run_share")),
    ("quality_classifier", "low_quality"): Rule("quality_score", "<", param("threshold")),
    ("badwords", "too_many_badwords"): Rule("badwords_fraction", ">", param("max_fraction")),
}
"""(step, reason) -> the rule behind it, as each step's `reason()` in curate/steps applies it."""


def recipe_entry(manifest: dict[str, Any], step: str) -> dict[str, Any]:
    """The step's entry in the recipe that made the version (the first, if it ran twice)."""
    entries = (manifest.get("recipe") or {}).get("steps") or []
    return next((e for e in entries if e.get("step") == step), {"step": step})


def parameters(entry: dict[str, Any]) -> Any:
    """The step as the recipe built it; when it cannot be built here (a model file that is not
    on this machine), its recipe values over the class defaults."""
    try:
        return build_step(entry, "the manifest's recipe")
    except Exception:  # noqa: BLE001 - any failure falls back to plain values
        cls = STEPS.get(entry.get("step", ""))
        fields = dataclasses.fields(cls) if cls else ()
        values = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
        values |= {k: v for k, v in entry.items() if k != "step"}
        return SimpleNamespace(**values)


def number(value: Any, decimals: int) -> str:
    """A measured value or threshold as the page shows it."""
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def decimals_apart(value: Any, limit: Any) -> int:
    """The fewest decimals (two or more) that show a float value apart from its threshold."""
    places = 2
    if isinstance(value, float) and isinstance(limit, int | float):
        while places < 6 and round(value, places) == round(limit, places):
            places += 1
    return places


def explain(manifest: dict[str, Any], row: dict[str, Any]) -> str | None:
    """ "COLUMN VALUE OP THRESHOLD" for a removed row, or None when no rule or value is known."""
    rule = RULES.get((row.get("step") or "", row.get("reason") or ""))
    if rule is None or row.get(rule.column) is None:
        return None
    step = parameters(recipe_entry(manifest, row["step"]))
    limit = rule.limit(step, row)
    if limit is None:
        return None
    value = row[rule.column]
    places = decimals_apart(value, limit)
    short = rule.column.removeprefix(f"{row['step']}_")
    name = short if "_" in short else rule.column
    return f"{name} {number(value, places)} {rule.op} {number(limit, places)}"


def minhash_step(manifest: dict[str, Any]) -> MinhashSettings:
    """The recipe's minhash_dedup step, or its defaults when the recipe has none."""
    step = parameters(recipe_entry(manifest, "minhash_dedup"))
    return step if isinstance(step, MinhashSettings) else MinhashSettings()


def similarity(step: MinhashSettings, text: str, other: str) -> float:
    """Exact Jaccard similarity of two texts' shingle sets, shingled as the minhash_dedup step
    shingles them; 0 when a text has no shingle."""
    hashes, first, _ = step.shingle_hashes(pl.Series([text or "", other or ""], dtype=pl.Utf8))
    if min(np.diff(first)) == 0:
        return float(text == other)
    values = (hashes >> np.uint64(32)).astype(np.uint32)
    pair = lsh.jaccard(values, first, np.array([0]), np.array([1]))
    return float(pair[0])
