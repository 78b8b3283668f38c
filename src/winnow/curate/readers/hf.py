"""Hugging Face datasets: folders saved with save_to_disk, or hub ids when online."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from winnow.curate.readers.base import RawBatch, Reader, empty_quarantine
from winnow.errors import WinnowError

OFFLINE_FLAGS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
"""Environment variables that say the hub must not be contacted."""


def is_saved_dataset(path: Path) -> bool:
    """Whether a folder was written by `Dataset.save_to_disk` or `DatasetDict.save_to_disk`."""
    markers = ("dataset_info.json", "state.json", "dataset_dict.json")
    return path.is_dir() and any((path / m).is_file() for m in markers)


def hub_offline() -> bool:
    """Whether the user or the test suite asked for no hub access."""
    return any(os.environ.get(f, "").lower() in {"1", "true", "yes", "on"} for f in OFFLINE_FLAGS)


def _frame(table: Any, first: int) -> pl.DataFrame:
    """An Arrow table or a dict of columns as a frame with 1-based row numbers."""
    df = pl.from_arrow(table) if not isinstance(table, dict) else pl.DataFrame(table)
    assert isinstance(df, pl.DataFrame)
    lines = pl.int_range(first, first + df.height, dtype=pl.Int64, eager=True)
    return df.with_columns(lines.alias("__line"))


class HfReader(Reader):
    """A saved dataset folder (`split` picks from a DatasetDict) or a hub id (`name`, `split`)."""

    formats = ("hf",)

    def __init__(self, split: str | None = None, name: str | None = None, **_options: Any):
        self.split = split
        self.name = name

    def read(self, path: Path, batch_rows: int) -> Iterator[RawBatch]:
        """Yield rows of a dataset saved on disk, in batches of at most `batch_rows`."""
        import datasets

        try:
            loaded = datasets.load_from_disk(str(path))
        except (FileNotFoundError, ValueError) as exc:
            raise WinnowError(
                f"{path}: is not a dataset saved with save_to_disk ({exc}); check the folder."
            ) from exc
        if isinstance(loaded, datasets.DatasetDict):
            split = self.split or ("train" if "train" in loaded else None)
            if split not in loaded:
                raise WinnowError(
                    f"{path}: has splits {', '.join(loaded)}; set options.split to one of them."
                )
            loaded = loaded[split]
        first = 1
        for table in loaded.with_format("arrow").iter(batch_size=batch_rows):
            df = _frame(table, first)
            first += df.height
            yield RawBatch(str(path), df, empty_quarantine())

    def read_hub(self, hub_id: str, batch_rows: int) -> Iterator[RawBatch]:
        """Stream a hub dataset in batches, or say how to get it when the hub is out of reach."""
        advice = (
            f"download it (e.g. `datasets.load_dataset('{hub_id}').save_to_disk(DIR)`) and "
            "point --source at the local copy"
        )
        if hub_offline():
            raise WinnowError(f"hub dataset '{hub_id}' cannot be fetched offline; {advice}.")
        import datasets

        split = self.split or "train"
        try:
            stream = datasets.load_dataset(hub_id, self.name, split=split, streaming=True)
            batches = iter(stream.iter(batch_size=batch_rows))
            first_batch = next(batches, None)
        except Exception as exc:
            raise WinnowError(
                f"hub dataset '{hub_id}' could not be read ({exc}); {advice}."
            ) from exc
        first = 1
        while first_batch is not None:
            df = _frame(first_batch, first)
            first += df.height
            yield RawBatch(hub_id, df, empty_quarantine())
            first_batch = next(batches, None)
