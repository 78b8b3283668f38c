"""Curate an imported instruction file through Winnow's runner into an `instruct` version.

The rows are staged as one Parquet file per input file in the dataset's folder (named for
the input files' content and the import options, so a killed run resumes), validation's
quarantine joins the first shard's, and the manifest gets `kind: instruct` plus an
`instruct` section.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
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
from winnow.records import SourceFile, files_fingerprint, source_label
from winnow.workspace import DatasetVersion, Workspace, check_name


class InstructRun(Run):
    """A recipe run whose first shard also carries validation's quarantined rows."""

    reads_on_workers = False

    def __init__(
        self, *args: Any, imported: Imported, section: dict[str, Any], originals: dict[str, str]
    ) -> None:
        super().__init__(*args)
        self.imported, self.section, self.originals = imported, section, originals

    def batches(self) -> Iterator[tuple[str, pl.DataFrame, pl.DataFrame]]:
        """Staged batches naming their input file, validation's quarantine in the first."""
        first = True
        for shard, batch, quarantine in super().batches():
            original = pl.col("source_file").replace_strict(self.originals, return_dtype=pl.Utf8)
            docs = batch.with_columns(original)
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
    files: list[SourceFile],
    imported: Imported,
    output: str,
    options: RunOptions,
    settings: dict[str, Any],
) -> DatasetVersion:
    """Stage the imported rows (one Parquet file per input file), run the recipe, publish.

    With several files, rows are told apart by `source`, the name `import_files` gave them.
    """
    check_name(output)
    label = source_label(files, "instruct")
    where = files[0][0] if len(files) == 1 else f"{len(files)} files from {label}"
    if not imported.rows.height:
        reasons = ", ".join(f"{k} {v}" for k, v in imported.reasons.items()) or "none"
        raise WinnowError(
            f"{where}: no usable rows; all {imported.quarantine.height} were quarantined "
            f"({reasons}); fix the records or check --format and --map."
        )
    digest = files_fingerprint(files)
    key = xxhash.xxh64_hexdigest(f"{digest}|{sorted(settings.items())}".encode())
    stage = ws.datasets_dir / output / f".instruct-{key}"
    originals = {}
    for index, (path, name) in enumerate(files):
        one = len(files) == 1
        rows = imported.rows if one else imported.rows.filter(pl.col("source") == name)
        if not rows.height:
            continue
        staged = stage / f"{index:05d}.parquet"
        originals[str(staged)] = str(path)
        if not staged.exists():
            write_parquet(rows, staged)
    source = resolve_source(str(stage), fmt="parquet")
    section = {
        "source": {
            "name": label,
            "files": [str(path) for path, _ in files],
            "format": imported.format,
            "fingerprint": digest,
        },
        "format": imported.format,
        **settings,
        "token_rule": TOKEN_RULE,
        "rows_imported": imported.rows.height,
        "quarantined_by_reason": imported.reasons,
    }
    run = InstructRun(
        ws, recipe, source, output, options, imported=imported, section=section, originals=originals
    )
    dataset = run.execute()
    shutil.rmtree(stage)
    return dataset
