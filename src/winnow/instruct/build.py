"""Turn an instruction file into schema rows (with renders) and quarantined rows with reasons.

Schema: `id, instruction, input, output, system, history, source, lang, meta`, then the
renders `text, messages, prompt, completion`. `history` is List(List(String)) of [user,
assistant] pairs; `meta` is the JSON object of the record's columns its format does not read
(null when there are none); `messages`, `prompt` and `completion` are List(Struct(role,
content)). A dataset version stores these nested columns as their JSON text, like every
Winnow source.
"""

from __future__ import annotations

import json
from collections import Counter as Tally
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import xxhash

from winnow.curate.readers.base import QUARANTINE_SCHEMA, RAW_LIMIT
from winnow.curate.steps.language import identify_py3langid
from winnow.errors import WinnowError
from winnow.instruct.importers import import_candidates
from winnow.instruct.render import render_row
from winnow.instruct.validate import Counter, char_tokens, check_budget, row_problem
from winnow.records import EmptyFile, SourceFile

MESSAGE = pl.List(pl.Struct({"role": pl.Utf8, "content": pl.Utf8}))
"""The type of `messages`, `prompt` and `completion`."""

SCHEMA = {
    "id": pl.Utf8,
    "instruction": pl.Utf8,
    "input": pl.Utf8,
    "output": pl.Utf8,
    "system": pl.Utf8,
    "history": pl.List(pl.List(pl.Utf8)),
    "source": pl.Utf8,
    "lang": pl.Utf8,
    "meta": pl.Utf8,
    "text": pl.Utf8,
    "messages": MESSAGE,
    "prompt": MESSAGE,
    "completion": MESSAGE,
}
"""Columns of imported instruction rows, in order."""


@dataclass
class Imported:
    """An imported file: its format, usable rows, quarantined rows and reason counts, and
    warnings (files of a folder that held no record and were left out)."""

    format: str
    rows: pl.DataFrame
    quarantine: pl.DataFrame
    reasons: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


Seen = dict[str, tuple[str, int]]
"""The ids given so far in an import, with the file and line that gave each first."""


def duplicate_problem(row_id: str, seen: Seen, path: Path, line: int) -> str | None:
    """`duplicate_id` when an earlier row of the import has this id (the first keeps it),
    else None after recording it: ids must be unique within a dataset version."""
    if row_id not in seen:
        seen[row_id] = (str(path), line)
        return None
    file, first = seen[row_id]
    shown = row_id if len(row_id) <= 80 else row_id[:77] + "..."
    return (
        f"duplicate_id: id {shown!r} is already the id of {file} line {first}; ids must be "
        "unique within a dataset, so this row is set aside: give each record its own id"
    )


def stable_id(source: str, position: str) -> str:
    """The id of a row without its own: xxh64 of the source name and position."""
    return xxhash.xxh64_hexdigest(f"{source}\x1f{position}".encode())


def languages(rows: list[dict[str, Any]]) -> list[str | None]:
    """py3langid's language of each row's instruction and output together."""
    texts = [f"{r['instruction']}\n{r['output']}" for r in rows]
    langs, _ = identify_py3langid(texts)
    return langs


def import_file(
    path: Path,
    fmt: str = "auto",
    mapping: dict[str, str] | None = None,
    max_tokens: int | None = None,
    count: Counter = char_tokens,
    name: str | None = None,
    seen: Seen | None = None,
) -> Imported:
    """Import, validate and render one file; every record ends up in rows or quarantine.

    `name` (the file's name by default) becomes the rows' `source` and seeds their ids;
    `seen` carries the ids of files imported before, for `duplicate_id`.
    """
    check_budget(max_tokens)
    used, candidates = import_candidates(path, fmt, mapping)
    source = name or path.name
    seen = {} if seen is None else seen
    good: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    reasons: Tally[str] = Tally()
    for cand in candidates:
        problem = row_problem(cand, max_tokens, count)
        row_id = (cand.get("id") or stable_id(source, cand["position"])) if not problem else ""
        if not problem:
            problem = duplicate_problem(row_id, seen, path, cand["line"])
        if problem:
            reasons[problem.split(":")[0]] += 1
            error = f"line {cand['line']}: {problem}; fix the record or leave it out"
            bad.append(
                {
                    "source_file": str(path),
                    "line": cand["line"],
                    "error": error,
                    "raw": cand["raw"][:RAW_LIMIT],
                }
            )
            continue
        row = {k: cand[k] for k in ("instruction", "input", "output", "system")}
        row["history"] = [list(pair) for pair in cand["history"]]
        row["id"] = row_id
        row["source"] = source
        meta = cand["meta"]
        row["meta"] = json.dumps(meta, ensure_ascii=False, default=str) if meta else None
        good.append(row)
    for row, lang in zip(good, languages(good), strict=True):
        row["lang"] = lang
        row.update(render_row(row))
    rows = pl.DataFrame(good, schema=SCHEMA) if good else pl.DataFrame(schema=SCHEMA)
    quarantine = pl.DataFrame(bad, schema=QUARANTINE_SCHEMA)
    return Imported(used, rows.select(list(SCHEMA)), quarantine, dict(sorted(reasons.items())))


def import_files(
    files: list[SourceFile],
    fmt: str = "auto",
    mapping: dict[str, str] | None = None,
    max_tokens: int | None = None,
    count: Counter = char_tokens,
) -> Imported:
    """Import several files as one set, each detected on its own when `fmt` is auto.

    `format` names every format met, in file order, joined by `+`. Ids are unique across
    the files (`duplicate_id` sets a later row aside). An empty file is an error when it is
    the only one, and is left out with a warning when it is one of several.
    """
    seen: Seen = {}
    parts: list[Imported] = []
    warnings: list[str] = []
    for path, name in files:
        try:
            parts.append(import_file(path, fmt, mapping, max_tokens, count, name, seen))
        except EmptyFile as exc:
            if len(files) == 1:
                raise
            warnings.append(f"{str(exc).split('; ')[0]}; left out")
    if not parts:
        raise WinnowError(
            f"all {len(files)} files are empty ({'; '.join(warnings)}); give files with records."
        )
    formats = list(dict.fromkeys(part.format for part in parts))
    reasons: Tally[str] = Tally()
    for part in parts:
        reasons.update(part.reasons)
    return Imported(
        "+".join(formats),
        pl.concat([part.rows for part in parts]),
        pl.concat([part.quarantine for part in parts]),
        dict(sorted(reasons.items())),
        warnings,
    )
