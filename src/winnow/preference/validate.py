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


def problem(row: Row) -> Reject | None:
    """Why an imported row is unusable (empty side, identical sides), or None."""
    if blank(row["prompt"]) or not any(m["role"] == "user" for m in row["prompt"]):
        return Reject("empty_prompt", "the prompt has no user turn with content")
    sides = ("completion",) if row["label"] is not None else ("chosen", "rejected")
    for side in sides:
        if blank(row[side]):
            return Reject(f"empty_{side}", f"the {side} answer is empty")
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
        """How many rows each reason removed, quarantine and duplicates together."""
        counts = Counter(c.reject.reason for c in self.quarantined if c.reject)
        if self.duplicates:
            counts[DUPLICATE] = len(self.duplicates)
        return dict(sorted(counts.items()))


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
