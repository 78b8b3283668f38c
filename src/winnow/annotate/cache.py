"""Replies kept per annotator, prompt and document, so a rerun, or a run cut short and started
again, asks only for what it does not have. One append-only JSON-lines file per annotator and
prompt; a line torn by a crash is skipped (and counted) when the file is read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import xxhash

from winnow.annotate.annotators import settings_key
from winnow.files import write_json
from winnow.workspace import Workspace


def document_key(text: str) -> str:
    """What a reply is cached under: the document's text (its id may differ between datasets)."""
    return xxhash.xxh3_128_hexdigest(text.encode("utf-8"))


class ReplyCache:
    """Cached replies of one annotator (by its settings) to one prompt (by its hash)."""

    def __init__(self, ws: Workspace, settings: dict[str, Any], prompt: dict[str, Any]) -> None:
        folder = ws.root / "runs" / "annotate" / "replies"
        stem = f"{settings_key(settings)}-{prompt['hash']}"
        self.path: Path = folder / f"{stem}.jsonl"
        self.replies: dict[str, dict[str, Any]] = {}
        self.torn = 0
        if not self.path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            write_json({"annotator": settings, "prompt": prompt}, folder / f"{stem}.json")
            return
        with self.path.open("rb+") as raw:
            raw.seek(0, 2)
            if raw.tell() and (raw.seek(-1, 2) or raw.read(1) != b"\n"):
                raw.write(b"\n")  # end a torn last line, so the next append starts afresh
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                    self.replies[entry["doc"]] = entry
                except (json.JSONDecodeError, KeyError, TypeError):
                    self.torn += 1

    def add(self, entries: list[dict[str, Any]]) -> None:
        """Append a batch of replies ({doc, reply, seconds}) and flush them to disk."""
        with self.path.open("a", encoding="utf-8") as handle:
            for entry in entries:
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self.replies[entry["doc"]] = entry
            handle.flush()
