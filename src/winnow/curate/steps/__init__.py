"""Curation steps; importing this package registers every built-in step by name."""

from winnow.curate import dedup  # noqa: F401  (registers exact_dedup and minhash_dedup)
from winnow.curate.steps import (  # noqa: F401
    badwords,
    base,
    c4,
    decontaminate,
    fineweb,
    gopher_quality,
    gopher_repetition,
    hf_classifier,
    language,
    normalize,
    pii,
    quality_classifier,
    select_diverse,
    short_text,
)
from winnow.curate.steps.base import STEPS, Step, build_step, register
from winnow.curate.steps.instruct import (  # noqa: F401
    answer_repetition,
    instruct_length,
    language_mismatch,
    refusal,
    template_leftovers,
)

__all__ = ["STEPS", "Step", "build_step", "register"]
