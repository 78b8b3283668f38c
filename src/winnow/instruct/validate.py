"""Validation of candidate instruction rows: the reason a row is quarantined, or None.

Reasons (the part before the first colon is the counted code): `invalid_json`,
`not_a_record`, `missing_instruction`, `empty_instruction`, `missing_output`, `empty_output`,
`non_string` (instruction, input, output or system is not a string), `broken_history` (not a
list of [user, assistant] string pairs, or a conversation whose turns do not alternate and
end with the assistant), `over_token_budget`.

Token rule: a row's tokens are counted over its system, every history turn, instruction,
input and output; without a tokenizer that is ceil(characters / 4), with one it is the sum
of the pieces' token counts, encoded without special tokens.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from winnow.errors import WinnowError

TEXT_FIELDS = ("instruction", "input", "output", "system")
"""Fields that must hold strings."""

TOKEN_RULE = (
    "tokens of system, history turns, instruction, input and output: ceil(characters / 4), or "
    "the sum of --tokenizer token counts without special tokens"
)
"""The token-budget rule, recorded in the manifest."""

Counter = Callable[[list[str]], int]
"""Counts the tokens of a row's pieces of text."""


def char_tokens(pieces: list[str]) -> int:
    """The default estimate: one token per four characters, rounded up."""
    return math.ceil(sum(len(p) for p in pieces) / 4)


def tokenizer_counter(arg: str) -> Counter:
    """A counter that encodes each piece with a tokenizer.json, tokenizer folder or hub id."""
    from winnow.token_stats import load_tokenizer

    tokenizer = load_tokenizer(arg).tokenizer

    def count(pieces: list[str]) -> int:
        """Sum of the pieces' token counts, without special tokens."""
        encoded = tokenizer.encode_batch(pieces, add_special_tokens=False) if pieces else []
        return sum(len(e.ids) for e in encoded)

    return count


def history_problem(history: Any) -> str | None:
    """Why a history is not a list of [user, assistant] string pairs, or None."""
    if not isinstance(history, list):
        return f"broken_history: history is a {type(history).__name__}, not a list of pairs"
    for number, pair in enumerate(history, start=1):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            return f"broken_history: turn {number} is not a [user, assistant] pair"
        if not all(isinstance(t, str) for t in pair):
            return f"broken_history: turn {number} holds a non-string"
    return None


def text_pieces(row: dict[str, Any]) -> list[str]:
    """Every piece of text of a valid row, in conversation order."""
    pieces = [row["system"]] if row["system"] else []
    for user, assistant in row["history"]:
        pieces += [user, assistant]
    pieces += [row["instruction"], row["input"], row["output"]]
    return [p for p in pieces if p]


def row_problem(row: dict[str, Any], max_tokens: int | None, count: Counter) -> str | None:
    """The quarantine reason of a candidate row, or None when it is usable."""
    if row.get("problem"):
        return str(row["problem"])
    for field in ("instruction", "output"):
        value = row.get(field)
        if value is None:
            return f"missing_{field}: no {field}"
    for field in TEXT_FIELDS:
        value = row.get(field)
        if not isinstance(value, str):
            return f"non_string: {field} is a {type(value).__name__}, not a string"
    for field in ("instruction", "output"):
        if not row[field].strip():
            return f"empty_{field}: the {field} is blank"
    problem = history_problem(row.get("history"))
    if problem:
        return problem
    if max_tokens is not None:
        tokens = count(text_pieces(row))
        if tokens > max_tokens:
            return f"over_token_budget: {tokens} tokens > --max-tokens {max_tokens}"
    return None


def check_budget(max_tokens: int | None) -> None:
    """Refuse a budget that would quarantine every row."""
    if max_tokens is not None and max_tokens < 1:
        raise WinnowError(
            f"--max-tokens {max_tokens}: must be at least 1; raise it or leave it out."
        )
