"""Where datasets, runs and labels live; files are the truth and DuckDB queries them."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from winnow import remote
from winnow.errors import WinnowError

SPLITS = ("kept", "rejected", "quarantine")
"""The row splits every dataset version has, each a folder of Parquet shards."""

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_name(name: str) -> str:
    """Refuse dataset names that would not work as folder names or SQL views."""
    if not NAME_PATTERN.match(name) or "@" in name:
        raise WinnowError(
            f"dataset name '{name}' is not allowed; use letters, digits, '.', '_' or '-'."
        )
    return name


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
        return json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))

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
            return cls(remote.local_path(chosen).resolve())
        return cls(Path(chosen).expanduser().resolve())

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
        try:
            write(staging, version)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        target = self.datasets_dir / name / version
        os.rename(staging, target)
        return DatasetVersion(name, version, target)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with a view per dataset and split, and `eval_scores` over every
        eval run's scores; it never locks the files."""
        con = duckdb.connect(":memory:")
        for name in self.names():
            for version in self.versions(name):
                self._add_views(con, version, f"{name}@{version.version}")
            self._add_views(con, self.versions(name)[-1], name)
        scores = sorted((self.root / "runs").glob("*/scores.parquet"))
        if scores:
            listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in scores)
            con.execute(
                f"CREATE VIEW eval_scores AS SELECT * FROM read_parquet([{listed}], "
                "union_by_name = true)"
            )
        return con

    @staticmethod
    def _add_views(con: duckdb.DuckDBPyConnection, version: DatasetVersion, view: str) -> None:
        """Register kept as VIEW, and VIEW_rejected / VIEW_quarantine, for one version."""
        for split in SPLITS:
            if not any((version.path / split).glob("*.parquet")):
                continue
            suffix = "" if split == "kept" else f"_{split}"
            quoted = (view + suffix).replace('"', '""')
            con.execute(f'CREATE VIEW "{quoted}" AS SELECT * FROM {version.relation_sql(split)}')
