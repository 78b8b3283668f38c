"""Sources: where documents come from, and the stream of `id`/`text` batches read from them.

Docs schema: `id` (Utf8) and `text` (Utf8) first, then the input's other fields in their
order, then `source_file`. Extra fields get types that do not drift between batches: nested
values (objects, lists) become their JSON text, all-null fields become Utf8, integers
Int64 and floats Float64. A field absent from a whole batch is absent from that shard, so
read shards together with `union_by_name` (DuckDB) or `how="diagonal_relaxed"` (Polars).

Quarantine errors read "line N: what went wrong; what to do", N being the `line` column.
A text value that is not a string (a number, list, object or boolean, whether the reader
typed the column or marked the row in `__kind.TEXT`) is quarantined with its kind, never
stringified; a binary text or id column is one error naming the file and the column. An
empty file gives no batch and one `warnings.warn` naming it (the runner records these).

A URL (s3://, gs://, http(s)://) names an object, a prefix or a glob like a local file, folder
or glob does, with the same source name and relative file names, so ids and shard keys match
a local copy of the same files. Each object is read from a local copy made for it alone
(`winnow.remote` says why); `source_file` and messages name the object's URL. file:// URLs
are local paths.
"""

from __future__ import annotations

import glob
import json
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any

import polars as pl
import xxhash

from winnow import remote
from winnow.catalogs import catalog_dirs, find_entry, list_entries, load_yaml
from winnow.curate.readers import format_of, format_of_name, reader_for
from winnow.curate.readers.base import (
    QUARANTINE_SCHEMA,
    RAW_LIMIT,
    RawBatch,
    Reader,
    quarantine_rows,
)
from winnow.curate.readers.compressed import NotCompressed
from winnow.curate.readers.hf import HfReader, hub_offline, is_saved_dataset
from winnow.curate.readers.jsonl import KIND_PREFIX
from winnow.errors import WinnowError
from winnow.records import HUB_ID
from winnow.remote import RemoteFile
from winnow.workspace import DatasetVersion, Workspace

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

CATALOG_KEYS = {
    "path",
    "hub",
    "format",
    "text_field",
    "id_field",
    "licence",
    "description",
    "options",
}
"""Keys a catalogs/sources/NAME.yaml entry may use."""


EMPTY_DOCS = {"id": pl.Utf8, "text": pl.Utf8, "source_file": pl.Utf8}
"""The columns of a docs batch in which no row could be used."""

SAVED_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")
"""Files that mark a folder written by `save_to_disk`, which is read from local disk only."""


@dataclass
class SourceSpec:
    """A resolved source: its files, objects (URL sources) or hub id, how to read them, and
    where names start."""

    name: str
    paths: list[Path] = field(default_factory=list)
    url: str | None = None
    remote: list[RemoteFile] = field(default_factory=list)
    hub_id: str | None = None
    format: str | None = None
    text_field: str = "text"
    id_field: str = "id"
    licence: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    root: Path | None = None
    description: str | None = None
    parents: list[dict[str, str]] = field(default_factory=list)

    def relative_name(self, path: Path) -> str:
        """A file's name relative to the source root, the same on every machine."""
        if self.root is not None:
            try:
                return path.resolve().relative_to(self.root.resolve()).as_posix()
            except ValueError:
                pass
        return path.name

    def files(self) -> list[str]:
        """Where each file is, in reading order: local paths, or URLs for object storage
        (none for a hub id); `iter_documents(only=N)` reads the Nth alone."""
        return [str(p) for p in self.paths] + [f.url for f in self.remote]

    def fingerprint(self) -> str:
        """A stable hash of the files (relative names, sizes, mtimes or ETags) and the reading
        options."""
        digest = xxhash.xxh64()
        parts = [self.hub_id or "", self.format or "", self.text_field, self.id_field]
        parts.append(repr(sorted(self.options.items())))
        for path in self.paths:
            stat = path.stat()
            parts.append(f"{self.relative_name(path)}|{stat.st_size}|{stat.st_mtime_ns}")
        parts.extend(f"{f.name}|{f.size}|{f.stamp}" for f in self.remote)
        digest.update("\x1e".join(parts).encode())
        return digest.hexdigest()


@dataclass
class DocBatch:
    """One shard of documents from one file, with the rows of it that could not be read;
    `lines` holds each document's line (row, record) in its file."""

    source_file: str
    shard_key: str
    docs: pl.DataFrame
    quarantine: pl.DataFrame
    lines: pl.Series = field(default_factory=lambda: pl.Series("__line", [], dtype=pl.Int64))


def _base_name(path: PurePath) -> str:
    """A file's name without its format and compression extensions."""
    return re.sub(r"(\.[A-Za-z0-9]+)?(\.gz|\.zst)?$", "", path.name) or path.name


def _readable_files(folder: Path, fmt: str | None) -> list[Path]:
    """Files under a folder that a reader can open, recursively, in sorted order."""
    found = []
    for path in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.is_file() and (fmt is not None or format_of(path) is not None):
            found.append(path)
    return found


def _glob_root(pattern: str) -> Path:
    """The folder before the first wildcard of a glob, which relative names start from."""
    parts = Path(pattern).parts
    plain = parts[: next(i for i, p in enumerate(parts) if glob.has_magic(p))]
    return Path(*plain) if plain else Path(".")


def _spec_from_path(
    arg: str, base: Path | None, fmt: str | None
) -> tuple[str, list[Path], Path] | None:
    """Name, files and root for a file, folder or glob (relative to `base` if given)."""
    path = Path(os.path.normpath(base / arg)) if base is not None else Path(arg)
    if path.is_file():
        return _base_name(path), [path], path.parent
    if is_saved_dataset(path):
        return path.name, [path], path.parent
    if path.is_dir():
        files = _readable_files(path, fmt)
        if not files:
            raise WinnowError(
                f"folder {path} holds no readable files; add .jsonl/.parquet/.csv/.txt/.warc "
                "files or pass --format to read other extensions."
            )
        return path.name, files, path
    if glob.has_magic(str(path)):
        files = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
        if not files:
            raise WinnowError(f"glob '{path}' matches no files; check the pattern.")
        return _base_name(Path(arg)), files, _glob_root(str(path))
    return None


def _spec_from_url(url: str, fmt: str | None) -> tuple[str, list[RemoteFile]]:
    """Name and objects of a URL naming an object, a prefix or a glob, named as local ones are."""
    listing = remote.list_url(url)
    files = listing.files
    if listing.kind == "file":
        return _base_name(PurePosixPath(files[0].name)), files
    if listing.kind == "glob":
        if not files:
            raise WinnowError(f"glob '{url}' matches no objects; check the pattern.")
        return _base_name(PurePosixPath(url)), files
    if any(f.name in SAVED_MARKERS for f in files):
        raise WinnowError(
            f"{url} holds a dataset saved with save_to_disk, which is read from local disk only; "
            "copy it to a local folder (or export it as Parquet) and point --source there."
        )
    readable = [f for f in files if fmt is not None or format_of_name(f.name) is not None]
    if not readable:
        raise WinnowError(
            f"{url} holds no readable files; add .jsonl/.parquet/.csv/.txt/.warc files or pass "
            "--format to read other extensions."
        )
    return PurePosixPath(listing.root).name or listing.root, readable


def _hub_shaped(arg: str) -> bool:
    """Whether `org/name` could be a hub id: that shape, and no data file's extension nor
    an existing folder that would make it a missing local file."""
    path = Path(arg).expanduser()
    return (
        bool(HUB_ID.match(arg)) and format_of_name(path.name) is None and not (path.parent.is_dir())
    )


def _looks_like_hub_id(arg: str) -> bool:
    """Whether `org/name` is meant as a hub id rather than a missing local file: hub-shaped,
    and the hub is on (offline, such a name is a missing file, said so)."""
    return _hub_shaped(arg) and not hub_offline()


def _not_found(arg: str) -> WinnowError:
    """The error for a source that is neither a path, a catalog name nor a hub id."""
    names = ", ".join(list_entries("sources")) or "none"
    folders = ", ".join(str(d) for d in catalog_dirs("sources"))
    hub = ""
    if _hub_shaped(arg):
        hub = (
            "; as a hub dataset id it cannot be fetched while the hub is off (HF_HUB_OFFLINE "
            f"or HF_DATASETS_OFFLINE): download it once online (datasets.load_dataset('{arg}')"
            ".save_to_disk(DIR)) and point --source at DIR"
        )
    return WinnowError(
        f"source '{arg}' is not an existing file, folder or glob (no such file), nor a source "
        f"in {folders}; catalog sources: {names}{hub}."
    )


def _from_catalog(name: str, entry: Path, fmt: str | None) -> SourceSpec:
    """Build a spec from a catalogs/sources YAML entry; relative paths start at its folder."""
    data = load_yaml(entry)
    unknown = set(data) - CATALOG_KEYS
    if unknown:
        raise WinnowError(
            f"{entry}: unknown keys {', '.join(sorted(unknown))}; "
            f"expected some of {', '.join(sorted(CATALOG_KEYS))}."
        )
    if ("path" in data) == ("hub" in data):
        raise WinnowError(f"{entry}: expected exactly one of 'path' or 'hub'; set one.")
    fmt = fmt or data.get("format")
    path = str(data.get("path", ""))
    spec = SourceSpec(
        name=name,
        format=fmt,
        licence=data.get("licence"),
        description=data.get("description"),
        options=dict(data.get("options") or {}),
        text_field=data.get("text_field", "text"),
        id_field=data.get("id_field", "id"),
    )
    if "hub" in data:
        spec.hub_id = str(data["hub"])
        spec.format = "hf"
        return spec
    if remote.is_remote(path):
        spec.url = path
        spec.remote = _spec_from_url(path, fmt)[1]
        return spec
    if remote.is_url(path):
        path = str(remote.local_path(path))
    found = _spec_from_path(path, entry.parent, fmt)
    if found is None:
        raise WinnowError(
            f"{entry}: path '{data['path']}' (resolved to {entry.parent / data['path']}) does "
            "not exist; fix the path or fetch the data."
        )
    _, spec.paths, spec.root = found
    return spec


def _from_dataset(dataset: DatasetVersion) -> SourceSpec:
    """Read the kept rows of a workspace dataset version, recording it as the parent."""
    manifest = dataset.manifest
    return SourceSpec(
        name=dataset.ref,
        paths=sorted((dataset.path / "kept").glob("*.parquet")),
        format="parquet",
        licence=manifest["source"].get("licence"),
        root=dataset.path,
        parents=[
            {
                "name": dataset.name,
                "version": dataset.version,
                "fingerprint": manifest["fingerprint"],
            }
        ],
    )


def resolve_source(
    arg: str,
    *,
    fmt: str | None = None,
    text_field: str | None = None,
    id_field: str | None = None,
    workspace: Workspace | None = None,
) -> SourceSpec:
    """Turn a --source argument (path, folder, glob, URL, workspace dataset NAME[@VERSION],
    catalog name or hub id) into a spec."""
    if remote.is_url(arg) and not remote.is_remote(arg):
        arg = str(remote.local_path(arg))
    if remote.is_remote(arg):
        name, files = _spec_from_url(arg, fmt)
        spec = SourceSpec(name=name, url=arg, remote=files, format=fmt)
    elif (found := _spec_from_path(arg, None, fmt)) is not None:
        name, paths, root = found
        spec = SourceSpec(name=name, paths=paths, root=root, format=fmt)
    elif workspace is not None and workspace.versions(arg.partition("@")[0]):
        spec = _from_dataset(workspace.dataset(arg))
    elif (entry := find_entry("sources", arg)) is not None:
        spec = _from_catalog(Path(arg).stem, entry, fmt)
    elif _looks_like_hub_id(arg):
        spec = SourceSpec(name=arg.replace("/", "__"), hub_id=arg, format="hf")
    else:
        raise _not_found(arg)
    if text_field:
        spec.text_field = text_field
    if id_field:
        spec.id_field = id_field
    return spec


def _json_text(column: str, dtype: pl.DataType) -> pl.Expr:
    """A nested column as its JSON text, null staying null."""
    col = pl.col(column)
    if isinstance(dtype, pl.Struct):
        encoded = col.struct.json_encode()
    else:
        wrapped = pl.struct(col.alias("v")).struct.json_encode()
        encoded = wrapped.str.strip_prefix('{"v":').str.strip_suffix("}")
    return pl.when(col.is_null()).then(None).otherwise(encoded).alias(column)


def stable_types(df: pl.DataFrame) -> pl.DataFrame:
    """Cast columns to types that stay the same from batch to batch (see the module doc)."""
    exprs = []
    for name, dtype in df.schema.items():
        if dtype.is_nested():
            exprs.append(_json_text(name, dtype))
        elif dtype in (pl.Null, pl.Categorical, pl.UInt64, pl.Int128) or isinstance(dtype, pl.Enum):
            exprs.append(pl.col(name).cast(pl.Utf8))
        elif dtype.is_integer() and dtype != pl.Int64:
            exprs.append(pl.col(name).cast(pl.Int64))
        elif dtype == pl.Float32:
            exprs.append(pl.col(name).cast(pl.Float64))
    return df.with_columns(exprs) if exprs else df


def _hash_ids(prefix: str, lines: pl.Series) -> pl.Series:
    """Stable ids from the source name, file name and line number."""
    return pl.Series(
        [xxhash.xxh64_hexdigest(f"{prefix}{n}".encode()) for n in lines.to_list()], dtype=pl.Utf8
    )


def row_json(df: pl.DataFrame) -> pl.Series:
    """Each row as JSON text, cut for the quarantine."""
    fields = [c for c in df.columns if not c.startswith("__")]
    if not fields:
        return pl.Series([""] * df.height, dtype=pl.Utf8)
    encoded = df.select(pl.struct(fields).struct.json_encode().str.slice(0, RAW_LIMIT))
    return encoded.to_series()


def kind_of(dtype: pl.DataType) -> str | None:
    """What a column of this type holds, in the words of the errors, or None for text."""
    if dtype in (pl.Utf8, pl.Null) or isinstance(dtype, pl.Categorical | pl.Enum):
        return None
    if dtype == pl.Binary:
        return "binary data (bytes, not UTF-8 text: write the column as strings)"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_numeric():
        return "number"
    if isinstance(dtype, pl.List | pl.Array):
        return "list"
    if isinstance(dtype, pl.Struct):
        return "object"
    if dtype.is_temporal():
        return "date or time"
    return str(dtype)


def _refuse_binary(records: pl.DataFrame, column: str, source_file: str, option: str) -> None:
    """Bytes are not text: one sentence naming the file and column, instead of a guess."""
    if records.schema.get(column) == pl.Binary:
        raise WinnowError(
            f"{source_file}: column '{column}' holds bytes (binary), not strings; write it as "
            f"a UTF-8 string column (e.g. pyarrow.compute.cast(table['{column}'], pa.string())) "
            f"or choose another column with {option}."
        )


def _readable(rows: pl.DataFrame, binary: list[str]) -> pl.DataFrame:
    """Rows with their binary columns decoded (bytes that are not UTF-8 replaced), to show."""
    if not binary:
        return rows
    decoded = [
        pl.Series(n, [None if v is None else v.decode("utf-8", "replace") for v in rows[n]])
        for n in binary
    ]
    return rows.with_columns(decoded)


def _as_read(shown: pl.Series, kinds: pl.Series, tf: str) -> pl.Series:
    """Quarantined rows whose text a reader had to read as text shown with the value as it
    was in the file (a list as a list, not as the string of one)."""
    rows = []
    for raw, kind in zip(shown.to_list(), kinds.to_list(), strict=True):
        if kind is not None:
            try:
                record = json.loads(raw)
                record[tf] = json.loads(record[tf])
                raw = json.dumps(record, ensure_ascii=False)[:RAW_LIMIT]
            except (ValueError, TypeError, KeyError):
                pass
        rows.append(raw)
    return pl.Series(shown.name, rows, dtype=pl.Utf8)


def _with_article(kinds: pl.Expr) -> pl.Expr:
    """'a number', 'an array', 'binary data'."""
    vowel = kinds.str.contains("^[aeiou]")
    article = pl.when(vowel).then(pl.lit("an ") + kinds).otherwise(pl.lit("a ") + kinds)
    return pl.when(kinds.str.starts_with("binary")).then(kinds).otherwise(article)


def text_problems(records: pl.DataFrame, tf: str) -> pl.Series:
    """Per row, why its `tf` value is not usable text (null when it is): missing or null, or
    a number, boolean, list or object where a string was expected. Never stringified."""
    advice = "fix the record, or set --text-field (or the source's text_field)"
    if tf not in records.columns:
        fields = ", ".join(c for c in records.columns if not c.startswith("__")) or "none"
        error = f"no '{tf}' field (fields: {fields}); {advice}"
        return pl.repeat(error, records.height, dtype=pl.Utf8, eager=True)
    kind = kind_of(records.schema[tf])
    if kind is not None:
        kinds: pl.Expr = pl.lit(kind, dtype=pl.Utf8)
    elif KIND_PREFIX + tf in records.columns:
        kinds = pl.col(KIND_PREFIX + tf)
    else:
        kinds = pl.lit(None, dtype=pl.Utf8)
    reason = (
        pl.when(pl.col(tf).is_null())
        .then(pl.lit(f"'{tf}' is missing or null; {advice}"))
        .when(kinds.is_not_null())
        .then(pl.format(f"'{tf}' is {{}}, expected a string; {advice}", _with_article(kinds)))
        .otherwise(pl.lit(None, dtype=pl.Utf8))
    )
    return records.select(reason.alias("error")).to_series()


def to_docs(raw: RawBatch, spec: SourceSpec, file_name: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Map a reader's records to the docs schema (plus `__line`, each doc's line); rows
    without usable text are quarantined with the reason (a text value that is not a string
    is never turned into one)."""
    tf, idf = spec.text_field, spec.id_field
    _refuse_binary(raw.records, idf, raw.source_file, "--id-field")
    errors = text_problems(raw.records, tf)
    kinds = [c for c in raw.records.columns if c.startswith(KIND_PREFIX)]
    original = raw.records.drop(kinds)
    records = stable_types(original)
    binary = [n for n, t in records.schema.items() if t == pl.Binary]
    ok = errors.is_null()
    bad = records.filter(~ok)
    try:  # the row as read: a list stays a list
        shown = row_json(_readable(original.filter(~ok), binary))
    except pl.exceptions.PolarsError:
        shown = row_json(_readable(bad, binary))
    if KIND_PREFIX + tf in raw.records.columns:
        shown = _as_read(shown, raw.records.filter(~ok)[KIND_PREFIX + tf], tf)
    quarantine = pl.DataFrame(
        {
            "source_file": pl.Series([raw.source_file] * bad.height, dtype=pl.Utf8),
            "line": bad["__line"],
            "error": errors.filter(~ok),
            "raw": shown,
        },
        schema=QUARANTINE_SCHEMA,
    )
    good = records.filter(ok)
    if not good.height:
        return pl.DataFrame(schema=EMPTY_DOCS | {"__line": pl.Int64}), quarantine
    renames = {
        c: f"{c}_original" for c in ("id", "text") if c in good.columns and c not in (tf, idf)
    }
    good = good.rename(renames)
    prefix = f"{spec.name}\x1f{file_name}\x1f"
    if idf in good.columns:
        ids = good[idf].cast(pl.Utf8)
        if ids.null_count():
            ids = ids.fill_null(_hash_ids(prefix, good["__line"]))
    else:
        ids = _hash_ids(prefix, good["__line"])
    good = good.with_columns(ids.alias("__id"), pl.col(tf).alias("__text"))
    drop = {"__id", "__text", tf, "source_file"}
    if idf == "id":
        drop.add("id")
    rest = [c for c in good.columns if c not in drop]
    docs = good.select(
        pl.col("__id").alias("id"),
        pl.col("__text").alias("text"),
        *[c for c in rest if c != "__line"],
        pl.lit(raw.source_file, dtype=pl.Utf8).alias("source_file"),
        pl.col("__line"),
    )
    return docs, quarantine


def _reader(spec: SourceSpec, path: Path) -> Reader:
    """The reader of one file of the source, told to mark non-string values of the text."""
    return reader_for(path, spec.format, **{**spec.options, "check_strings": (spec.text_field,)})


def _misnamed_as_row(raws: Iterator[RawBatch], source_file: str) -> Iterator[RawBatch]:
    """A file named .gz/.zst that is not that compression becomes one quarantined row (its
    first bytes as raw), so the run goes on to the next file; --strict stops there."""
    try:
        yield from raws
    except NotCompressed as exc:
        head = exc.head.decode("utf-8", "replace")
        empty = pl.DataFrame({"__line": pl.Series([], dtype=pl.Int64)})
        yield RawBatch(source_file, empty, quarantine_rows(source_file, [(1, exc.reason, head)]))


def _raw_batches(spec: SourceSpec, path: Path | None, batch_rows: int) -> Iterator[RawBatch]:
    """The reader's batches for one file of the source, or for its hub id."""
    if path is None:
        assert spec.hub_id is not None
        return HfReader(**spec.options).read_hub(spec.hub_id, batch_rows)
    if not path.exists():
        raise WinnowError(f"{path}: file not found; it was part of source '{spec.name}'.")
    return _misnamed_as_row(_reader(spec, path).read(path, batch_rows), str(path))


def _named(raw: RawBatch, url: str) -> RawBatch:
    """A batch read from a local copy, renamed to the object it was copied from."""
    quarantine = raw.quarantine.with_columns(pl.lit(url, dtype=pl.Utf8).alias("source_file"))
    return RawBatch(url, raw.records, quarantine)


def _remote_batches(
    spec: SourceSpec, fs: AbstractFileSystem, file: RemoteFile, batch_rows: int
) -> Iterator[RawBatch]:
    """The reader's batches for one object, read from a local copy deleted right after."""
    with remote.local_copy(fs, file) as local:
        try:
            raws = _misnamed_as_row(_reader(spec, local).read(local, batch_rows), str(local))
            for raw in raws:
                yield _named(raw, file.url)
        except WinnowError as exc:
            raise WinnowError(str(exc).replace(str(local), file.url)) from exc


def _file_docs(
    spec: SourceSpec, file_index: int, file_name: str, shown: str, raws: Iterator[RawBatch]
) -> Iterator[DocBatch]:
    """Docs batches of one file's raw batches, warning when the file held nothing."""
    empty = True
    for batch_index, raw in enumerate(raws):
        docs, bad = to_docs(raw, spec, file_name)
        quarantine = pl.concat([raw.quarantine, bad]).with_columns(
            pl.format("line {}: {}", "line", "error").alias("error")
        )
        empty = empty and not docs.height and not quarantine.height
        key = f"{file_index:05d}-{batch_index:05d}"
        lines = docs.get_column("__line")
        yield DocBatch(raw.source_file, key, docs.drop("__line"), quarantine, lines)
    if empty:
        warnings.warn(f"{shown}: is empty; no documents were read from it.", stacklevel=2)


def iter_documents(
    spec: SourceSpec, batch_rows: int = 10_000, only: int | None = None
) -> Iterator[DocBatch]:
    """Read every file of a source in order (or file number `only` alone, with the same shard
    keys), as docs batches of at most `batch_rows` rows."""
    if spec.remote:
        assert spec.url is not None
        fs, _ = remote.filesystem(spec.url)
        for index, file in enumerate(spec.remote):
            if only is None or index == only:
                raws = _remote_batches(spec, fs, file, batch_rows)
                yield from _file_docs(spec, index, file.name, file.url, raws)
        return
    targets: list[Path | None] = list(spec.paths) if spec.hub_id is None else [None]
    for index, path in enumerate(targets):
        if only is None or index == only:
            name = spec.relative_name(path) if path is not None else spec.hub_id or ""
            raws = _raw_batches(spec, path, batch_rows)
            yield from _file_docs(spec, index, name, str(path or spec.hub_id), raws)
