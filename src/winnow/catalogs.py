"""Finds declarative catalog entries (sources, recipes, jobs) by path or by name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from winnow.errors import WinnowError

PROJECT_CATALOGS = Path(__file__).resolve().parents[2] / "catalogs"
"""The catalogs shipped in the project checkout (an editable install points here)."""


def catalog_dirs(kind: str) -> list[Path]:
    """Folders searched for `kind` entries: $WINNOW_CATALOGS, ./catalogs, then the project's."""
    roots = []
    if os.environ.get("WINNOW_CATALOGS"):
        roots.append(Path(os.environ["WINNOW_CATALOGS"]))
    roots += [Path.cwd() / "catalogs", PROJECT_CATALOGS]
    seen: list[Path] = []
    for root in roots:
        folder = (root / kind).resolve()
        if folder not in seen:
            seen.append(folder)
    return seen


def find_entry(kind: str, name: str) -> Path | None:
    """Return the YAML file for `name` (a path, or a name in the catalog folders), if any."""
    as_path = Path(name)
    if as_path.suffix in {".yaml", ".yml"} and as_path.is_file():
        return as_path
    for folder in catalog_dirs(kind):
        for suffix in (".yaml", ".yml"):
            candidate = folder / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def list_entries(kind: str) -> dict[str, Path]:
    """All entry names of a kind with their files; earlier folders win on a name clash."""
    found: dict[str, Path] = {}
    for folder in catalog_dirs(kind):
        if folder.is_dir():
            for path in sorted(folder.glob("*.y*ml")):
                found.setdefault(path.stem, path)
    return found


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a catalog YAML file that must hold a mapping, with a clear error if it does not."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise WinnowError(f"{path}: is not valid YAML ({exc}); fix the syntax.") from exc
    if not isinstance(data, dict):
        raise WinnowError(f"{path}: expected a YAML mapping at the top level; see catalogs/.")
    return data
