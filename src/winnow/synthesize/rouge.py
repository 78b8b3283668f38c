"""ROUGE-L F-measure over words, and the filter that drops rows too similar to the pool.

Tokenization: the text is lowercased and its words are the runs of Unicode word characters
(`\\w+`, so Hangul and digits count, punctuation does not). ROUGE-L's F is
2·P·R / (P + R) with P = LCS / candidate words and R = LCS / reference words (rouge_score's
`rougeL` with beta 1, save for its ASCII-only tokenizer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The lowercased word tokens ROUGE-L compares."""
    return WORD.findall(text.lower())


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two token lists (one DP row at a time)."""
    if not a or not b:
        return 0
    vocab = {w: i for i, w in enumerate(dict.fromkeys(a + b))}
    codes_b = np.array([vocab[w] for w in b])
    row = np.zeros(len(b) + 1, dtype=np.int64)
    for word in a:
        match = np.concatenate(([False], codes_b == vocab[word]))
        diag = np.where(match[1:], row[:-1] + 1, 0)
        upper = np.maximum(row[1:], diag)
        row = np.concatenate(([0], np.maximum.accumulate(upper)))
    return int(row[-1])


def rouge_l(candidate: list[str], reference: list[str]) -> float:
    """ROUGE-L F-measure of two token lists (0 when either is empty)."""
    common = lcs_length(candidate, reference)
    if not common:
        return 0.0
    precision, recall = common / len(candidate), common / len(reference)
    return 2 * precision * recall / (precision + recall)


def normalized(text: str) -> str:
    """The instruction as compared for exact copies: lowercased, whitespace collapsed."""
    return " ".join(text.lower().split())


@dataclass
class Pool:
    """Instructions so far (seeds, then kept rows), for the duplicate and ROUGE-L checks."""

    threshold: float
    tokens: list[list[str]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def add(self, instruction: str) -> None:
        """Put an instruction in the pool."""
        self.tokens.append(words(instruction))
        self.texts.append(instruction)
        self.seen.add(normalized(instruction))

    def reason(self, instruction: str) -> str | None:
        """Why an instruction is dropped (duplicate, too similar), or None to keep it."""
        if normalized(instruction) in self.seen:
            return "duplicate: the instruction is already in the pool"
        candidate = words(instruction)
        best, closest = 0.0, ""
        for tokens, text in zip(self.tokens, self.texts, strict=True):
            score = rouge_l(candidate, tokens)
            if score > best:
                best, closest = score, text
        if best > self.threshold:
            return f"too_similar: ROUGE-L {best:.3f} > {self.threshold} to '{closest[:80]}'"
        return None
