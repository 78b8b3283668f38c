"""Atomic file writes: write to a temporary name, then rename, so a crash leaves no half file;
a write the storage refuses (disk full, read-only, no permission) removes what it had begun and
becomes one sentence naming the file."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winnow.errors import storage_error

if TYPE_CHECKING:
    import polars as pl


def _tmp_for(path: Path) -> Path:
    """A temporary sibling name unique to this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def remove(path: Path) -> None:
    """Remove a file or folder if it is there, quietly (it is being given up anyway)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with suppress(OSError):
            path.unlink()


@contextmanager
def writing(path: Path, partial: Path | None = None) -> Iterator[None]:
    """Around the writing of `path`: on any failure remove `partial` (the temporary file or
    staging folder begun), and turn a write the storage refused into one sentence naming
    `path` and what to do."""
    try:
        yield
    except BaseException as exc:
        if partial is not None:
            remove(partial)
        refused = storage_error(exc, path)
        if refused is None:
            raise
        raise refused from exc


def write_parquet(df: pl.DataFrame, path: Path, *, scratch: bool = False) -> None:
    """Write a Parquet file atomically: zstd for what a user keeps, lz4 for `scratch` files
    that a run reads back and deletes (half zstd's CPU time, about 1.5x the bytes)."""
    tmp = _tmp_for(path)
    with writing(path, tmp):
        path.parent.mkdir(parents=True, exist_ok=True)
        df.write_parquet(tmp, compression="lz4" if scratch else "zstd")
        os.replace(tmp, path)


def write_json(data: Any, path: Path) -> None:
    """Write a JSON file atomically, flushed to disk before the rename."""
    tmp = _tmp_for(path)
    with writing(path, tmp):
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=2, default=str)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)


def read_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


def save_model_folder(model: Any, tokenizer: Any, target: Path) -> None:
    """Save a model and its tokenizer into a staging folder renamed into place whole, so a
    crash or a second process never leaves a half-written folder at `target`; a folder
    another process finished first is kept."""
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        staging.rename(target)
    except OSError:
        if not target.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
