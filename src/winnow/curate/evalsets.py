"""Evaluation sets to decontaminate against: catalogs/evals entries or files, read as items.

An entry `catalogs/evals/NAME.yaml` names the benchmark NAME and holds `path` (a file,
folder or glob, or a list of them; relative paths start at the entry's folder), `format`
(else inferred from the extension), `fields` (the fields joined, in order, into an item's
text), optionally `id_field` (else the record's line number), `description` and `licence`.
A file, folder or glob given directly is a benchmark named after it, with `fields` chosen by
the caller. Item ids read `FILE:ID`, FILE being the file's name without extensions, so an id
finds its item even when a benchmark spans files (MMLU's one CSV per subject).
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from winnow.catalogs import catalog_dirs, find_entry, list_entries, load_yaml
from winnow.curate.readers import READERS, format_of, reader_for
from winnow.curate.sources import resolve_source
from winnow.errors import WinnowError

ENTRY_KEYS = {"path", "format", "fields", "id_field", "description", "licence"}
"""Keys a catalogs/evals/NAME.yaml entry may use."""

READ_ROWS = 100_000
"""Rows read per batch; eval sets are small, so most files come in one batch."""


@dataclass(frozen=True)
class EvalSet:
    """One benchmark: its name, files, how to read them and which fields make an item."""

    name: str
    paths: tuple[Path, ...]
    fields: tuple[str, ...]
    format: str | None = None
    id_field: str | None = None
    where: str = "the step's `fields`"
    """Where its fields are chosen, for error messages."""
    description: str = ""
    licence: str = ""

    def stamp(self) -> tuple[tuple[str, int, int], ...]:
        """Each file with its size and modification time, so a changed file reads afresh."""
        return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in self.paths)


def base_name(path: Path) -> str:
    """A file's name without format and compression extensions (`qa_data.jsonl.gz` -> qa_data)."""
    name = path.name
    for suffix in (".gz", ".zst"):
        name = name.removesuffix(suffix)
    stem = Path(name).stem
    return stem or path.name


def looks_like_path(arg: str) -> bool:
    """Whether an `evals` entry is meant as a file rather than a catalog name."""
    return os.sep in arg or "/" in arg or format_of(Path(arg)) is not None or glob.has_magic(arg)


def files_of(arg: str, base: Path | None, fmt: str | None, where: str) -> tuple[Path, ...]:
    """The files a path, folder or glob names (relative to `base` when given)."""
    path = Path(os.path.normpath(base / arg)) if base is not None else Path(arg).expanduser()
    if not (path.exists() or glob.has_magic(str(path))):
        raise WinnowError(
            f"{where}: eval set path '{arg}' (resolved to {path}) does not exist; fix the path "
            "or fetch the data."
        )
    return tuple(resolve_source(str(path), fmt=fmt).paths)


def text_fields(value: object, where: str) -> tuple[str, ...]:
    """A field name or a list of them, checked, as a tuple."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(f, str) for f in names):
        raise WinnowError(
            f"{where}: 'fields' should be a field name or a list of them, e.g. "
            f"[question, choices]; got {value!r}."
        )
    return tuple(names)


def from_entry(name: str, entry: Path, fields: object = None) -> EvalSet:
    """Read a catalogs/evals entry; `fields`, when given, replaces the entry's own."""
    data = load_yaml(entry)
    unknown = set(data) - ENTRY_KEYS
    if unknown:
        raise WinnowError(
            f"{entry}: unknown keys {', '.join(sorted(unknown))}; expected some of "
            f"{', '.join(sorted(ENTRY_KEYS))}."
        )
    for key in ("path", "fields"):
        if key not in data:
            raise WinnowError(f"{entry}: no '{key}' key; an eval set needs 'path' and 'fields'.")
    fmt = data.get("format")
    if fmt is not None and fmt not in READERS:
        raise WinnowError(
            f"{entry}: format '{fmt}' is not known; use one of {', '.join(sorted(READERS))}."
        )
    raw = data["path"] if isinstance(data["path"], list) else [data["path"]]
    paths: list[Path] = []
    for item in raw:
        paths.extend(files_of(str(item), entry.parent, fmt, str(entry)))
    chosen, where = (
        (data["fields"], str(entry)) if fields is None else (fields, f"fields[{name}] of the step")
    )
    return EvalSet(
        name=name,
        paths=tuple(paths),
        fields=text_fields(chosen, where),
        format=fmt,
        id_field=data.get("id_field"),
        where=f"{entry} or the step's `fields`",
        description=" ".join(str(data.get("description", "")).split()),
        licence=str(data.get("licence", "")),
    )


def resolve_eval(arg: str, fields: object = None, where: str = "decontaminate") -> EvalSet:
    """An `evals` entry as an eval set: a catalogs/evals name or entry file, or a data file,
    folder or glob, whose items take their text from `fields` (default: the `text` field)."""
    if Path(arg).suffix in {".yaml", ".yml"} and Path(arg).is_file():
        return from_entry(Path(arg).stem, Path(arg), fields)
    entry = None if looks_like_path(arg) else find_entry("evals", arg)
    if entry is not None:
        return from_entry(arg, entry, fields)
    if not looks_like_path(arg) and not Path(arg).exists():
        known = ", ".join(sorted(list_entries("evals"))) or "none"
        folders = ", ".join(str(d) for d in catalog_dirs("evals"))
        raise WinnowError(
            f"{where}: evals names '{arg}', which is no eval set in {folders} (known: {known}) "
            "nor a file; use a known name or a path to a JSONL, JSON, Parquet or CSV file."
        )
    paths = files_of(arg, None, None, where)
    chosen = text_fields(fields if fields is not None else "text", f"{where}: fields[{arg}]")
    return EvalSet(
        name=base_name(Path(arg)), paths=paths, fields=chosen, where="the step's `fields`"
    )


def list_evalsets() -> dict[str, EvalSet]:
    """Every eval set in the catalogs, by name."""
    return {name: from_entry(name, path) for name, path in list_entries("evals").items()}


def joined(value: str | None) -> str:
    """A field's text; a JSON list of strings (a reader's nested value) becomes its items."""
    if value is None:
        return ""
    if value.startswith("[") and value.endswith("]"):
        try:
            items = json.loads(value)
        except ValueError:
            return value
        if isinstance(items, list):
            return " ".join(str(i) for i in items if i is not None)
    return value


def read_items(evalset: EvalSet) -> pl.DataFrame:
    """All items of an eval set as `item` (id) and `text` (its fields joined by spaces).

    An unreadable row or a missing field stops with an error: a decontamination that
    silently skipped part of a benchmark would report it clean.
    """
    frames = []
    for path in evalset.paths:
        file_id = base_name(path)
        for batch in reader_for(path, evalset.format).read(path, READ_ROWS):
            if batch.quarantine.height:
                row = batch.quarantine.row(0, named=True)
                raise WinnowError(
                    f"{path}: line {row['line']}: {row['error']} (eval set '{evalset.name}'); "
                    "fix the file, since every item must be read to decontaminate against it."
                )
            records = batch.records
            for name in (*evalset.fields, *([evalset.id_field] if evalset.id_field else [])):
                if name not in records.columns:
                    have = ", ".join(c for c in records.columns if c != "__line")
                    raise WinnowError(
                        f"{path}: eval set '{evalset.name}' has no field '{name}' (fields: "
                        f"{have}); name the fields that hold its text in {evalset.where}."
                    )
            parts = [
                pl.Series([joined(v) for v in records[f].cast(pl.Utf8).to_list()])
                for f in evalset.fields
            ]
            key = records[evalset.id_field] if evalset.id_field else records["__line"]
            item = pl.format("{}:{}", pl.lit(file_id), pl.lit(key.cast(pl.Utf8).fill_null("")))
            text = pl.concat_str([pl.lit(p) for p in parts], separator=" ")
            frames.append(pl.select(item.alias("item"), text.alias("text")))
    if not frames:
        return pl.DataFrame(schema={"item": pl.Utf8, "text": pl.Utf8})
    return pl.concat(frames)
