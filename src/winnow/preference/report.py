"""What a preference set leans towards: length bias of its pairs and the languages of prompts."""

from __future__ import annotations

from collections import Counter
from typing import Any

from winnow.curate.steps.language import identify_py3langid
from winnow.preference.importers import Message, Row


def answer_chars(messages: list[Message]) -> int:
    """Characters of an answer: the contents of its messages summed."""
    return sum(len(m["content"]) for m in messages)


def mean_chars(pairs: list[Row], side: str) -> float | None:
    """Mean answer length of one side over the pairs, None when there are none."""
    if not pairs:
        return None
    return round(sum(answer_chars(r[side]) for r in pairs) / len(pairs), 1)


def length_bias(rows: list[Row]) -> dict[str, Any]:
    """Share of pairs whose chosen answer is longer (in characters) than the rejected one.

    A reward model trained on a set where this share is far from 0.5 can learn length alone.
    """
    pairs = [r for r in rows if r["chosen"] is not None]
    longer = sum(answer_chars(r["chosen"]) > answer_chars(r["rejected"]) for r in pairs)
    shorter = sum(answer_chars(r["chosen"]) < answer_chars(r["rejected"]) for r in pairs)
    return {
        "pairs": len(pairs),
        "chosen_longer": longer,
        "chosen_shorter": shorter,
        "equal_length": len(pairs) - longer - shorter,
        "share_chosen_longer": round(longer / len(pairs), 4) if pairs else None,
        "mean_chosen_chars": mean_chars(pairs, "chosen"),
        "mean_rejected_chars": mean_chars(pairs, "rejected"),
    }


def last_user_turn(prompt: list[Message]) -> str:
    """The content of the prompt's last user message ('' when there is none)."""
    return next((m["content"] for m in reversed(prompt) if m["role"] == "user"), "")


def language_mix(rows: list[Row]) -> dict[str, int]:
    """Rows per language of the prompt's last user turn (py3langid), most common first."""
    texts = [last_user_turn(r["prompt"]) for r in rows]
    langs, _ = identify_py3langid(texts)
    return dict(Counter(langs).most_common())


def label_counts(rows: list[Row]) -> dict[str, int]:
    """Desirable and undesirable counts of unpaired (KTO) rows."""
    labels = [r["label"] for r in rows if r["label"] is not None]
    return {"desirable": sum(labels), "undesirable": len(labels) - sum(labels)}
