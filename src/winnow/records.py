"""Records of JSON-list, JSON Lines (.gz too) and CSV files, for importers of structured data.

Instruction and preference importers read whole records (nested fields and all), not the flat
documents of the curation readers. A JSON Lines line that does not parse is returned with its
error, for the caller to quarantine; a file that cannot be read at all is one clear error.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

from winnow.errors import WinnowError

BrokenLine = tuple[int, str, str]
"""A JSON Lines line that does not parse: its number, the parser's error and the raw line."""


def read_records(
    path: Path, suffixes: tuple[str, ...] = (".json", ".jsonl", ".csv")
) -> tuple[list[tuple[int, Any]], list[BrokenLine]]:
    """(number, record) pairs of a file, and its JSON Lines lines that do not parse.

    The number is the record's line in JSON Lines, its place in a JSON list, its data row
    (header not counted) in CSV. `suffixes` are the kinds the caller accepts.
    """
    name = path.name.lower().removesuffix(".gz")
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    accepted = ", ".join(suffixes)
    if not path.is_file():
        raise WinnowError(f"{path}: file not found; give a {accepted} file.")
    if suffix not in suffixes:
        raise WinnowError(f"{path}: unknown extension '{suffix}'; give a {accepted} file.")
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise WinnowError(f"{path}: cannot be read ({exc}); check the path and encoding.") from exc
    if suffix == ".csv":
        return list(enumerate(csv.DictReader(text.splitlines()), start=1)), []
    if suffix == ".jsonl":
        records: list[tuple[int, Any]] = []
        broken: list[BrokenLine] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append((number, json.loads(line)))
                except json.JSONDecodeError as exc:
                    broken.append((number, str(exc), line))
        return records, broken
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WinnowError(
            f"{path}: is not valid JSON ({exc}); give a JSON list of records or JSON Lines."
        ) from exc
    if not isinstance(data, list):
        raise WinnowError(
            f"{path}: holds a JSON {type(data).__name__}, not a list of records; give a JSON "
            "list ([{...}, ...]) or one record per line as .jsonl."
        )
    return list(enumerate(data, start=1)), []
