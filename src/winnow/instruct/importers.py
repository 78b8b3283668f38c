"""Importers: Alpaca (KoAlpaca too), ShareGPT, OpenAI messages, Dolly, question/answer CSV and
self-instruct files, read into candidate instruction rows that validation then accepts or
quarantines.

A candidate is a dict with `line` (1-based record number), `position` (the line, or `line.k`
for self-instruct instance k; ids are hashed from it), `id`, `instruction`, `input`, `output`,
`system`, `history`, `meta` (the record's columns its format does not read, such as KoAlpaca
v1.1's `url` or a CSV's `label`) and `raw` (the record as JSON, for the quarantine). Values are
passed on as found, so that validation can say what is wrong with them; `problem` is set when a
record's shape cannot be mapped at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from winnow.errors import WinnowError
from winnow.records import broken_reason, json_kind
from winnow.records import read_records as records_of

Record = dict[str, Any]
Candidate = dict[str, Any]

REQUIRED_KEYS: dict[str, frozenset[str]] = {
    "alpaca": frozenset({"instruction", "output"}),
    "sharegpt": frozenset({"conversations"}),
    "messages": frozenset({"messages"}),
    "dolly": frozenset({"instruction", "context", "response"}),
    "qa-csv": frozenset({"question", "answer"}),
    "self-instruct": frozenset({"instruction", "instances"}),
}
"""The keys (after --map) whose presence in the first records makes a file that format."""

READ_KEYS: dict[str, frozenset[str]] = {
    "alpaca": frozenset({"id", "instruction", "input", "output", "system", "history"}),
    "sharegpt": frozenset({"id", "conversations", "system"}),
    "messages": frozenset({"id", "messages", "system"}),
    "dolly": frozenset({"id", "instruction", "context", "response"}),
    "qa-csv": frozenset({"id", "question", "answer", "input", "system"}),
    "self-instruct": frozenset({"id", "instruction", "instances"}),
}
"""The keys each format reads; a record's other keys are kept as the row's `meta`."""

FORMATS = tuple(REQUIRED_KEYS)
"""Every format `--format` accepts besides `auto`."""

DETECT_RECORDS = 20
"""How many leading records format detection and the --map check look at."""

USER_ROLES = {"human": "user", "user": "user"}
ASSISTANT_ROLES = {"gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant"}
SYSTEM_ROLES = {"system": "system"}
"""ShareGPT `from` and OpenAI `role` names, mapped to user, assistant and system."""


def parse_map(spec: str | None) -> dict[str, str]:
    """Parse `--map target=COLUMN,...` into {target: source column}."""
    if not spec:
        return {}
    mapping = {}
    for part in spec.split(","):
        target, sep, column = part.partition("=")
        if not sep or not target.strip() or not column.strip():
            raise WinnowError(
                f"--map '{spec}': '{part}' is not TARGET=COLUMN; write e.g. "
                "--map question=Q,answer=A."
            )
        mapping[target.strip()] = column.strip()
    return mapping


def read_records(path: Path) -> tuple[list[tuple[int, Any]], list[Candidate]]:
    """(line, record) pairs of a JSON list, JSONL, CSV or Parquet file, and the records that
    could not be read (`invalid_json`, `invalid_csv`, or `damaged_file` where a compressed
    file breaks)."""
    records, broken = records_of(path, (".json", ".jsonl", ".csv", ".parquet"), allow_empty=False)
    bad = [
        {
            "line": n,
            "position": str(n),
            "problem": f"{broken_reason(path, error)}: {error}",
            "raw": raw,
        }
        for n, error, raw in broken
    ]
    return records, bad


def apply_map(
    records: list[tuple[int, Any]], mapping: dict[str, str], path: Path
) -> list[tuple[int, Any]]:
    """Rename mapped source columns to the names the importers read, checking they exist.

    Shared by the instruction and preference importers. Every target is filled from the
    record as read, so `--map a=b,b=a` swaps two columns; a target that is already a column
    of its own (and not mapped away) would be overwritten, so it is refused, as is a column
    mapped to two targets.
    """
    if not mapping:
        return records
    seen = {k for _, r in records[:DETECT_RECORDS] if isinstance(r, dict) for k in r}
    missing = [f"{t}={c}" for t, c in mapping.items() if c not in seen]
    if missing:
        raise WinnowError(
            f"{path}: has no column {', '.join(missing)} from --map (columns: "
            f"{', '.join(sorted(seen)) or 'none'}); map to columns the file has."
        )
    columns = list(mapping.values())
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        raise WinnowError(
            f"--map names column {', '.join(twice)} for several targets; map each column once."
        )
    renamed = []
    for line, record in records:
        if isinstance(record, dict):
            clash = next((t for t in mapping if t in record and t not in columns), None)
            if clash is not None:
                raise WinnowError(
                    f"{path}: record {line} already has a column '{clash}', which --map "
                    f"{clash}={mapping[clash]} would overwrite; map '{clash}' to another name "
                    "as well (--map NEW={clash}) or leave it out of --map."
                )
            kept = {k: v for k, v in record.items() if k not in columns}
            record = kept | {t: record[c] for t, c in mapping.items() if c in record}
        renamed.append((line, record))
    return renamed


def detect_format(
    records: list[tuple[int, Any]], path: Path, broken: list[Candidate] | None = None
) -> str:
    """The one format whose keys the first records carry; a clear error when none or several."""
    if not records and broken:
        first = broken[0]
        raise WinnowError(
            f"{path}: none of its {len(broken)} records could be read (line {first['line']}: "
            f"{first['problem']}), so no format can be detected; fix the file."
        )
    head = [r for _, r in records[:DETECT_RECORDS]]
    if head and not any(isinstance(r, dict) for r in head):
        kinds = sorted({json_kind(r) for r in head})
        raise WinnowError(
            f"{path}: its first records are JSON {' and '.join(kinds)} values, not objects "
            "with keys; expected records such as {'instruction': ..., 'output': ...}."
        )
    keys = {k for _, r in records[:DETECT_RECORDS] if isinstance(r, dict) for k in r}
    found = [name for name, required in REQUIRED_KEYS.items() if required <= keys]
    if len(found) == 1:
        return found[0]
    if found:
        raise WinnowError(
            f"{path}: format is ambiguous, its keys fit {', '.join(found)}; pass --format "
            "with one of them."
        )
    raise WinnowError(
        f"{path}: no format fits its keys ({', '.join(sorted(keys)) or 'none'}); pass --format "
        f"({', '.join(FORMATS)}) and --map to name the columns."
    )


def candidate(line: int, record: Record, **fields: Any) -> Candidate:
    """A candidate row with the record's own id (if any) and its raw JSON."""
    own = record.get("id")
    return {
        "line": line,
        "position": str(line),
        "id": None if own is None else str(own),
        "input": "",
        "system": "",
        "history": [],
        "raw": json.dumps(record, ensure_ascii=False, default=str),
        **fields,
    }


def from_alpaca(line: int, record: Record) -> Iterator[Candidate]:
    """Alpaca `instruction, input, output`, with optional `system` and `history` pairs: also
    KoAlpaca v1.0 (`ko_alpaca_data.json`) and v1.1 (`instruction, output, url`, no input)."""
    yield candidate(
        line,
        record,
        instruction=record.get("instruction"),
        input=record.get("input") if record.get("input") is not None else "",
        output=record.get("output"),
        system=record.get("system") if record.get("system") is not None else "",
        history=record.get("history") if record.get("history") is not None else [],
    )


def from_turns(line: int, record: Record, turns: Any, role_key: str, text_key: str) -> Candidate:
    """A conversation (ShareGPT or messages) as history pairs plus a last user/assistant turn."""
    system = record.get("system") if record.get("system") is not None else ""
    if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
        return candidate(
            line,
            record,
            instruction=None,
            output=None,
            problem="broken_history: the conversation is not a list of turns",
        )
    roles = []
    texts = []
    for turn in turns:
        name = str(turn.get(role_key, "")).lower()
        role = USER_ROLES.get(name) or ASSISTANT_ROLES.get(name) or SYSTEM_ROLES.get(name)
        if role is None:
            return candidate(
                line,
                record,
                instruction=None,
                output=None,
                problem=f"broken_history: unknown role '{turn.get(role_key)}'",
            )
        roles.append(role)
        texts.append(turn.get(text_key))
    if roles and roles[0] == "system":
        system, roles, texts = texts[0], roles[1:], texts[1:]
    expected = ["user", "assistant"] * (len(roles) // 2)
    if len(roles) < 2 or len(roles) % 2 or roles != expected:
        return candidate(
            line,
            record,
            instruction=None,
            output=None,
            system=system,
            problem=(
                f"broken_history: turns must alternate user, assistant and end with the assistant "
                f"(got {', '.join(roles) or 'none'})"
            ),
        )
    history = [[texts[i], texts[i + 1]] for i in range(0, len(texts) - 2, 2)]
    return candidate(
        line, record, instruction=texts[-2], output=texts[-1], system=system, history=history
    )


def from_sharegpt(line: int, record: Record) -> Iterator[Candidate]:
    """ShareGPT `conversations` of `{from, value}` turns (human/gpt, optional system)."""
    yield from_turns(line, record, record.get("conversations"), "from", "value")


def from_messages(line: int, record: Record) -> Iterator[Candidate]:
    """OpenAI-style `messages` of `{role, content}` turns."""
    yield from_turns(line, record, record.get("messages"), "role", "content")


def from_dolly(line: int, record: Record) -> Iterator[Candidate]:
    """Dolly `instruction, context, response`: the context is the input."""
    context = record.get("context")
    yield candidate(
        line,
        record,
        instruction=record.get("instruction"),
        input=context if context is not None else "",
        output=record.get("response"),
    )


def from_qa(line: int, record: Record) -> Iterator[Candidate]:
    """A question/answer pair (columns named through --map), with optional input and system."""
    yield candidate(
        line,
        record,
        instruction=record.get("question"),
        input=record.get("input") if record.get("input") is not None else "",
        output=record.get("answer"),
        system=record.get("system") if record.get("system") is not None else "",
    )


def from_self_instruct(line: int, record: Record) -> Iterator[Candidate]:
    """A self-instruct seed task: one row per entry of its `instances` list."""
    instances = record.get("instances")
    if not isinstance(instances, list) or not instances:
        yield candidate(
            line,
            record,
            instruction=record.get("instruction"),
            output=None,
            problem="missing_output: the task has no instances",
        )
        return
    for k, instance in enumerate(instances):
        item = instance if isinstance(instance, dict) else {}
        row = candidate(
            line,
            record,
            position=f"{line}.{k}",
            instruction=record.get("instruction"),
            input=item.get("input") if item.get("input") is not None else "",
            output=item.get("output"),
        )
        if row["id"] is not None:
            row["id"] = f"{row['id']}-{k}"
        yield row


IMPORTERS: dict[str, Callable[[int, Record], Iterator[Candidate]]] = {
    "alpaca": from_alpaca,
    "sharegpt": from_sharegpt,
    "messages": from_messages,
    "dolly": from_dolly,
    "qa-csv": from_qa,
    "self-instruct": from_self_instruct,
}
"""The importer of each format."""


def import_candidates(
    path: Path, fmt: str = "auto", mapping: dict[str, str] | None = None
) -> tuple[str, list[Candidate]]:
    """Read a file as (format used, candidate rows in file order)."""
    if fmt != "auto" and fmt not in IMPORTERS:
        raise WinnowError(f"--format '{fmt}' is unknown; use auto or one of {', '.join(FORMATS)}.")
    records, broken = read_records(path)
    records = apply_map(records, mapping or {}, path)
    used = detect_format(records, path, broken) if fmt == "auto" else fmt
    importer = IMPORTERS[used]
    reads = READ_KEYS[used]
    rows: list[Candidate] = list(broken)
    for line, record in records:
        if not isinstance(record, dict):
            raw = json.dumps(record, ensure_ascii=False, default=str)
            problem = "not_a_record: expected an object"
            rows.append({"line": line, "position": str(line), "problem": problem, "raw": raw})
            continue
        meta = {k: v for k, v in record.items() if k not in reads}
        rows.extend(row | {"meta": meta} for row in importer(line, record))
    rows.sort(key=lambda r: r["line"])
    return used, rows
