"""An ablation's arms: the candidate datasets, each made by curating the source with a recipe
(or reused when a version from the same recipe and source exists) or given as NAME@V."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from winnow.errors import WinnowError
from winnow.files import read_json
from winnow.workspace import DatasetVersion, Workspace, check_name


@dataclass(frozen=True)
class Arm:
    """One candidate: its name in tables, and the recipe or dataset it comes from."""

    name: str
    recipe: str | None = None
    dataset: str | None = None

    def record(self) -> dict[str, Any]:
        """The arm as the ablation's record holds it."""
        return {"name": self.name, "recipe": self.recipe, "dataset": self.dataset}


def plan_arms(recipes: list[str], datasets: list[str]) -> list[Arm]:
    """Recipes first, then datasets, in the order given; names must differ."""
    from winnow.curate.recipes import load_recipe

    arms = [Arm(load_recipe(r).name, recipe=r) for r in recipes]
    arms += [Arm(d.replace("@", "-"), dataset=d) for d in datasets]
    if len(arms) < 2:
        raise WinnowError(
            "winnow ablate: needs two or more candidates; give --recipe and --dataset twice or "
            "more between them."
        )
    names = [a.name for a in arms]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise WinnowError(
            f"winnow ablate: two candidates are both named '{twice[0]}'; give each recipe a "
            "different 'name:' (or file name) so the tables can tell them apart."
        )
    for arm in arms:
        check_name(arm.name)
    return arms


def reusable(ws: Workspace, recipe_hash: str, source_fingerprint: str) -> DatasetVersion | None:
    """The newest dataset version of this workspace made by this recipe from this source."""
    found = []
    for name in ws.names():
        for version in ws.versions(name):
            manifest = read_json(version.path / "manifest.json")
            made = (manifest.get("recipe") or {}).get("hash")
            read = (manifest.get("source") or {}).get("fingerprint")
            if made == recipe_hash and read == source_fingerprint:
                found.append((manifest.get("created_at", ""), version))
    return max(found, key=lambda pair: pair[0])[1] if found else None


def arm_dataset(
    ws: Workspace, arm: Arm, source: str | None, prefix: str
) -> tuple[DatasetVersion, bool]:
    """The arm's dataset version and whether it was reused rather than curated now."""
    if arm.dataset:
        return ws.dataset(arm.dataset), True
    from winnow.console import console
    from winnow.curate.recipes import load_recipe
    from winnow.curate.report import print_report
    from winnow.curate.runner import RunOptions, run_recipe
    from winnow.curate.sources import resolve_source

    if source is None:
        raise WinnowError(f"winnow ablate: --recipe {arm.recipe} needs --source to curate.")
    recipe = load_recipe(arm.recipe or "")
    spec = resolve_source(source, workspace=ws)
    found = reusable(ws, recipe.hash, spec.fingerprint())
    if found is not None:
        return found, True
    dataset = run_recipe(ws, recipe, spec, f"{prefix}-{arm.name}", RunOptions())
    print_report(console, dataset)
    return dataset, False
