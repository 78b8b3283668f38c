"""Reading a score out of a reply by the prompt's stated rule, or saying why there is none."""

from __future__ import annotations

import re
from functools import cache

import polars as pl

from winnow.annotate.prompts import AnnotationPrompt
from winnow.curate.steps.instruct.refusal import fold, phrase_pattern, read_phrases

REFUSAL_LISTS = {"en": ("builtin:en",), "ko": ("builtin:ko", "builtin:en")}
"""The refusal phrase lists checked for a reply in each prompt language (English always)."""


@cache
def refusal_pattern(language: str) -> str:
    """One regex over every refusal phrase of the language's lists."""
    lists = REFUSAL_LISTS.get(language, ("builtin:en",))
    phrases = [p for source in lists for p in read_phrases(source)]
    return "|".join(f"(?:{phrase_pattern(p)})" for p in phrases)


def refused(reply: str, language: str) -> bool:
    """Whether the reply contains a refusal phrase (as the `refusal` step matches them)."""
    folded = pl.select(fold(pl.lit(reply)).str.contains(refusal_pattern(language))).item()
    return bool(folded)


def parse_score(
    reply: str, prompt: AnnotationPrompt, truncated: bool = False
) -> tuple[int | None, str | None]:
    """(score, None) when the last match of the prompt's pattern is a number within its scale,
    else (None, why): empty, truncated (the reply was cut off by the token limit right after
    the match, so "12" may read as "1"), out_of_range, refused or no_score."""
    if not reply.strip():
        return None, "empty"
    matches = list(re.finditer(prompt.pattern, reply, flags=re.IGNORECASE))
    if matches:
        if truncated and not reply[matches[-1].end() :].strip():
            return None, "truncated"
        score = int(matches[-1].group(1))
        low, high = prompt.scale
        if low <= score <= high:
            return score, None
        return None, "out_of_range"
    return None, "refused" if refused(reply, prompt.language) else "no_score"
