"""Curation recipes: an ordered list of steps with parameters, loaded from YAML."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from winnow.catalogs import find_entry, list_entries, load_yaml
from winnow.curate.steps import Step, build_step
from winnow.errors import WinnowError


@dataclass
class Recipe:
    """A named recipe, its raw step entries (for the manifest) and the built steps."""

    name: str
    path: Path | None
    entries: list[dict[str, Any]]
    steps: list[Step]

    @property
    def hash(self) -> str:
        """A stable hash of the step entries, so that equal recipes share it."""
        canonical = json.dumps(self.entries, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def recipe_from_entries(name: str, entries: Any, where: str, path: Path | None = None) -> Recipe:
    """Validate step entries and build the steps, naming the entry that is wrong."""
    if not isinstance(entries, list) or not entries:
        raise WinnowError(f"{where}: expected 'steps:' to be a non-empty list of step entries.")
    steps = []
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise WinnowError(f"{where}: steps[{index}] should be a mapping like '- step: c4'.")
        steps.append(build_step(entry, f"{where}: steps[{index}]"))
    return Recipe(name=name, path=path, entries=entries, steps=steps)


def load_recipe(name_or_path: str) -> Recipe:
    """Load a recipe by path or by name from catalogs/recipes/, with a clear error if absent."""
    path = find_entry("recipes", name_or_path)
    if path is None:
        known = ", ".join(sorted(list_entries("recipes"))) or "none"
        raise WinnowError(
            f"no recipe '{name_or_path}': not a YAML file and not in catalogs/recipes/; "
            f"known recipes: {known}."
        )
    data = load_yaml(path)
    unknown = set(data) - {"steps", "description", "name"}
    if unknown:
        raise WinnowError(
            f"{path}: unknown top-level key '{sorted(unknown)[0]}'; "
            "a recipe has 'steps' and optionally 'name' and 'description'."
        )
    if "steps" not in data:
        raise WinnowError(f"{path}: has no 'steps' key; add 'steps: [{{step: normalize}}]'.")
    return recipe_from_entries(data.get("name", path.stem), data["steps"], str(path), path)
