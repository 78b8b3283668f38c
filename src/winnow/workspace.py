"""Where datasets, runs and labels live; files are the truth and DuckDB queries them.

Nearly every command imports this module, so it imports DuckDB and Arrow only inside the
functions that query or read files (a third of a CPU-second saved at every start)."""

from __future__ import annotations

import json
import os
import re
import secrets
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winnow import remote
from winnow.errors import WinnowError
from winnow.files import writing

if TYPE_CHECKING:
    import duckdb

SPLITS = ("kept", "rejected", "quarantine")
"""The row splits every dataset version has, each a folder of Parquet shards."""

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
"""A dataset or run name; \\Z, not $, so that a trailing newline does not pass `match`."""

NAME_MAX = 100
"""The longest dataset or run name: a folder name with room for the suffixes added to it,
well under the filesystems' 255 bytes."""


def valid_name(name: str) -> bool:
    """Whether `name` works as a folder name and an SQL view: NAME_PATTERN, NAME_MAX long."""
    return len(name) <= NAME_MAX and NAME_PATTERN.fullmatch(name) is not None


def check_name(name: str) -> str:
    """Refuse dataset and run names that would not work as folder names or SQL views."""
    if valid_name(name):
        return name
    shown = repr(name if len(name) <= 60 else name[:60] + "...")
    if len(name) > NAME_MAX:
        raise WinnowError(
            f"name {shown} is not allowed: it has {len(name)} characters and a dataset or run "
            f"name has at most {NAME_MAX}; choose a shorter one."
        )
    raise WinnowError(
        f"name {shown} is not allowed; use letters, digits, '.', '_' or '-', starting with a "
        f"letter or digit (at most {NAME_MAX} characters)."
    )


@dataclass(frozen=True)
class DatasetVersion:
    """One written, never-changed version of a dataset."""

    name: str
    version: str
    path: Path

    @property
    def ref(self) -> str:
        """The NAME@VERSION form users type."""
        return f"{self.name}@{self.version}"

    @property
    def manifest(self) -> dict[str, Any]:
        """The version's manifest.json as a dict."""
        path = self.path / "manifest.json"
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WinnowError(
                f"{path}: not a readable manifest ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else 'empty'}), so {self.ref} cannot be "
                f"used; restore the file, or remove {self.path} and make the version again."
            ) from exc
        if not isinstance(found, dict):
            raise WinnowError(
                f"{path}: expected a JSON object, found {type(found).__name__}; restore the "
                f"file, or remove {self.path} and make the version again."
            )
        return found

    def split_glob(self, split: str) -> str:
        """A glob over the Parquet shards of one split."""
        if split not in SPLITS:
            raise WinnowError(f"unknown split '{split}'; use one of: {', '.join(SPLITS)}.")
        return str(self.path / split / "*.parquet")

    def relation_sql(self, split: str = "kept") -> str:
        """SQL that reads one split, tolerating shards whose extra columns differ."""
        return f"read_parquet('{self.split_glob(split)}', union_by_name = true)"


def version_number(version: str) -> int:
    """Order versions v1, v2, ..., v10 numerically."""
    return int(version[1:]) if version[1:].isdigit() else -1


class Workspace:
    """A folder holding datasets/<name>/<version>/, runs/ and labels/."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def resolve(cls, option: str | Path | None = None) -> Workspace:
        """Pick the workspace: the --workspace option, else $WINNOW_HOME, else ./workspace."""
        chosen = str(option or os.environ.get("WINNOW_HOME") or "workspace")
        if remote.is_remote(chosen):
            raise WinnowError(
                f"workspace {chosen}: a workspace must be a local or shared folder, since dataset "
                "versions, labels and resumable runs rely on atomic renames that object stores "
                "lack; mount the bucket or use a shared filesystem for the workspace, and use "
                "'winnow data push' and URL sources for object storage."
            )
        if remote.is_url(chosen):
            root = remote.local_path(chosen).resolve()
        else:
            root = Path(chosen).expanduser().resolve()
        check_folder(root)
        return cls(root)

    @property
    def datasets_dir(self) -> Path:
        """The folder of all datasets."""
        return self.root / "datasets"

    def versions(self, name: str) -> list[DatasetVersion]:
        """Every finished version of a dataset, oldest first."""
        folder = self.datasets_dir / name
        if not folder.is_dir():
            return []
        found = [
            DatasetVersion(name, p.name, p)
            for p in folder.iterdir()
            if p.is_dir() and version_number(p.name) > 0 and (p / "manifest.json").is_file()
        ]
        return sorted(found, key=lambda d: version_number(d.version))

    def names(self) -> list[str]:
        """Names of datasets with at least one finished version."""
        if not self.datasets_dir.is_dir():
            return []
        return sorted(p.name for p in self.datasets_dir.iterdir() if self.versions(p.name))

    def dataset(self, ref: str) -> DatasetVersion:
        """Find NAME or NAME@VERSION (latest version when none is given)."""
        name, _, version = ref.partition("@")
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.names()) or "none yet"
            raise WinnowError(
                f"no dataset '{name}' in {self.datasets_dir}; datasets here: {known} "
                "(make one with 'winnow curate run')."
            )
        if not version:
            return versions[-1]
        for candidate in versions:
            if candidate.version == version:
                return candidate
        listed = ", ".join(v.version for v in versions)
        raise WinnowError(f"dataset '{name}' has no version '{version}'; it has: {listed}.")

    def next_version(self, name: str) -> str:
        """The version name a new write of `name` gets."""
        versions = self.versions(name)
        return f"v{version_number(versions[-1].version) + 1 if versions else 1}"

    def publish(self, name: str, write: Callable[[Path, str], None]) -> DatasetVersion:
        """A new version of `name`: `write(folder, version)` fills a staging folder, which is
        renamed into place once complete and removed if writing fails."""
        version = self.next_version(name)
        staging = self.datasets_dir / name / f".partial-{os.getpid()}-{secrets.token_hex(4)}"
        target = self.datasets_dir / name / version
        with writing(target, staging):
            write(staging, version)
            os.rename(staging, target)
        return DatasetVersion(name, version, target)

    def connect(
        self, on_skip: Callable[[str, str], None] | None = None
    ) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with a view per dataset and split, and `eval_scores` over every
        eval run's scores; it never locks the files. A dataset version whose files cannot be
        read gets no views: `on_skip(view, sentence)` hears of each (else a warning), so one
        damaged file does not stop queries of the others."""
        import duckdb

        con = duckdb.connect(":memory:")
        report = on_skip or (lambda _view, sentence: warnings.warn(sentence, stacklevel=3))
        for name in self.names():
            versions = self.versions(name)
            for version in versions:
                self._add_views(con, version, f"{name}@{version.version}", report)
            self._add_views(con, versions[-1], name, report)
        self._add_scores(con, report)
        return con

    def _add_scores(
        self, con: duckdb.DuckDBPyConnection, report: Callable[[str, str], None]
    ) -> None:
        """The `eval_scores` view over every eval run's scores.parquet that can be read."""
        scores = []
        for path in sorted((self.root / "runs").glob("*/scores.parquet")):
            problem = unreadable(path)
            if problem is None:
                scores.append(path)
            else:
                report("eval_scores", f"{path}: {problem}; eval_scores leaves it out.")
        if scores:
            listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in scores)
            con.execute(
                f"CREATE VIEW eval_scores AS SELECT * FROM read_parquet([{listed}], "
                "union_by_name = true)"
            )

    @staticmethod
    def _add_views(
        con: duckdb.DuckDBPyConnection,
        version: DatasetVersion,
        view: str,
        report: Callable[[str, str], None],
    ) -> None:
        """Register kept as VIEW, and VIEW_rejected / VIEW_quarantine, for one version."""
        import duckdb

        for split in SPLITS:
            if not any((version.path / split).glob("*.parquet")):
                continue
            suffix = "" if split == "kept" else f"_{split}"
            quoted = (view + suffix).replace('"', '""')
            try:
                con.execute(
                    f'CREATE VIEW "{quoted}" AS SELECT * FROM {version.relation_sql(split)}'
                )
            except duckdb.Error as exc:
                report(view + suffix, str(damaged(version, split, exc)))


def unreadable(path: Path) -> str | None:
    """Why a Parquet file cannot be read (its footer or schema), or None when it can."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"not a readable Parquet file ({first.split('. ')[0].rstrip('.')})"
    return None


def damaged(version: DatasetVersion, split: str, exc: BaseException) -> WinnowError:
    """The one sentence for a split DuckDB could not read: the damaged file when one is, else
    DuckDB's first line."""
    for path in sorted((version.path / split).glob("*.parquet")):
        problem = unreadable(path)
        if problem is not None:
            return WinnowError(
                f"{path}: {problem}, so dataset {version.ref} cannot be read; restore the file, "
                f"or remove {version.path} and make the version again."
            )
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return WinnowError(
        f"{version.path / split}: the {split} shards of {version.ref} cannot be read ({first}); "
        "check the files there."
    )


def check_folder(root: Path) -> None:
    """Refuse a workspace path that is a file, or lies under one, in one sentence."""
    probe = root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.is_dir():
        return
    where = "is a file" if probe == root else f"lies under {probe}, which is a file"
    raise WinnowError(
        f"workspace {root} {where}, not a folder; give --workspace (or WINNOW_HOME) a folder, "
        "new or existing, or move the file away."
    )
