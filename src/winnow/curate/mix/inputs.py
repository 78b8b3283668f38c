"""A mix's inputs: workspace datasets or files read once, staged as Parquet and counted."""

from __future__ import annotations

import glob
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from winnow.catalogs import find_entry
from winnow.curate.mix.spec import MixInput
from winnow.curate.mix.tokens import TokenCounter
from winnow.curate.sources import SourceSpec, iter_documents, resolve_source
from winnow.errors import WinnowError
from winnow.files import write_parquet
from winnow.workspace import DatasetVersion, Workspace

READ_ROWS = 10_000
"""Rows per batch read from a file input."""


@dataclass
class MixSource:
    """One input of a mix: its rows as Parquet shards, and each row's token count."""

    item: MixInput
    name: str
    shards: list[Path]
    tokens: np.ndarray
    parent: dict[str, Any]
    licence: str | None
    quarantined: int = 0

    @property
    def rows(self) -> int:
        """Rows the input holds."""
        return int(self.tokens.size)


@dataclass(frozen=True)
class Staging:
    """Where one mix works: a folder per input, the drawn rows, and the version to publish."""

    root: Path

    def input_dir(self, index: int) -> Path:
        """Staged Parquet shards of a file input."""
        return self.root / f"in-{index}"

    @property
    def rows(self) -> Path:
        """Drawn rows with their shuffle keys, before sorting."""
        return self.root / "rows"

    @property
    def final(self) -> Path:
        """The dataset version being assembled, renamed into place when done."""
        return self.root / "final"


def _count_shards(shards: list[Path], counter: TokenCounter) -> np.ndarray:
    """Token counts of every row of Parquet shards, reading only the text column."""
    parts = [counter.count(pl.read_parquet(p, columns=["text"])["text"]) for p in shards]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _from_dataset(item: MixInput, dataset: DatasetVersion, counter: TokenCounter) -> MixSource:
    """An input read straight from a workspace dataset's kept shards."""
    manifest = dataset.manifest
    shards = sorted((dataset.path / "kept").glob("*.parquet"))
    parent = {
        "name": dataset.name,
        "version": dataset.version,
        "fingerprint": manifest["fingerprint"],
    }
    licence = manifest.get("source", {}).get("licence")
    return MixSource(item, dataset.ref, shards, _count_shards(shards, counter), parent, licence)


def _from_files(
    item: MixInput,
    spec: SourceSpec,
    counter: TokenCounter,
    shards_dir: Path,
    quarantine_dir: Path,
    notes: list[str],
) -> MixSource:
    """An input read with the source readers once, staged as Parquet, bad rows quarantined."""
    shards, tokens, quarantined = [], [], 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for number, batch in enumerate(iter_documents(spec, batch_rows=READ_ROWS)):
            if batch.quarantine.height:
                name = f"part-{shards_dir.name}-{number:05d}.parquet"
                write_parquet(batch.quarantine, quarantine_dir / name)
                quarantined += batch.quarantine.height
            if batch.docs.height:
                path = shards_dir / f"{number:05d}.parquet"
                write_parquet(batch.docs, path)
                shards.append(path)
                tokens.append(counter.count(batch.docs["text"]))
    notes.extend(f"--input {item.text}: {w.message}" for w in caught)
    parent = {
        "name": spec.name,
        "version": None,
        "fingerprint": spec.fingerprint(),
        "files": spec.files(),
    }
    counts = np.concatenate(tokens) if tokens else np.zeros(0, dtype=np.int64)
    return MixSource(item, spec.name, shards, counts, parent, spec.licence, quarantined)


def _unknown_input(ws: Workspace, item: MixInput) -> WinnowError:
    """The error for an input that is neither a dataset nor a file, glob or catalog source."""
    known = ", ".join(ws.names()) or "none yet"
    return WinnowError(
        f"--input '{item.text}': no dataset '{item.arg.partition('@')[0]}' in "
        f"{ws.datasets_dir} (datasets here: {known}) and no such file, glob or catalog source; "
        "curate it first with 'winnow curate run' or fix the name."
    )


def open_input(
    ws: Workspace,
    index: int,
    item: MixInput,
    counter: TokenCounter,
    staging: Staging,
    notes: list[str],
) -> MixSource:
    """Read one input (a workspace dataset, else a file, glob or catalog source) and count it."""
    exists = Path(item.arg).exists()
    if not exists and ws.versions(item.arg.partition("@")[0]):
        try:
            dataset = ws.dataset(item.arg)
        except WinnowError as exc:
            raise WinnowError(f"--input '{item.text}': {exc}") from exc
        source = _from_dataset(item, dataset, counter)
    elif exists or glob.has_magic(item.arg) or find_entry("sources", item.arg) is not None:
        try:
            spec = resolve_source(item.arg, workspace=ws)
            quarantine_dir = staging.final / "quarantine"
            shards_dir = staging.input_dir(index)
            source = _from_files(item, spec, counter, shards_dir, quarantine_dir, notes)
        except WinnowError as exc:
            raise WinnowError(f"--input '{item.text}': {exc}") from exc
    else:
        raise _unknown_input(ws, item)
    if not source.rows:
        raise WinnowError(
            f"--input '{item.text}' has no rows to draw from ({source.quarantined} unreadable); "
            "check that it is the input you meant, or leave it out."
        )
    return source


def check_names(sources: list[MixSource]) -> None:
    """Refuse two inputs with the same name, which `mix_source` could not tell apart."""
    seen: dict[str, str] = {}
    for source in sources:
        if source.name in seen:
            raise WinnowError(
                f"--input '{source.item.text}' and '{seen[source.name]}' are both named "
                f"'{source.name}'; give each input once (add their weights)."
            )
        seen[source.name] = source.item.text
