"""Inputs and expectations the curate tests share: real texts, edge cases, near-copies."""

import random
from pathlib import Path

from winnow.curate.sources import iter_documents, resolve_source

WEB_EN_ORDER = (
    "language",
    "gopher_repetition",
    "gopher_quality",
    "c4",
    "fineweb",
    "pii",
    "exact_dedup",
)
"""FineWeb's order of steps, which the shipped web-en recipe promises."""


def read_texts(path: Path) -> list[str]:
    """Texts of a real data file, read the way a curation run reads it."""
    batches = iter_documents(resolve_source(str(path)))
    return [text for batch in batches for text in batch.docs["text"].to_list()]


SPACES = "\t\n\v\f\r \x1c\x1f\x85\xa0\u1680\u180e\u2000\u200a\u200b\u2028\u2029\u202f\u205f\u3000"
TRICKY = [
    None,
    "",
    " ",
    "\n",
    "\n\n",
    "\n\n\n",
    "word",
    "\nword\n",
    "\n\nx\n\n",
    "line\nline\nline",
    "a\n\nb\n\n\nb\n\n\n\na",
    "  para one\n\n para one \n\npara one",
    "\r\n\r\n\r\nx\r\n",
    SPACES + "x\n\ny\n\nx" + SPACES,
    "\u200bx\n\n\u180e",
    "정말 좋아요 정말 좋아요 정말 좋아요 정말 좋아요",
    "좋아요\n\n좋아요\n좋아요\n\n\n싫어요",
    "😀 😀 😀 😀 😀 😀 😀 😀 😀 😀 😀 😀",
    "🎉 party 🎉 party\n🎉 party 🎉 party",
    "a b c d e a b c d e a b c d e a b c d e a b c d e",
    "x y " * 40 + "z " + "x y " * 40,
    "one two three four five six one two three four five six seven one two three",
]


def edited(text: str, rng: random.Random, changes: int) -> str:
    """A near-copy: a few words replaced, the case and spacing of the rest changed."""
    words = text.split()
    for _ in range(changes):
        words[rng.randrange(len(words))] = rng.choice(["alpha", "omega", "delta"])
    return "  ".join(words).upper() + "\n\nShare this page"
