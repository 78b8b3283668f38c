"""Records of JSON-list, JSON Lines (.gz too) and CSV files, for importers of structured data.

Instruction and preference importers read whole records (nested fields and all), not the flat
documents of the curation readers. A JSON Lines line that does not parse is returned with its
error, for the caller to quarantine; a file that cannot be read at all is one clear error.
"""

from __future__ import annotations

import csv
import glob
import gzip
import json
import os
import re
from pathlib import Path
from typing import Any

import xxhash

from winnow.errors import WinnowError

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
"""The shape of a Hugging Face hub id, `org/name`."""

SourceFile = tuple[Path, str]
"""A file to import and its name relative to the source root (a row's `source`)."""

BrokenLine = tuple[int, str, str]
"""A JSON Lines line that does not parse: its number, the parser's error and the raw line."""


def record_suffix(path: Path) -> str:
    """A file's kind extension, ignoring a trailing .gz: `.json`, `.jsonl`, `.csv`..."""
    name = path.name.lower().removesuffix(".gz")
    return "." + name.rsplit(".", 1)[-1] if "." in name else ""


def source_files(spec: str, suffixes: tuple[str, ...]) -> list[SourceFile]:
    """The files a `--source` names, a file, a folder (recursively) or a glob, in sorted order.

    Hidden files and folders are skipped, and in a folder only files with an accepted
    extension are taken; names are relative to the folder or the glob's fixed part.
    """
    path = Path(spec).expanduser()
    accepted = ", ".join(suffixes)
    if path.is_file():
        return [(path, path.name)]
    if path.is_dir():
        root = path
        found = [
            p
            for p in sorted(path.rglob("*"))
            if p.is_file()
            and record_suffix(p) in suffixes
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        ]
        if not found:
            raise WinnowError(f"folder {path} holds no {accepted} files; add some or fix --source.")
    elif glob.has_magic(str(path)):
        parts = path.parts
        fixed = parts[: next(i for i, p in enumerate(parts) if glob.has_magic(p))]
        root = Path(*fixed) if fixed else Path(".")
        found = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
        if not found:
            raise WinnowError(f"glob '{spec}' matches no files; check the pattern.")
    elif HUB_ID.match(spec):
        return hub_files(spec, suffixes)
    else:
        raise WinnowError(
            f"--source {spec}: no such file, folder or glob; give a {accepted} file, a folder "
            "of them or a pattern such as 'data/*.jsonl'."
        )
    return [(p, p.relative_to(root).as_posix()) for p in found]


def hub_files(repo: str, suffixes: tuple[str, ...]) -> list[SourceFile]:
    """The data files of a hub dataset, downloaded once into the hub cache (its README and
    scripts left out)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    patterns = [f"*{s}{gz}" for s in suffixes for gz in ("", ".gz")]
    try:
        folder = Path(snapshot_download(repo, repo_type="dataset", allow_patterns=patterns))
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        why = "the hub is off (HF_HUB_OFFLINE=1)" if offline() else f"it failed ({exc})"
        raise WinnowError(
            f"--source {repo}: a hub dataset id, but {why} and it is not in the local cache; "
            "download it once online, or give a local file or folder."
        ) from exc
    found = source_files(str(folder), suffixes)
    return [(path, f"{repo}/{name}") for path, name in found]


def offline() -> bool:
    """Whether the hub is switched off for this process."""
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes", "on"}


def file_hash(path: Path) -> str:
    """xxh3-64 of a file's bytes, so lineage names exactly what was read."""
    digest = xxhash.xxh3_64()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def files_fingerprint(files: list[SourceFile]) -> str:
    """One hash over the input files' names and bytes (a lone file's own hash)."""
    if len(files) == 1:
        return file_hash(files[0][0])
    parts = "|".join(f"{name}:{file_hash(path)}" for path, name in files)
    return xxhash.xxh3_64_hexdigest(parts.encode())


def source_label(files: list[SourceFile], default: str) -> str:
    """The source's name: a lone file's stem, or the folder the files are named from."""
    if len(files) == 1:
        return files[0][0].stem
    path, name = files[0]
    return Path(*path.parts[: -len(Path(name).parts)]).name or default


def parquet_records(path: Path) -> list[tuple[int, Any]]:
    """(row number, record) pairs of a Parquet file, as hub datasets ship them."""
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(path).to_pylist()
    except (OSError, ValueError) as exc:
        raise WinnowError(f"{path}: is not a readable Parquet file ({exc}).") from exc
    return list(enumerate(rows, start=1))


def read_records(
    path: Path, suffixes: tuple[str, ...] = (".json", ".jsonl", ".csv")
) -> tuple[list[tuple[int, Any]], list[BrokenLine]]:
    """(number, record) pairs of a file, and its JSON Lines lines that do not parse.

    The number is the record's line in JSON Lines, its place in a JSON list, its data row
    (header not counted) in CSV. `suffixes` are the kinds the caller accepts.
    """
    suffix = record_suffix(path)
    accepted = ", ".join(suffixes)
    if not path.is_file():
        raise WinnowError(f"{path}: file not found; give a {accepted} file.")
    if suffix not in suffixes:
        raise WinnowError(f"{path}: unknown extension '{suffix}'; give a {accepted} file.")
    if suffix == ".parquet":
        return parquet_records(path), []
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
