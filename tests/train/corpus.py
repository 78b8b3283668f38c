"""A small real English and Korean dataset, curated once per test module, as users would."""

from __future__ import annotations

from pathlib import Path

from winnow.curate.recipes import load_recipe
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.workspace import DatasetVersion, Workspace

RECIPE = """\
name: en-ko
steps:
  - step: normalize
  - step: language
    languages: [en, ko]
"""
"""Normalise, tag each document's language and keep English and Korean."""


def curate_en_ko(root: Path, shared_data: Path) -> DatasetVersion:
    """Curate the Korean constitution (a document per line) and 300 C4 documents as en-ko@v1.

    The folder links to the real files (no copy); the Korean file sorts first, so that
    --max-docs 400 trains on every Korean line and the first English documents.
    """
    folder = root / "en-ko"
    folder.mkdir()
    (folder / "1-constitution.txt").symlink_to(shared_data / "korean" / "constitution.txt")
    (folder / "2-c4.jsonl").symlink_to(shared_data / "web" / "c4_demo.jsonl")
    recipe = root / "en-ko.yaml"
    recipe.write_text(RECIPE, encoding="utf-8")
    ws = Workspace(root / "workspace")
    return run_recipe(
        ws, load_recipe(str(recipe)), resolve_source(str(folder)), "en-ko", RunOptions()
    )
