"""Check imported preference rows and drop exact duplicates, keeping every reason counted."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace

from winnow.preference.importers import Candidate, Message, Reject, Row

DUPLICATE = "duplicate_pair"
"""Reason of a row whose (prompt, chosen, rejected) already appeared; it goes to rejected/."""


def blank(messages: list[Message] | None) -> bool:
    """True when a side has no message with visible content."""
    return not messages or not any(m["content"].strip() for m in messages)


def turns_problem(prompt: list[Message]) -> str | None:
    """Why a prompt's turns are out of order, or None: after an optional system message they
    must alternate user, assistant, ... and end with the user turn being answered."""
    roles = [m["role"] for m in prompt]
    turns = roles[1:] if roles and roles[0] == "system" else roles
    expected = ["user", "assistant"] * (len(turns) // 2) + ["user"]
    if turns == expected:
        return None
    return (
        "the prompt's turns should alternate user, assistant and end with the user "
        f"(got {', '.join(roles)})"
    )


def problem(row: Row) -> Reject | None:
    """Why an imported row is unusable (empty or out-of-order prompt, empty side, a side that
    is not the assistant's answer, identical sides), or None."""
    if blank(row["prompt"]) or not any(m["role"] == "user" for m in row["prompt"]):
        return Reject("empty_prompt", "the prompt has no user turn with content")
    broken = turns_problem(row["prompt"])
    if broken:
        return Reject("broken_history", broken)
    sides = ("completion",) if row["label"] is not None else ("chosen", "rejected")
    for side in sides:
        if blank(row[side]):
            return Reject(f"empty_{side}", f"the {side} answer is empty")
        roles = sorted({m["role"] for m in row[side]} - {"assistant"})
        if roles:
            return Reject(
                "no_assistant_turn",
                f"the {side} side holds {', '.join(roles)} messages; an answer is the assistant's",
            )
    if row["label"] is None and [m["content"].strip() for m in row["chosen"]] == [
        m["content"].strip() for m in row["rejected"]
    ]:
        return Reject("identical_chosen_rejected", "chosen and rejected answers are the same")
    return None


def pair_key(row: Row) -> str:
    """The exact content a duplicate shares: prompt, chosen, rejected (completion, label)."""
    parts = [row["prompt"], row["chosen"], row["rejected"], row["completion"], row["label"]]
    return json.dumps(parts, ensure_ascii=False, sort_keys=True)


@dataclass
class Checked:
    """Rows split three ways: kept, rejected as duplicates, quarantined with a reason."""

    kept: list[Row] = field(default_factory=list)
    duplicates: list[Row] = field(default_factory=list)
    quarantined: list[Candidate] = field(default_factory=list)

    def reasons(self) -> dict[str, int]:
        """Rows per reason, quarantined and rejected together (the dashboard lists them)."""
        return dict(sorted((self.quarantine_reasons() | self.rejected_reasons()).items()))

    def quarantine_reasons(self) -> dict[str, int]:
        """Rows per reason that could not become a usable row and went to quarantine/."""
        return dict(sorted(Counter(c.reject.reason for c in self.quarantined if c.reject).items()))

    def rejected_reasons(self) -> dict[str, int]:
        """Usable rows a rule removed to rejected/ (exact duplicates), per reason."""
        return {DUPLICATE: len(self.duplicates)} if self.duplicates else {}


def check(candidates: list[Candidate]) -> Checked:
    """Quarantine unreadable and invalid rows, then keep the first of each exact duplicate."""
    checked = Checked()
    seen: dict[str, str] = {}
    for candidate in candidates:
        if candidate.row is None:
            checked.quarantined.append(candidate)
            continue
        reject = problem(candidate.row)
        if reject is not None:
            checked.quarantined.append(replace(candidate, row=None, reject=reject))
            continue
        key = pair_key(candidate.row)
        if key in seen:
            checked.duplicates.append({**candidate.row, "duplicate_of": seen[key]})
            continue
        seen[key] = candidate.row["id"]
        checked.kept.append(candidate.row)
    return checked
