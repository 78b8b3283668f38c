"""What a job runs: a kind (curate, train, evaluate) and its parameters, each checked and turned
into the argv of a `winnow` command. There is no shell string anywhere, so no value can become
code, and every path is kept inside the workspace or the data root."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from winnow.catalogs import list_entries
from winnow.errors import WinnowError
from winnow.evals.catalog import load_catalog
from winnow.jobs import params as p
from winnow.jobs.params import Value
from winnow.train.config import JobConfig, field_help
from winnow.train.methods import METHODS

if TYPE_CHECKING:
    from winnow.workspace import Workspace

KINDS = ("curate", "train", "evaluate")
"""What the Jobs page can start."""

TRAIN_COMMANDS = (*METHODS, "sample")
"""The `winnow train` commands a train job can run: the training methods, then best-of-n."""

Check = Callable[["Workspace", str, Value], str]
"""Checks a value for a parameter of a workspace and returns its command-line text."""


def anywhere(check: Callable[[str, Value], str]) -> Check:
    """A check that needs no workspace, in the shape of those that do."""
    return lambda ws, key, value: check(key, value)


@dataclass(frozen=True)
class Param:
    """One parameter of a job form: its name, its flag ('' when positional), check and help."""

    name: str
    flag: str
    check: Check
    help: str
    required: bool = False


CURATE = (
    Param("recipe", "", anywhere(p.recipe), "a recipe of catalogs/recipes", True),
    Param(
        "source",
        "--source",
        p.source,
        "a dataset NAME[@vN], a catalogs/sources name, or a file or folder: relative to the "
        "workspace, or absolute inside the workspace or the data root",
        True,
    ),
    Param("output", "--output", anywhere(p.name), "dataset name (a new version each run)", True),
)

SAMPLE = (
    Param("data", "--prompts", p.dataset, "instruction set whose prompts are sampled", True),
    Param("output", "--output", p.new_run, "new run name (datasets OUTPUT-pairs, -best)", True),
    Param("base", "--policy", p.model, "policy: a run with a model", True),
    Param("reward", "--reward", p.model, "reward model: a run of train reward", True),
    Param("n", "--n", anywhere(p.whole), "answers per prompt"),
    Param("max_prompts", "--max-prompts", anywhere(p.whole), "sample only the first N prompts"),
)

EVALUATE = (
    Param("model", "--model", p.model, "a run with a model", True),
    Param("suite", "--suite", anywhere(p.suite), "a suite of catalogs/evals/lm_eval"),
    Param("tasks", "--tasks", anywhere(p.tasks), "lm-eval tasks, comma-separated"),
    Param("limit", "--limit", anywhere(p.limit), "documents per task, or a fraction under 1"),
    Param("perplexity", "--perplexity", p.dataset, "dataset NAME[@vN]: held-out perplexity"),
    Param("output", "--output", p.new_run, "eval run name (default eval-MODEL-SUITE)"),
)


def field_param(kind: type[JobConfig], name: str, check: Check, required: bool = False) -> Param:
    """A config field in a training job's form, with the command line's flag and help."""
    return Param(name, "--" + name.replace("_", "-"), check, field_help(kind, name), required)


def trained(method: str) -> tuple[Param, ...]:
    """The form of a training method's job: some of its config fields, and a job YAML."""
    kind = METHODS[method].config
    return (
        field_param(kind, "data", p.dataset, True),
        field_param(kind, "output", p.new_run, True),
        field_param(kind, "base", p.base),
        Param(
            "config",
            "--config",
            anywhere(partial(p.job_config, method)),
            f"a catalogs/jobs entry for {method}",
        ),
        field_param(kind, "max_steps", anywhere(p.whole)),
        field_param(kind, "epochs", anywhere(p.positive)),
        field_param(kind, "learning_rate", anywhere(p.positive)),
        field_param(kind, "batch_size", anywhere(p.whole)),
    )


def fields(kind: str, method: Value = None) -> tuple[list[str], tuple[Param, ...]]:
    """The winnow subcommand and the parameters of a kind (and, for train, a method)."""
    chosen = p.choice("kind", kind, KINDS, "job kinds")
    if chosen == "train":
        if method is None:
            raise WinnowError(
                "parameter 'method' is missing; a train job needs one of: "
                f"{', '.join(TRAIN_COMMANDS)}; add it."
            )
        name = p.choice("method", method, TRAIN_COMMANDS, "training methods")
        return ["train", name], SAMPLE if name == "sample" else trained(name)
    return (["curate", "run"], CURATE) if chosen == "curate" else (["evaluate"], EVALUATE)


@dataclass(frozen=True)
class JobSpec:
    """A job as the page or `winnow jobs start` asks for it; nothing is trusted until argv()."""

    kind: str
    params: dict[str, Value] = field(default_factory=dict)

    @classmethod
    def parse(cls, kind: str, pairs: Iterable[str]) -> JobSpec:
        """A spec from `key=value` texts, as the command line gives them."""
        values: dict[str, Value] = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key.strip():
                raise WinnowError(
                    f"--param '{pair}' is not KEY=VALUE; write e.g. --param output=web-clean."
                )
            values[key.strip()] = value
        return cls(kind, values)

    def given(self) -> dict[str, Value]:
        """The parameters with a value; an empty form field counts as not given."""
        return {k: v for k, v in self.params.items() if v is not None and v != ""}

    def args(self, ws: Workspace) -> list[str]:
        """The checked `winnow` arguments, without the interpreter and the workspace."""
        given = self.given()
        method = given.pop("method", None) if self.kind == "train" else None
        command, form = fields(self.kind, method)
        names = [f.name for f in form]
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise WinnowError(
                f"parameter '{unknown[0]}' is not one a {' '.join(command)} job takes; expected "
                f"some of: {', '.join(names)}; remove it."
            )
        required = [f.name for f in form if f.required]
        missing = [n for n in required if n not in given]
        if missing:
            raise WinnowError(
                f"parameter '{missing[0]}' is missing; a {' '.join(command)} job needs "
                f"{', '.join(required)}; add it."
            )
        if self.kind == "evaluate":
            check_scoring(given)
        args = list(command)
        for f in form:
            if f.name in given:
                value = f.check(ws, f.name, given[f.name])
                args += [f.flag, value] if f.flag else [value]
        return args

    def argv(self, ws: Workspace) -> list[str]:
        """The process to start: this Python running `winnow`, with the workspace pinned."""
        return [sys.executable, "-m", "winnow", *self.args(ws), "--workspace", str(ws.root)]


def check_scoring(given: dict[str, Value]) -> None:
    """An eval job scores a suite or tasks (not both), or only held-out perplexity."""
    if ("suite" in given and "tasks" in given) or not {"suite", "tasks", "perplexity"} & set(given):
        raise WinnowError(
            "parameters 'suite' and 'tasks': expected exactly one of them (or 'perplexity' "
            "alone); give a suite or a task list."
        )


@dataclass(frozen=True)
class Available:
    """What the page can offer in its forms, read from the catalogs and the workspace."""

    recipes: list[str]
    sources: list[str]
    datasets: dict[str, list[str]]
    job_configs: dict[str, str]
    suites: list[str]
    tasks: list[str]
    models: list[str]
    runs: list[str]
    methods: tuple[str, ...] = TRAIN_COMMANDS


def available(ws: Workspace) -> Available:
    """Recipes, sources, datasets (with versions), job configs (with their method), suites,
    tasks, runs with a model and all runs."""
    runs = sorted(r.parent.name for r in p.runs_dir(ws).glob("*/run.json"))
    return Available(
        recipes=list(list_entries("recipes")),
        sources=list(list_entries("sources")),
        datasets={n: [v.version for v in ws.versions(n)] for n in ws.names()},
        job_configs=p.job_configs(),
        suites=sorted(load_catalog().suites),
        tasks=p.task_names(),
        models=p.models(ws),
        runs=runs,
    )
