"""`winnow data`: list, inspect, query and export dataset versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import duckdb
import polars as pl
import typer
from rich.markup import escape

from winnow import exports
from winnow.commands import mix, stats
from winnow.commands.options import WorkspaceOption, console, new_table
from winnow.curate.report import print_report
from winnow.errors import WinnowError
from winnow.workspace import SPLITS, Workspace

app = typer.Typer(help="List, inspect, query and export datasets.", no_args_is_help=True)
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
        Path,
        typer.Option(
            "--output",
            "-o",
            help="A .parquet or .jsonl file (plain, trl), a .json file (llama-factory) or a new "
            "folder (hf).",
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
    """Write one split of a dataset version to a file, or in a training tool's layout.

    Example: winnow data export demo-instruct --format llama-factory -o export/demo-instruct.json
    """
    version = Workspace.resolve(workspace).dataset(dataset)
    if split not in SPLITS:
        raise WinnowError(f"--split '{split}' is unknown; use one of: {', '.join(SPLITS)}.")
    if fmt not in exports.FORMATS:
        raise WinnowError(f"--format '{fmt}' is unknown; use one of: {', '.join(exports.FORMATS)}.")
    suffix = output.suffix.lower()
    if fmt == "plain" and suffix not in {".parquet", ".jsonl"}:
        raise WinnowError(f"--output {output}: expected a name ending in .parquet or .jsonl.")
    output.parent.mkdir(parents=True, exist_ok=True)
    files = sorted((version.path / split).glob("*.parquet"))
    if fmt != "plain":
        frame = exports.decoded(
            pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
            if files
            else pl.DataFrame(schema={"id": pl.Utf8, "text": pl.Utf8})
        )
        if fmt == "trl":
            exports.write_trl(frame, output)
        elif fmt == "hf":
            exports.write_hf(frame, output)
        else:
            info = exports.write_llama_factory(frame, output, version.name)
            console.print(f"entry '{version.name}' written to {info}")
        kind = exports.kind_of(frame)
        console.print(f"wrote {frame.height:,} {split} rows ({kind}) of {version.ref} to {output}")
        return
    if not files:
        empty = pl.DataFrame(schema={"id": pl.Utf8, "text": pl.Utf8})
        if suffix == ".parquet":
            empty.write_parquet(output)
        else:
            empty.write_ndjson(output)
        console.print(f"{version.ref} has no {split} rows; wrote an empty {output}.")
        return
    con = Workspace.resolve(workspace).connect()
    kind = "PARQUET" if suffix == ".parquet" else "JSON"
    con.execute(f"COPY (SELECT * FROM {version.relation_sql(split)}) TO '{output}' (FORMAT {kind})")
    rows = con.execute(f"SELECT count(*) FROM {version.relation_sql(split)}").fetchall()[0][0]
    console.print(f"wrote {rows:,} {split} rows of {version.ref} to {output}")
