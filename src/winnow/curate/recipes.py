"""Curation recipes: an ordered list of steps with parameters, loaded from YAML."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from winnow.catalogs import find_entry, list_entries, load_yaml
from winnow.curate.stats import WARN_REMOVED_SHARE, removal_warnings, warning_text
from winnow.curate.steps import Step, build_step
from winnow.errors import WinnowError

TOP_LEVEL_KEYS = ("steps", "name", "description", "warn_removed_share")


@dataclass
class Recipe:
    """A named recipe, its raw step entries (for the manifest) and the built steps.

    `warn_removed_share`: a run warns (in the report, the manifest and the dashboard) when one
    step removes more than this share of the rows that reached it.
    """

    name: str
    path: Path | None
    entries: list[dict[str, Any]]
    steps: list[Step]
    warn_removed_share: float = WARN_REMOVED_SHARE
    description: str = ""

    @property
    def hash(self) -> str:
        """A stable hash of the step entries and of each step's version, so that equal recipes
        share it and a step whose rules changed (its version bumped) never resumes from, or
        passes for, shards its older version made."""
        versions = [step.version for step in self.steps]
        canonical = json.dumps(
            {"steps": self.entries, "versions": versions}, sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

    @property
    def versions(self) -> dict[str, int]:
        """The version of each step the recipe uses, by step name."""
        return {step.name: step.version for step in self.steps}

    def annotate_manifest(self, manifest: dict[str, Any]) -> None:
        """Add what the recipe knows to a run's manifest before it is written: the version of
        each step (in `recipe.versions` and on each step's statistics) and a warning for every
        step that removed more than `warn_removed_share` of its rows (`removal_warnings`, and
        one sentence each in `warnings`, which the report prints)."""
        manifest["recipe"]["versions"] = self.versions
        manifest["recipe"]["warn_removed_share"] = self.warn_removed_share
        for stats in manifest["steps"]:
            if 0 <= stats.get("index", -1) < len(self.steps):
                stats["version"] = self.steps[stats["index"]].version
        found = removal_warnings(manifest["steps"], self.warn_removed_share)
        manifest["removal_warnings"] = found
        manifest["warnings"] = [
            *manifest.get("warnings", []),
            *(warning_text(w, manifest["name"]) for w in found),
        ]


def recipe_from_entries(
    name: str,
    entries: Any,
    where: str,
    path: Path | None = None,
    warn_removed_share: float = WARN_REMOVED_SHARE,
) -> Recipe:
    """Validate step entries and build the steps, naming the entry that is wrong."""
    if not isinstance(entries, list) or not entries:
        raise WinnowError(f"{where}: expected 'steps:' to be a non-empty list of step entries.")
    steps = []
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise WinnowError(f"{where}: steps[{index}] should be a mapping like '- step: c4'.")
        steps.append(build_step(entry, f"{where}: steps[{index}]"))
    return Recipe(name, path, entries, steps, warn_removed_share)


def load_recipe(name_or_path: str) -> Recipe:
    """Load a recipe by path or by name from catalogs/recipes/, with a clear error if absent."""
    path = find_entry("recipes", name_or_path)
    if path is None:
        known = ", ".join(sorted(list_entries("recipes"))) or "none"
        raise WinnowError(
            f"no recipe '{name_or_path}': not a YAML file and not in catalogs/recipes/; "
            f"known recipes: {known}."
        )
    check_duplicate_keys(path)
    data = load_yaml(path)
    unknown = set(data) - set(TOP_LEVEL_KEYS)
    if unknown:
        raise WinnowError(
            f"{path}: unknown top-level key '{sorted(unknown)[0]}'; a recipe has 'steps' and "
            "optionally 'name', 'description' and 'warn_removed_share'."
        )
    if "steps" not in data:
        raise WinnowError(f"{path}: has no 'steps' key; add 'steps: [{{step: normalize}}]'.")
    share = data.get("warn_removed_share", WARN_REMOVED_SHARE)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
        shown = "NaN" if isinstance(share, float) and math.isnan(share) else repr(share)
        raise WinnowError(
            f"{path}: warn_removed_share is {shown}, but it must be a number between 0 and 1 "
            "(the share of its input rows one step may remove before the run warns); write e.g. "
            "'warn_removed_share: 0.9', or 1 to never warn."
        )
    name = data.get("name", path.stem)
    recipe = recipe_from_entries(name, data["steps"], str(path), path, float(share))
    recipe.description = " ".join(str(data.get("description") or "").split())
    return recipe


def check_duplicate_keys(path: Path) -> None:
    """Fail in one sentence when a mapping of the recipe file repeats a key (YAML would keep
    the last one silently), naming the file, the line, the key and where it sits."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return  # load_yaml names the syntax error
    stack: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
    while stack:
        node, where = stack.pop()
        if isinstance(node, yaml.SequenceNode):
            stack += [(item, f"{where}[{i}]") for i, item in enumerate(node.value, start=1)]
        elif isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else ""
                line = key_node.start_mark.line + 1
                if key and key != "<<" and key in seen:
                    place = f"in {where}" if where else "at the top level"
                    raise WinnowError(
                        f"{path}: line {line}: key '{key}' appears twice {place} (first on line "
                        f"{seen[key]}), and YAML would silently keep only the last; keep one."
                    )
                seen.setdefault(key, line)
                stack.append((value_node, f"{where}.{key}" if where else key))
