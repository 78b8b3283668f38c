"""Records of JSON-list, JSON Lines (.gz too) and CSV files, for importers of structured data.

Instruction and preference importers read whole records (nested fields and all), not the flat
documents of the curation readers. A record that cannot be read (a JSON Lines line that does
not parse, a CSV record that does not fit its header, the place where a truncated .gz/.zst
breaks) is returned with its error, for the caller to quarantine; a file that cannot be read
at all is one clear error. JSON Lines are split at LF only and CSV is read by the csv module
over the raw file, so no character inside a value ever splits a record.
"""

from __future__ import annotations

import glob
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
"""A record that cannot be read (a JSON Lines line that does not parse, a CSV record that
does not fit its header, where a damaged file broke): its number, the error and the raw text."""


def record_suffix(path: Path) -> str:
    """A file's kind extension, ignoring a trailing .gz or .zst: `.json`, `.jsonl`, `.csv`..."""
    name = path.name.lower().removesuffix(".gz").removesuffix(".zst")
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
    elif HUB_ID.match(spec) and not looks_local(spec):
        return hub_files(spec, suffixes)
    else:
        raise WinnowError(
            f"--source {spec}: no such file, folder or glob; give a {accepted} file, a folder "
            "of them or a pattern such as 'data/*.jsonl'."
        )
    return [(p, p.relative_to(root).as_posix()) for p in found]


DATA_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".parquet", ".txt", ".warc")
"""Extensions that make an `org/name`-shaped argument a file path, not a hub id."""


def looks_local(spec: str) -> bool:
    """Whether a missing `a/b` argument means a local path rather than a hub id: its folder
    exists here, or its name has a data file's extension."""
    path = Path(spec).expanduser()
    return path.parent.is_dir() or record_suffix(path) in DATA_SUFFIXES


def hub_files(repo: str, suffixes: tuple[str, ...]) -> list[SourceFile]:
    """The data files of a hub dataset, downloaded once into the hub cache (its README and
    scripts left out)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    patterns = [f"*{s}{gz}" for s in suffixes for gz in ("", ".gz")]
    try:
        folder = Path(snapshot_download(repo, repo_type="dataset", allow_patterns=patterns))
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        if offline():
            raise WinnowError(
                f"--source {repo}: no such file or folder here, and as a hub dataset id it is "
                "not in the local cache while the hub is off (HF_HUB_OFFLINE=1); check the "
                "path, or download it once online, or give a local file or folder."
            ) from exc
        raise WinnowError(
            f"--source {repo}: no such file or folder here, and as a hub dataset id it could "
            f"not be fetched ({exc}); check the path or the id, or give a local file or folder."
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


DAMAGED = ("the gzip data is damaged", "the zstd data is damaged")
"""How the error of a record cut by a damaged compressed file starts."""


class EmptyFile(WinnowError):
    """A file that holds no record at all (0 bytes, or white space only)."""


EXPECTED = {
    ".jsonl": "JSON Lines, one JSON object per line",
    ".json": "a JSON list of records ([{...}, ...])",
    ".csv": "a header line and one record per line",
}
"""What each kind of file should hold, for the messages."""


def _reject_constant(name: str) -> Any:
    """Refuse NaN and Infinity, which Python accepts but JSON does not."""
    raise ValueError(f"{name} is not valid JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object, refusing a key written twice (parsers disagree on which value wins)."""
    record = dict(pairs)
    if len(record) < len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"key {twice!r} appears twice in one object")
    return record


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_keys)


def read_records(
    path: Path, suffixes: tuple[str, ...] = (".json", ".jsonl", ".csv"), allow_empty: bool = True
) -> tuple[list[tuple[int, Any]], list[BrokenLine]]:
    """(number, record) pairs of a file, and the records that could not be read.

    The number is the record's line in JSON Lines (lines end at LF only: U+2028, U+0085 and
    the like are text inside a string), its place in a JSON list, its data record (header not
    counted, a record may span lines) in CSV. `suffixes` are the kinds the caller accepts.
    A .gz or .zst file whose data breaks keeps the records before the break; the break is one
    unreadable record naming the byte. An empty file (no bytes, white space only, a CSV
    header alone) gives no records, or with `allow_empty` False raises EmptyFile saying what
    it holds and what was expected.
    """
    suffix = record_suffix(path)
    accepted = ", ".join(suffixes)
    if not path.is_file():
        raise WinnowError(f"{path}: file not found; give a {accepted} file.")
    if suffix not in suffixes:
        raise WinnowError(f"{path}: unknown extension '{suffix}'; give a {accepted} file.")
    if suffix == ".parquet":
        return parquet_records(path), []
    from winnow.curate.readers.compressed import open_stream

    try:
        with open_stream(path) as stream:
            if suffix == ".csv":
                return _csv_records(path, stream, allow_empty)
            data = stream.read()
    except OSError as exc:
        raise WinnowError(f"{path}: cannot be read ({exc}); check the path.") from exc
    if not data.strip(b" \t\r\n\xef\xbb\xbf") and stream.damage is None:
        if allow_empty:
            return [], []
        what = "is empty (0 bytes)" if not data else "holds only white space"
        raise EmptyFile(f"{path}: {what}; expected {EXPECTED[suffix]}. Fill it or leave it out.")
    head = data.lstrip(b" \t\r\n\xef\xbb\xbf")[:1]
    if suffix == ".jsonl":
        if head == b"[":
            raise WinnowError(
                f"{path}: holds a JSON array ([...]), but a .jsonl file is read as "
                f"{EXPECTED['.jsonl']}; rename it to .json, or write one record per line."
            )
        return _jsonl_records(data, stream.damage)
    return _json_records(path, data, stream.damage)


def _jsonl_records(data: bytes, damage: Any) -> tuple[list[tuple[int, Any]], list[BrokenLine]]:
    """Records and unreadable lines of JSON Lines bytes (see `read_records`)."""
    from winnow.curate.readers.jsonl import lone_surrogate

    records: list[tuple[int, Any]] = []
    broken: list[BrokenLine] = []
    lines = data.split(b"\n")
    tail = lines.pop() if damage is not None else b""
    for number, line in enumerate(lines, start=1):
        line = line.removesuffix(b"\r")
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            error = f"invalid UTF-8 at byte {exc.start + 1} of the line"
            broken.append((number, error, line.decode("utf-8", "replace")))
            continue
        try:
            value = _DECODER.decode(text)
            if error := lone_surrogate(value):
                broken.append((number, error, text.encode("utf-8", "replace").decode()))
            else:
                records.append((number, value))
        except json.JSONDecodeError as exc:
            broken.append((number, f"malformed JSON at column {exc.colno}: {exc.msg}", text))
        except ValueError as exc:
            broken.append((number, f"malformed JSON: {exc}", text))
    if damage is not None:
        damage.line, damage.tail = len(lines) + 1, tail
        broken.append((damage.line, damage.describe(), tail.decode("utf-8", "replace")))
    return records, broken


def _json_records(
    path: Path, data: bytes, damage: Any
) -> tuple[list[tuple[int, Any]], list[BrokenLine]]:
    """Records of a JSON list, element by element; an element that cannot be read ends the
    list with one unreadable record saying the rest was not read (see `read_records`)."""
    import io

    from winnow.curate.readers.jsonl import iter_array_elements, lone_surrogate

    head = data.lstrip(b" \t\r\n\xef\xbb\xbf")[:1]
    if not head and damage is not None:
        damage.line = 1
        return [], [(1, damage.describe("element"), "")]
    if head != b"[":
        try:
            value = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            more = "several JSON values one after another (JSON Lines?)"
            found = more if "Extra data" in str(exc) else f"no valid JSON ({exc})"
            raise WinnowError(
                f"{path}: holds {found}; expected {EXPECTED['.json']}: make it one list, or "
                "name a file of one object per line .jsonl."
            ) from exc
        raise WinnowError(
            f"{path}: holds a JSON {json_kind(value)}, not a list of records; give a JSON "
            "list ([{...}, ...]) or one record per line as .jsonl."
        )
    records: list[tuple[int, Any]] = []
    broken: list[BrokenLine] = []
    number = 0
    for number, (value, error) in enumerate(
        iter_array_elements(io.BytesIO(data), _DECODER), start=1
    ):
        if error is None:
            if error := lone_surrogate(value):
                broken.append((number, error, repr(value)[:2000]))
                continue
            records.append((number, value))
            continue
        if damage is not None and "unread" in error:
            damage.line = number
            error = damage.describe("element")
            damage = None
        raw = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        broken.append((number, error, raw.encode("utf-8", "replace").decode("utf-8")))
    if damage is not None:
        damage.line = number + 1
        broken.append((damage.line, damage.describe("element"), ""))
    return records, broken


def broken_reason(path: Path, error: str) -> str:
    """The counted reason of an unreadable record: damaged_file, invalid_csv or invalid_json."""
    if error.startswith(DAMAGED):
        return "damaged_file"
    return "invalid_csv" if record_suffix(path) == ".csv" else "invalid_json"


def json_kind(value: Any) -> str:
    """The JSON name of a Python value's type."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _csv_records(
    path: Path, stream: Any, allow_empty: bool
) -> tuple[list[tuple[int, Any]], list[BrokenLine]]:
    """Records of a CSV file by header name, read with the csv module over the raw text
    (quoted newlines and U+2028 stay in their field); records whose fields do not fit the
    header, that are not UTF-8 or whose quoting breaks are unreadable (see `read_records`)."""
    from winnow.curate.readers.csv import (
        field_count_error,
        iter_csv,
        read_header,
        shown,
        text_handle,
    )

    handle = text_handle(stream)
    rows = iter_csv(handle, ",", stream)
    names = read_header(rows, path)
    if names is None:
        if allow_empty:
            return [], []
        raise EmptyFile(f"{path}: is empty; expected {EXPECTED['.csv']}. Fill it or leave it out.")
    records: list[tuple[int, Any]] = []
    broken: list[BrokenLine] = []
    for number, row in enumerate(rows, start=1):
        error = row.error or field_count_error(row, len(names))
        if error is not None:
            broken.append((number, error, shown(row.raw)))
        else:
            assert row.fields is not None
            records.append((number, dict(zip(names, row.fields, strict=True))))
    if not records and not broken and not allow_empty:
        raise EmptyFile(
            f"{path}: holds only its header ({', '.join(names)}); expected records below it. "
            "Fill it or leave it out."
        )
    return records, broken
