"""User-facing errors: one sentence naming the file, line or key, what was expected, what to do."""

from __future__ import annotations

import errno
from pathlib import Path

DISK_FULL = "the disk is full (no space left on device)"
READ_ONLY = "the filesystem is read-only"
NO_PERMISSION = "permission is denied"

PROBLEMS = (
    (DISK_FULL, (errno.ENOSPC, errno.EDQUOT), ("No space left on device", "Disk quota exceeded")),
    (READ_ONLY, (errno.EROFS,), ("Read-only file system",)),
    (NO_PERMISSION, (errno.EACCES, errno.EPERM), ("Permission denied",)),
)
"""What a failed write means, by its errno or, for the libraries that keep only the text of
the operating system's error (Polars, DuckDB, Arrow), by the words of that text."""

WHAT_TO_DO = {
    DISK_FULL: "free space on that disk (or point --workspace at one with room) and run the "
    "command again",
    READ_ONLY: "point --workspace (or WINNOW_HOME) at a folder you can write to, or mount it "
    "read-write",
    NO_PERMISSION: "give this user access to it or point --workspace (or WINNOW_HOME) at a "
    "folder you can write to",
}


class WinnowError(Exception):
    """An error the user can fix; the CLI prints its message alone, without a traceback."""


def storage_problem(exc: BaseException) -> str | None:
    """DISK_FULL, READ_ONLY or NO_PERMISSION when `exc` is a write refused by the storage
    (whichever library raised it), else None."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    for problem, codes, words in PROBLEMS:
        if code in codes or any(w in text for w in words):
            return problem
    return None


def storage_error(exc: BaseException, path: str | Path | None = None) -> WinnowError | None:
    """The one sentence for a write the storage refused, naming `path` when the caller knows
    what it was writing (else the file the error names), or None when `exc` is something else."""
    problem = storage_problem(exc)
    if problem is None:
        return None
    named = getattr(exc, "filename", None)
    if path is not None:
        subject = f"cannot write {path}"
    elif named:
        subject = str(named)
    else:
        subject = "a file could not be written"
    return WinnowError(f"{subject}: {problem}; {WHAT_TO_DO[problem]}.")
