"""Curation steps; importing this package registers every built-in step by name."""

from winnow.curate.steps import (  # noqa: F401  (imported to register)
    badwords,
    base,
    c4,
    decontaminate,
    exact_dedup,
    fineweb,
    gopher_quality,
    gopher_repetition,
    hf_classifier,
    instruct_language,
    instruct_length,
    instruct_refusal,
    instruct_repetition,
    instruct_template,
    language,
    minhash_dedup,
    normalize,
    pii,
    quality_classifier,
    select_diverse,
)
from winnow.curate.steps.base import STEPS, Step, build_step, register

__all__ = ["STEPS", "Step", "build_step", "register"]
