"""`winnow data`: list, inspect, query, export and push dataset versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import duckdb
import polars as pl
import typer
from rich.markup import escape

from winnow import exports, remote
from winnow.commands import mix, stats
from winnow.commands.options import WorkspaceOption, new_table
from winnow.console import console
from winnow.curate.report import print_report
from winnow.errors import WinnowError
from winnow.workspace import SPLITS, DatasetVersion, Workspace

app = typer.Typer(help="List, inspect, query, export and push datasets.", no_args_is_help=True)
app.command("stats")(stats.stats)

SplitOption = Annotated[str, typer.Option("--split", help="kept, rejected or quarantine.")]


@app.command("list")
def list_datasets(workspace: WorkspaceOption = None) -> None:
    """List every dataset version with its row counts and lineage.

    Example: winnow data list -w workspace
    """
    ws = Workspace.resolve(workspace)
    columns = ("dataset", "kind", "kept", "rejected", "quarantined", "recipe", "source")
    table = new_table(f"datasets in {ws.root}", *columns)
    for name in ws.names():
        for version in ws.versions(name):
            manifest = version.manifest
            counts = manifest["counts"]
            table.add_row(
                version.ref,
                manifest.get("kind", ""),
                f"{counts['kept']:,}",
                f"{counts['rejected']:,}",
                f"{counts['quarantined']:,}",
                manifest["recipe"]["name"],
                manifest["source"]["name"],
            )
    console.print(table)


@app.command()
def show(
    dataset: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    workspace: WorkspaceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw manifest.")] = False,
) -> None:
    """Show a dataset version's report, schema and lineage from its manifest.

    Example: winnow data show demo-web@v1
    """
    version = Workspace.resolve(workspace).dataset(dataset)
    manifest = version.manifest
    if as_json:
        console.print_json(json.dumps(manifest))
        return
    if manifest.get("kind") == "mix":
        console.print(mix.mixture_table(manifest))
    print_report(console, version)
    source, recipe = manifest["source"], manifest["recipe"]
    console.print(f"source {source['name']} ({source['licence'] or 'licence not declared'})")
    console.print(f"recipe {recipe['name']} hash {recipe['hash']}")
    schema = new_table("kept schema", "column", "type")
    for column, kind in manifest["splits"]["kept"]["schema"].items():
        schema.add_row(escape(column), escape(kind))
    console.print(schema)


@app.command()
def head(
    dataset: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    rows: Annotated[int, typer.Option("--rows", "-n", help="How many rows.")] = 5,
    split: SplitOption = "kept",
    workspace: WorkspaceOption = None,
) -> None:
    """Print the first rows of a split, text shortened to fit.

    Example: winnow data head demo-web --split rejected -n 10
    """
    version = Workspace.resolve(workspace).dataset(dataset)
    if not any((version.path / split).glob("*.parquet")):
        console.print(f"{version.ref} has no {split} rows.")
        return
    con = Workspace.resolve(workspace).connect()
    frame = con.sql(f"SELECT * FROM {version.relation_sql(split)} LIMIT {rows}").pl()
    wanted = [c for c in ("id", "text", "step", "reason", "line", "error") if c in frame.columns]
    table = new_table(f"{version.ref} {split}", *wanted)
    for row in frame.iter_rows(named=True):
        table.add_row(*[escape(" ".join(str(row[c]).split())[:160]) for c in wanted])
    console.print(table)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help='SQL over views named like the datasets: "web".')],
    workspace: WorkspaceOption = None,
    limit: Annotated[int, typer.Option(help="At most this many rows are printed.")] = 50,
) -> None:
    """Run SQL in DuckDB: each dataset is a view (NAME, NAME_rejected, NAME_quarantine,
    and "NAME@v1" for a fixed version).

    Example: winnow data sql 'SELECT step, count(*) FROM "demo-web_rejected" GROUP BY step'
    """
    con = Workspace.resolve(workspace).connect()
    try:
        result = con.sql(query)
    except duckdb.Error as exc:
        raise WinnowError(
            f"the query failed: {str(exc).splitlines()[0]}; check names with "
            "'winnow data list' (quote names with dashes)."
        ) from exc
    if result is None:
        console.print("done (the statement returned no rows).")
        return
    frame = result.pl()
    table = new_table(None, *frame.columns)
    for row in frame.head(limit).iter_rows():
        table.add_row(*[escape(" ".join(str(v).split())[:200]) for v in row])
    console.print(table)
    if frame.height > limit:
        console.print(f"({frame.height - limit:,} more rows; use LIMIT or --limit)")


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

    Example: winnow data export demo-instruct --format llama-factory -o export/demo-instruct.json
    """
    ws = Workspace.resolve(workspace)
    version = ws.dataset(dataset)
    if split not in SPLITS:
        raise WinnowError(f"--split '{split}' is unknown; use one of: {', '.join(SPLITS)}.")
    exports.check_output(fmt, output)
    if not remote.is_remote(output):
        target = remote.local_path(output) if remote.is_url(output) else Path(output)
        target.parent.mkdir(parents=True, exist_ok=True)
        console.print(_export(ws, version, split, fmt, target, output))
        return
    if fmt == "hf" and remote.has_files(output):
        raise WinnowError(f"--output {output} already holds files; give a new prefix.")
    with remote.staged_upload(output) as target:
        done = _export(ws, version, split, fmt, target, output)
    console.print(done)


def _export(
    ws: Workspace, version: DatasetVersion, split: str, fmt: str, target: Path, shown: str
) -> str:
    """Write a split to a local target in a format; the line to print, naming `shown`."""
    files = sorted((version.path / split).glob("*.parquet"))
    if fmt != "plain":
        frame = exports.decoded(
            pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
            if files
            else pl.DataFrame(schema={"id": pl.Utf8, "text": pl.Utf8})
        )
        if fmt == "trl":
            exports.write_trl(frame, target)
        elif fmt == "hf":
            exports.write_hf(frame, target)
        else:
            info = exports.write_llama_factory(frame, target, version.name)
            console.print(f"entry '{version.name}' written to {info}")
        for note in exports.export_notes(frame, fmt):
            console.print(f"[yellow]note[/] {escape(note)}")
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
    con = ws.connect()
    kind = "PARQUET" if suffix == ".parquet" else "JSON"
    con.execute(f"COPY (SELECT * FROM {version.relation_sql(split)}) TO '{target}' (FORMAT {kind})")
    rows = con.execute(f"SELECT count(*) FROM {version.relation_sql(split)}").fetchall()[0][0]
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
