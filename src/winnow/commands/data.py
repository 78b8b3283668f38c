"""`winnow data`: list, inspect, query, export and push dataset versions."""

from __future__ import annotations

import csv
import datetime
import json
import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

# light modules only, so --help is quick: commands import heavy ones (data frames, models) when run
from winnow.commands import mix, stats
from winnow.commands.options import WorkspaceOption, new_table
from winnow.console import console
from winnow.errors import WinnowError, storage_problem

if TYPE_CHECKING:
    import duckdb

    from winnow.workspace import DatasetVersion, Workspace

app = typer.Typer(help="List, inspect, query, export and push datasets.", no_args_is_help=True)
app.command("stats")(stats.stats)

SplitOption = Annotated[str, typer.Option("--split", help="kept, rejected or quarantine.")]


FORMATS = ("table", "csv", "json")
"""What `data sql` prints: a table for people, CSV or JSON lines for other programs."""


def cell(value: object, width: int) -> Text:
    """A value as a table cell: literal text (markup and emoji codes in data stay as typed),
    whitespace collapsed, at most `width` characters."""
    return Text(" ".join(str(value).split())[:width])


def warn(message: str) -> None:
    """One literal warning line on stderr, so CSV or JSON on stdout stays clean."""
    errors = Console(stderr=True, soft_wrap=True, highlight=False, emoji=False)
    errors.quiet = console.quiet
    errors.print(Text.assemble(("warning:", "yellow"), " ", message))


@app.command("list")
def list_datasets(workspace: WorkspaceOption = None) -> None:
    """List every dataset version with its row counts and lineage.

    Example: winnow data list -w workspace
    """
    from winnow.workspace import Workspace

    ws = Workspace.resolve(workspace)
    columns = ("dataset", "kind", "kept", "rejected", "quarantined", "recipe", "source")
    table = new_table(f"datasets in {ws.root}", *columns)
    damaged: list[str] = []
    for name in ws.names():
        for version in ws.versions(name):
            try:
                manifest = version.manifest
            except WinnowError as exc:
                damaged.append(str(exc))
                table.add_row(version.ref, "damaged", "", "", "", "", "")
                continue
            counts = manifest["counts"]
            table.add_row(
                version.ref,
                manifest.get("kind", ""),
                f"{counts['kept']:,}",
                f"{counts['rejected']:,}",
                f"{counts['quarantined']:,}",
                Text(str(manifest["recipe"]["name"])),
                Text(str(manifest["source"]["name"])),
            )
    console.print(table)
    for message in damaged:
        warn(message)


@app.command()
def show(
    dataset: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    workspace: WorkspaceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw manifest.")] = False,
) -> None:
    """Show a dataset version's report, schema and lineage from its manifest.

    Example: winnow data show demo-web@v1
    """
    from winnow.curate.report import print_report
    from winnow.workspace import Workspace

    version = Workspace.resolve(workspace).dataset(dataset)
    manifest = version.manifest
    if as_json:
        console.print_json(json.dumps(manifest))
        return
    if manifest.get("kind") == "mix":
        console.print(mix.mixture_table(manifest))
    print_report(console, version)
    source, recipe = manifest["source"], manifest["recipe"]
    console.print(Text(f"source {source['name']} ({source['licence'] or 'licence not declared'})"))
    console.print(Text(f"recipe {recipe['name']} hash {recipe['hash']}"))
    schema = new_table("kept schema", "column", "type")
    for column, kind in manifest["splits"]["kept"]["schema"].items():
        schema.add_row(Text(column), Text(kind))
    console.print(schema)


def check_split(split: str) -> None:
    """One sentence for a --split that is not kept, rejected or quarantine."""
    from winnow.workspace import SPLITS

    if split not in SPLITS:
        raise WinnowError(f"--split '{split}' is unknown; use one of: {', '.join(SPLITS)}.")


def readable(version: DatasetVersion, split: str) -> list[Path]:
    """The split's Parquet shards, each checked to be readable, so that a damaged file is one
    sentence naming it rather than a reader's traceback."""
    from winnow.workspace import damaged, unreadable

    files = sorted((version.path / split).glob("*.parquet"))
    for path in files:
        if unreadable(path) is not None:
            raise damaged(version, split, ValueError(path))
    return files


@app.command()
def head(
    dataset: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    rows: Annotated[int, typer.Option("--rows", "-n", min=1, help="How many rows.")] = 5,
    split: SplitOption = "kept",
    workspace: WorkspaceOption = None,
) -> None:
    """Print the first rows of a split, text shortened to fit and shown literally (markup or
    emoji codes in the data are not rendered).

    Example: winnow data head demo-web --split rejected -n 10
    """
    import duckdb

    from winnow.workspace import Workspace, damaged

    check_split(split)
    version = Workspace.resolve(workspace).dataset(dataset)
    if not readable(version, split):
        console.print(f"{version.ref} has no {split} rows.")
        return
    con = duckdb.connect(":memory:")
    try:
        frame = con.sql(f"SELECT * FROM {version.relation_sql(split)} LIMIT {rows}").pl()
    except duckdb.Error as exc:
        raise damaged(version, split, exc) from exc
    wanted = [c for c in ("id", "text", "step", "reason", "line", "error") if c in frame.columns]
    table = new_table(f"{version.ref} {split}", *wanted)
    for row in frame.iter_rows(named=True):
        table.add_row(*[cell(row[c], 160) for c in wanted])
    console.print(table)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help='SQL over views named like the datasets: "web".')],
    workspace: WorkspaceOption = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="At most this many rows are printed (50 in a table; every row in csv or json "
            "unless given).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="table (for reading; values shortened to fit), csv (a header, then every row, "
            "via Python's csv module) or json (one JSON object per row and line): csv and json "
            "keep wide values whole.",
        ),
    ] = "table",
) -> None:
    """Run SQL in DuckDB: each dataset is a view (NAME, NAME_rejected, NAME_quarantine,
    and "NAME@v1" for a fixed version). Values are printed literally; a dataset whose files
    cannot be read is left out with a warning on stderr.

    Example: winnow data sql 'SELECT step, count(*) FROM "demo-web_rejected" GROUP BY step'
    """
    import duckdb

    from winnow.workspace import Workspace

    if fmt not in FORMATS:
        raise WinnowError(f"--format '{fmt}' is unknown; use one of: {', '.join(FORMATS)}.")
    skipped: dict[str, str] = {}
    con = Workspace.resolve(workspace).connect(lambda view, why: skipped.setdefault(view, why))
    for why in dict.fromkeys(skipped.values()):
        views = ", ".join(v for v, w in skipped.items() if w == why)
        warn(f"left out view(s) {views}: {why}")
    try:
        cursor = con.execute(query)
        columns = [d[0] for d in cursor.description or []]
        if fmt == "table":
            shown = cursor.fetchmany((limit or 50) + 1) if columns else []
        elif columns:
            write_rows(cursor, columns, fmt, limit)
            return
    except duckdb.Error as exc:
        raise query_error(query, exc, skipped) from exc
    if not columns:
        console.print("done (the statement returned no rows).")
        return
    table = new_table(None)
    for column in columns:
        table.add_column(Text(column), overflow="fold")
    for row in shown[: limit or 50]:
        table.add_row(*[cell(v, 200) for v in row])
    console.print(table)
    if len(shown) > (limit or 50):
        console.print(
            f"(more than {limit or 50:,} rows; use LIMIT, --limit, or --format csv|json for all)"
        )


def query_error(query: str, exc: duckdb.Error, skipped: dict[str, str]) -> WinnowError:
    """The sentence for a failed query: why a left-out view it names could not be read, else
    DuckDB's first line."""
    lowered = query.lower()
    for view in sorted(skipped, key=len, reverse=True):
        if view.lower() in lowered:
            return WinnowError(skipped[view])
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return WinnowError(
        f"the query failed: {first}; check names with 'winnow data list' (quote names with dashes)."
    )


def jsonable(value: object) -> object:
    """A value JSON has no type for, as text: dates in ISO form, bytes decoded, the rest str."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return str(value)


def csv_value(value: object) -> object:
    """A value as a CSV field: nested values as JSON, missing ones empty."""
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=jsonable)
    if isinstance(value, str | int | float | bool):
        return value
    return jsonable(value)


def write_rows(
    cursor: duckdb.DuckDBPyConnection, columns: list[str], fmt: str, limit: int | None
) -> None:
    """Stream a result to stdout as CSV (header, then rows) or as JSON lines, batch by batch."""
    out = sys.stdout
    writer = csv.writer(out, lineterminator="\n")
    keys = unique_keys(columns)
    if fmt == "csv":
        writer.writerow(columns)
    left = limit
    while left is None or left > 0:
        batch = cursor.fetchmany(min(10_000, left) if left is not None else 10_000)
        if not batch:
            break
        for row in batch:
            if fmt == "csv":
                writer.writerow([csv_value(v) for v in row])
            else:
                record = dict(zip(keys, row, strict=True))
                out.write(json.dumps(record, ensure_ascii=False, default=jsonable) + "\n")
        left = None if left is None else left - len(batch)
    out.flush()


def unique_keys(columns: list[str]) -> list[str]:
    """Column names made unique for JSON objects (a, a_1, ...), as DuckDB names them."""
    seen: dict[str, int] = {}
    keys = []
    for column in columns:
        key, count = column, seen.get(column, 0)
        while key in seen:
            count += 1
            key = f"{column}_{count}"
        seen[column] = count
        seen.setdefault(key, 0)
        keys.append(key)
    return keys


@app.command()
def export(
    dataset: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="A .parquet or .jsonl file (plain, trl), a .json file (llama-factory) or a new "
            "folder (hf); a path, or a URL on object storage (s3://, gs://) except for "
            "llama-factory.",
        ),
    ],
    split: SplitOption = "kept",
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="plain (every column), trl (TRL's columns), llama-factory (JSON + "
            "dataset_info.json entry) or hf (datasets.save_to_disk).",
        ),
    ] = "plain",
    workspace: WorkspaceOption = None,
) -> None:
    """Write one split of a dataset version to a file or a URL, or in a training tool's layout.
    The output appears whole or not at all: it is written beside its place and renamed in, so
    an existing file is replaced only once the new one is complete.

    Example: winnow data export demo-instruct --format llama-factory -o export/demo-instruct.json
    """
    from winnow import exports, remote
    from winnow.workspace import Workspace

    ws = Workspace.resolve(workspace)
    version = ws.dataset(dataset)
    check_split(split)
    exports.check_output(fmt, output)
    if not remote.is_remote(output):
        target = remote.local_path(output) if remote.is_url(output) else Path(output)
        check_target(target, output, fmt)
        console.print(Text(export_local(ws, version, split, fmt, target, output)))
        return
    if fmt == "hf" and remote.has_files(output):
        raise WinnowError(f"--output {output} already holds files; give a new prefix.")
    with remote.staged_upload(output) as target:
        done = _export(ws, version, split, fmt, target, output)
    console.print(Text(done))


def check_target(target: Path, shown: str, fmt: str) -> None:
    """Refuse, before anything is written, an output that cannot be made where it is asked
    for: under a file, a folder where a file goes, an hf folder that holds files."""
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise WinnowError(
            f"--output {shown}: {folder} is a file, so no folder can be made there; choose "
            "another path."
        )
    if fmt == "hf":
        if target.is_file():
            raise WinnowError(f"--output {shown} is a file; --format hf writes a new folder.")
        if target.is_dir() and any(target.iterdir()):
            raise WinnowError(f"--output {shown} is a folder with files; give a new folder.")
        return
    if target.is_dir():
        raise WinnowError(f"--output {shown} is a folder; give a file name in it instead.")


def export_local(
    ws: Workspace, version: DatasetVersion, split: str, fmt: str, target: Path, shown: str
) -> str:
    """Export into a hidden staging folder beside `target`, then rename into place (the
    dataset_info.json of llama-factory last), so a failure leaves no half-written output."""
    from winnow.files import writing

    staging = target.parent / f".winnow-export-{os.getpid()}-{secrets.token_hex(4)}"
    with writing(target, staging):
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        info = target.with_name("dataset_info.json")
        if fmt == "llama-factory" and info.is_file():
            shutil.copy2(info, staging / info.name)
        done = _export(ws, version, split, fmt, staging / target.name, shown)
        if target.is_dir():
            target.rmdir()
        os.replace(staging / target.name, target)
        if (staging / info.name).is_file():
            os.replace(staging / info.name, info)
        staging.rmdir()
    return done


def _export(
    ws: Workspace, version: DatasetVersion, split: str, fmt: str, target: Path, shown: str
) -> str:
    """Write a split to a local target in a format; the line to print, naming `shown`."""
    import duckdb
    import polars as pl

    from winnow import exports
    from winnow.workspace import damaged

    files = readable(version, split)
    if fmt != "plain":
        try:
            frame = exports.decoded(
                pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
                if files
                else pl.DataFrame(schema={"id": pl.Utf8, "text": pl.Utf8})
            )
        except pl.exceptions.PolarsError as exc:
            raise damaged(version, split, exc) from exc
        if fmt == "trl":
            exports.write_trl(frame, target)
        elif fmt == "hf":
            exports.write_hf(frame, target)
        else:
            exports.write_llama_factory(frame, target, version.name)
            info = Path(shown).with_name("dataset_info.json")
            console.print(Text(f"entry '{version.name}' written to {info}"))
        for note in exports.export_notes(frame, fmt):
            console.print(Text.assemble(("note", "yellow"), " ", note))
        kind = exports.kind_of(frame)
        return f"wrote {frame.height:,} {split} rows ({kind}) of {version.ref} to {shown}"
    suffix = target.suffix.lower()
    if not files:
        empty = pl.DataFrame(schema={"id": pl.Utf8, "text": pl.Utf8})
        if suffix == ".parquet":
            empty.write_parquet(target)
        else:
            empty.write_ndjson(target)
        return f"{version.ref} has no {split} rows; wrote an empty {shown}."
    con = duckdb.connect(":memory:")
    kind = "PARQUET" if suffix == ".parquet" else "JSON"
    quoted = str(target).replace("'", "''")
    try:
        con.execute(
            f"COPY (SELECT * FROM {version.relation_sql(split)}) TO '{quoted}' (FORMAT {kind})"
        )
        rows = con.execute(f"SELECT count(*) FROM {version.relation_sql(split)}").fetchall()[0][0]
    except duckdb.Error as exc:
        if storage_problem(exc) is not None:
            raise
        raise damaged(version, split, exc) from exc
    return f"wrote {rows:,} {split} rows of {version.ref} to {shown}"


@app.command()
def push(
    dataset: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    prefix: Annotated[
        str, typer.Argument(help="URL prefix (s3://bucket/datasets); NAME/VERSION/ goes under it.")
    ],
    workspace: WorkspaceOption = None,
) -> None:
    """Copy a whole dataset version (kept/, rejected/, quarantine/, manifest.json) to
    PREFIX/NAME/VERSION/ on object storage, manifest.json last: a copy without it is incomplete.

    Example: winnow data push demo-web@v1 s3://my-bucket/datasets
    """
    from winnow import remote
    from winnow.workspace import Workspace

    version = Workspace.resolve(workspace).dataset(dataset)
    if not remote.is_url(prefix):
        raise WinnowError(
            f"{prefix}: expected a URL prefix such as s3://bucket/datasets; for a local copy use "
            "file:///abs/path."
        )
    url = f"{prefix.rstrip('/')}/{version.name}/{version.version}"
    pushed = remote.read_bytes(f"{url}/manifest.json")
    if pushed is not None:
        if json.loads(pushed).get("fingerprint") != version.manifest["fingerprint"]:
            raise WinnowError(
                f"{url}/manifest.json: a different version was pushed there already; push to "
                "another prefix or delete that copy first."
            )
        console.print(f"{version.ref} is already at {url}/ (same fingerprint); nothing to do.")
        return
    count = remote.upload_folder(version.path, url, last="manifest.json")
    console.print(f"pushed {count} files of {version.ref} to {url}/ (manifest.json last)")
    console.print(f"read it elsewhere with: winnow curate run RECIPE --source {url}/kept/ ...")
