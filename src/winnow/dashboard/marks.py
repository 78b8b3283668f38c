"""A row's text as HTML with the search's matches marked, and a word diff of a near-duplicate
against its original; the text is escaped first, so a row can never inject markup."""

from __future__ import annotations

import difflib
import html
import re

BOX = (
    "<div style='white-space: pre-wrap; font-family: monospace; font-size: 0.9rem; "
    "line-height: 1.5; max-height: 28rem; overflow-y: auto'>{}</div>"
)
"""The frame a text is shown in: its line breaks kept, long texts scrolled."""


def pattern(search: str, regex: bool) -> re.Pattern[str] | None:
    """The search as the page's query runs it (case-insensitive unless a regex), or None."""
    if not search:
        return None
    try:
        return re.compile(search) if regex else re.compile(re.escape(search), re.IGNORECASE)
    except re.error:
        return None


def highlighted(text: str, search: str = "", regex: bool = False) -> str:
    """The text with every match of the search wrapped in <mark>."""
    found = pattern(search, regex)
    pieces, at = [], 0
    for match in found.finditer(text) if found else ():
        if match.end() == match.start():
            continue
        pieces.append(html.escape(text[at : match.start()]))
        pieces.append(f"<mark>{html.escape(match.group())}</mark>")
        at = match.end()
    pieces.append(html.escape(text[at:]))
    return BOX.format("".join(pieces))


def word_diff(original: str, text: str) -> str:
    """Words only in the original struck through in red, words only in the text in green."""
    old, new = re.split(r"(\s+)", original), re.split(r"(\s+)", text)
    pieces = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a, b, c, d in matcher.get_opcodes():
        if op == "equal":
            pieces.append(html.escape("".join(old[a:b])))
            continue
        if b > a:
            pieces.append(f"<del style='color: #b00020'>{html.escape(''.join(old[a:b]))}</del>")
        if d > c:
            pieces.append(f"<ins style='color: #1b5e20'>{html.escape(''.join(new[c:d]))}</ins>")
    return BOX.format("".join(pieces))
