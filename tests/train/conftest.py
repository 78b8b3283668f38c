"""A training lab shared by the training tests: real text, instruction and preference sets in
one workspace, and a tiny base model pretrained from scratch on the text, built once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from winnow.curate.recipes import load_recipe, recipe_from_entries
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.evals.run import EvalOptions, evaluate
from winnow.instruct.build import import_files
from winnow.instruct.run import curate_instruct
from winnow.preference.dataset import import_preference
from winnow.train.config import load_config
from winnow.train.methods import METHODS
from winnow.train.runner import execute
from winnow.workspace import Workspace

REFUSAL = "I will not answer that."
"""The rejected side of every separable pair."""


@dataclass
class Lab:
    """The shared workspace and the names of what is in it."""

    root: Path
    text: str = "web"
    instruct: str = "alpaca"
    pairs: str = "separable"
    base: str = "base"

    @property
    def ws(self) -> Workspace:
        """The lab's workspace."""
        return Workspace(self.root)


def separable_pairs(shared_data: Path, path: Path, rows: int = 120) -> Path:
    """Ranked records: each real Alpaca instruction, its answer's first sentence above a refusal."""
    records = json.loads((shared_data / "instruct" / "alpaca_en_demo.json").read_text())
    with path.open("w", encoding="utf-8") as handle:
        for record in records[:rows]:
            first = record["output"].split(". ")[0][:120]
            line = {"instruction": record["instruction"][:120], "output": [first, REFUSAL]}
            handle.write(json.dumps(line) + "\n")
    return path


def train(lab: Lab, method: str, **options: object) -> None:
    """Run one job in the lab, as `winnow train METHOD` does."""
    chosen = METHODS[method]
    job, _ = load_config(chosen.config, None, dict(options), [])
    execute(lab.ws, chosen, job, None, False)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Lab:
    """Curated c4 text, the Alpaca demo as an instruction set, a separable preference set, and
    a ~0.5M-parameter Llama pretrained on the text for 30 steps."""
    folder = tmp_path_factory.mktemp("lab")
    found = Lab(folder / "workspace")
    ws = found.ws
    recipe = recipe_from_entries("text", [{"step": "normalize"}], "the training lab")
    source = resolve_source(str(shared_data / "web" / "c4_demo.jsonl"))
    run_recipe(ws, recipe, source, found.text, RunOptions())
    files = [(shared_data / "instruct" / "alpaca_en_demo.json", "alpaca_en_demo.json")]
    settings = {"map": None, "max_tokens": None, "tokenizer": None}
    recipe = load_recipe("demo-instruct")
    curate_instruct(ws, recipe, files, import_files(files), found.instruct, RunOptions(), settings)
    pairs = separable_pairs(shared_data, folder / "pairs.jsonl")
    import_preference(ws, [(pairs, pairs.name)], found.pairs, "ranked")
    train(
        found,
        "pretrain",
        data=found.text,
        output=found.base,
        max_steps=30,
        max_length=128,
        tiny_params=500_000,
        tiny_vocab=1_024,
    )
    return found


EVAL_TASKS = "winnow_arc_easy,winnow_truthfulqa_mc2,winnow_halueval_qa,winnow_halueval_qa_gen"
"""The tasks of the lab's two eval runs."""


@pytest.fixture(scope="session")
def scored(lab: Lab) -> Lab:
    """Two eval runs of the lab's base model: 8 documents per task, and the same with 1 shot."""
    evaluate(lab.ws, EvalOptions(model=lab.base, tasks=EVAL_TASKS, limit=8, output="ev-a"))
    options = EvalOptions(model=lab.base, tasks=EVAL_TASKS, limit=8, num_fewshot=1, output="ev-b")
    evaluate(lab.ws, options)
    return lab
