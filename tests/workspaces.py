"""A small curated workspace for the dashboard, labels and jobs tests: a web corpus with rows
removed by several steps (duplicates among them), an instruction set and a preference set."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from winnow.commands.demo import DEMO_SAMPLE, INSTRUCT_SAMPLE
from winnow.curate.recipes import load_recipe
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.instruct.build import import_files
from winnow.instruct.run import curate_instruct
from winnow.preference.dataset import import_preference
from winnow.workspace import Workspace


@dataclass
class Small:
    """A small workspace and the names of its datasets."""

    root: Path
    web: str = "web"
    instruct: str = "instruct"
    pairs: str = "pairs"

    @property
    def ws(self) -> Workspace:
        """The workspace."""
        return Workspace(self.root)

    def copy(self, target: Path) -> Small:
        """A private copy a test may write into (labels, jobs)."""
        shutil.copytree(self.root, target)
        return Small(target, self.web, self.instruct, self.pairs)


def build_small(root: Path, shared_data: Path) -> Small:
    """Curate the demo web sample with the demo recipe, import the demo instructions, and the
    real DPO demo pairs from ../shared/data as a preference set."""
    small = Small(root)
    ws = small.ws
    run_recipe(ws, load_recipe("demo"), resolve_source(str(DEMO_SAMPLE)), small.web, RunOptions())
    files = [(INSTRUCT_SAMPLE, INSTRUCT_SAMPLE.name)]
    settings = {"map": None, "max_tokens": None, "tokenizer": None}
    recipe = load_recipe("demo-instruct")
    curate_instruct(ws, recipe, files, import_files(files), small.instruct, RunOptions(), settings)
    pairs = shared_data / "preference" / "dpo_en_demo.json"
    import_preference(ws, [(pairs, pairs.name)], small.pairs)
    return small
