"""Curate an imported instruction file through Winnow's runner into an `instruct` version.

The rows are staged as a Parquet file in the dataset's folder (named for the input file's
content and the import options, so a killed run resumes), validation's quarantine joins the
first shard's, and the manifest gets `kind: instruct` plus an `instruct` section.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import xxhash

from winnow.curate.recipes import Recipe
from winnow.curate.runner import Run, RunOptions
from winnow.curate.sources import resolve_source
from winnow.errors import WinnowError
from winnow.files import read_json, write_json, write_parquet
from winnow.instruct.build import Imported
from winnow.instruct.validate import TOKEN_RULE
from winnow.workspace import DatasetVersion, Workspace, check_name


def file_hash(path: Path) -> str:
    """xxh3-64 of a file's bytes."""
    digest = xxhash.xxh3_64()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class InstructRun(Run):
    """A recipe run whose first shard also carries validation's quarantined rows."""

    def __init__(self, *args: Any, imported: Imported, section: dict[str, Any]) -> None:
        super().__init__(*args)
        self.imported, self.section = imported, section

    def batches(self) -> Iterator[tuple[str, pl.DataFrame, pl.DataFrame]]:
        """The staged rows' batches naming the input file, validation's quarantine in the first."""
        first = True
        original = pl.lit(self.section["source"]["files"][0], dtype=pl.Utf8)
        for shard, batch, quarantine in super().batches():
            docs = batch.with_columns(original.alias("source_file"))
            if first:
                quarantine = pl.concat([self.imported.quarantine, quarantine])
                first = False
            yield shard, docs, quarantine

    def publish(self, shards: list[str], seconds: float) -> DatasetVersion:
        """Publish as the runner does, then mark the manifest as an instruction set."""
        version = super().publish(shards, seconds)
        path = version.path / "manifest.json"
        manifest = read_json(path)
        section = dict(self.section)
        manifest["kind"] = "instruct"
        manifest["source"] = section.pop("source")
        manifest["instruct"] = section
        write_json(manifest, path)
        return version


def curate_instruct(
    ws: Workspace,
    recipe: Recipe,
    path: Path,
    imported: Imported,
    output: str,
    options: RunOptions,
    settings: dict[str, Any],
) -> DatasetVersion:
    """Stage the imported rows, run the recipe over them and publish a new version."""
    check_name(output)
    if not imported.rows.height:
        reasons = ", ".join(f"{k} {v}" for k, v in imported.reasons.items()) or "none"
        raise WinnowError(
            f"{path}: no usable rows; all {imported.quarantine.height} were quarantined "
            f"({reasons}); fix the records or check --format and --map."
        )
    digest = file_hash(path)
    key = xxhash.xxh64_hexdigest(f"{digest}|{sorted(settings.items())}".encode())
    stage = ws.datasets_dir / output / f".instruct-{key}"
    staged = stage / f"{path.stem}.parquet"
    if not staged.exists():
        write_parquet(imported.rows, staged)
    source = resolve_source(str(staged), fmt="parquet")
    section = {
        "source": {
            "name": path.stem,
            "files": [str(path)],
            "format": imported.format,
            "fingerprint": digest,
        },
        "format": imported.format,
        **settings,
        "token_rule": TOKEN_RULE,
        "rows_imported": imported.rows.height,
        "quarantined_by_reason": imported.reasons,
    }
    version = InstructRun(ws, recipe, source, output, options, imported=imported, section=section)
    dataset = version.execute()
    shutil.rmtree(stage)
    return dataset
