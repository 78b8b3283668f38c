"""Checks for the values a job is started with. Each returns the value as command-line text or
raises one sentence naming the parameter, what was expected and what to do, so that the page
never starts a process with a value nobody checked."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from winnow.catalogs import list_entries, load_yaml
from winnow.errors import WinnowError
from winnow.evals.catalog import load_catalog, task_summary

if TYPE_CHECKING:
    from winnow.workspace import Workspace

Value = str | int | float | None
"""A parameter as a form or `--param key=value` gives it."""

VERSION = re.compile(r"v[1-9][0-9]*")
"""A dataset version as the workspace names them: v1, v2, ..."""

WHOLE = re.compile(r"[0-9]+")
"""A whole number written out."""


def bad(key: str, value: Value, expected: str, todo: str) -> WinnowError:
    """The one-sentence error for a parameter."""
    return WinnowError(f"parameter '{key}' is {value!r}; expected {expected}; {todo}.")


def text(key: str, value: Value) -> str:
    """A value as text: strings, or numbers a form typed as such."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise bad(key, value, "text or a number", "give it as key=value")
    return str(value).strip()


def name(key: str, value: Value) -> str:
    """A dataset or run name: the workspace's rule, so it is neither a path nor an option."""
    from winnow.workspace import NAME_MAX, valid_name

    shown = text(key, value)
    if not valid_name(shown):
        raise bad(
            key,
            value,
            "a name of letters, digits, '.', '_' or '-' that starts with a letter or digit, "
            f"at most {NAME_MAX} characters long",
            "rename it",
        )
    return shown


def choice(key: str, value: Value, choices: Iterable[str], what: str) -> str:
    """One of a fixed or catalog list."""
    shown = text(key, value)
    known = sorted(choices)
    if shown not in known:
        raise bad(key, value, f"one of the {what}: {', '.join(known) or 'none'}", "pick one")
    return shown


def whole(key: str, value: Value) -> str:
    """A whole number of 1 or more (steps, rows, answers)."""
    shown = text(key, value)
    if isinstance(value, float) or not WHOLE.fullmatch(shown) or int(shown) < 1:
        raise bad(key, value, "a whole number of 1 or more", f"write e.g. {key}=100")
    return str(int(shown))


def positive(key: str, value: Value) -> str:
    """A number above 0 (a learning rate)."""
    shown = text(key, value)
    try:
        number = float(shown)
    except ValueError:
        number = float("nan")
    if not number > 0 or number == float("inf"):
        raise bad(key, value, "a number above 0", f"write e.g. {key}=0.0005")
    return repr(number)


def limit(key: str, value: Value) -> str:
    """lm-eval's limit: documents per task (1 or more) or a fraction under 1."""
    shown = text(key, value)
    if WHOLE.fullmatch(shown) and int(shown) >= 1:
        return str(int(shown))
    try:
        number = float(shown)
    except ValueError:
        number = 0.0
    if not 0 < number < 1:
        raise bad(key, value, "documents per task (1 or more) or a fraction under 1", "fix it")
    return repr(number)


def dataset(ws: Workspace, key: str, value: Value) -> str:
    """An existing workspace dataset NAME or NAME@vN."""
    from winnow.workspace import NAME_PATTERN

    shown = text(key, value)
    base, at, version = shown.partition("@")
    names = ws.names()
    if not NAME_PATTERN.fullmatch(base) or base not in names:
        raise bad(
            key, value, f"a dataset of this workspace: {', '.join(names) or 'none yet'}", "pick one"
        )
    versions = [v.version for v in ws.versions(base)]
    if at and (not VERSION.fullmatch(version) or version not in versions):
        raise bad(key, value, f"a version of '{base}': {', '.join(versions)}", "pick one")
    return shown


def runs_dir(ws: Workspace) -> Path:
    """Where training and eval runs live."""
    return ws.root / "runs"


def models(ws: Workspace) -> list[str]:
    """Runs with a finished model/ folder, which later jobs can start from or score."""
    folder = runs_dir(ws)
    return sorted(p.parent.name for p in folder.glob("*/model") if p.is_dir())


def model(ws: Workspace, key: str, value: Value) -> str:
    """A run of this workspace with a finished model."""
    known = models(ws)
    shown = text(key, value)
    if shown not in known:
        raise bad(
            key, value, f"a run with a model: {', '.join(known) or 'none yet'}", "train one first"
        )
    return shown


def base(ws: Workspace, key: str, value: Value) -> str:
    """`tiny` (a model built from the data) or a run with a model."""
    return "tiny" if text(key, value) == "tiny" else model(ws, key, value)


def new_run(ws: Workspace, key: str, value: Value) -> str:
    """A run name not taken yet, so the job does not stop on an existing folder."""
    shown = name(key, value)
    if (runs_dir(ws) / shown).exists():
        raise bad(
            key, value, f"a new run name ('{shown}' exists in {runs_dir(ws)})", "pick another"
        )
    return shown


def job_configs() -> dict[str, str]:
    """catalogs/jobs entries with the method each is for."""
    return {name: str(load_yaml(path).get("method")) for name, path in list_entries("jobs").items()}


def job_config(method: str, key: str, value: Value) -> str:
    """A catalogs/jobs entry made for `method`."""
    fitting = [n for n, m in job_configs().items() if m == method]
    return choice(key, value, fitting, f"catalogs/jobs entries for {method}")


def roots(ws: Workspace) -> list[Path]:
    """The folders a source path may point into: the workspace and the eval catalog's data root."""
    return [Path(os.path.realpath(ws.root)), Path(os.path.realpath(load_catalog().data_root))]


def inside(ws: Workspace, key: str, value: Value) -> str:
    """An existing file or folder inside the workspace or the data root, as an absolute path;
    links are resolved first, so neither `..` nor a link can lead outside."""
    shown = text(key, value)
    allowed = roots(ws)
    where = f"inside the workspace ({allowed[0]}) or the data root ({allowed[1]})"
    if not shown or any(c in shown for c in "*?["):
        raise bad(key, value, f"a file or folder {where}, not a glob", "name the folder instead")
    given = Path(shown).expanduser()
    full = Path(os.path.realpath(given if given.is_absolute() else allowed[0] / given))
    if not any(full.is_relative_to(root) for root in allowed):
        raise bad(key, value, f"a file or folder {where}", "move the data there")
    if not full.exists():
        raise bad(key, value, f"an existing file or folder {where}", "check the path")
    if full.is_dir():
        link = leading_out(full, allowed)
        if link is not None:
            raise WinnowError(
                f"parameter '{key}': {link} inside {full} is a link to "
                f"{os.path.realpath(link)}, outside the workspace ({allowed[0]}) and the data "
                f"root ({allowed[1]}); copy the data in or remove the link."
            )
    return str(full)


def leading_out(folder: Path, allowed: list[Path]) -> Path | None:
    """The first link under `folder` (walked as a source reads it: hidden names skipped, links
    to folders followed) that resolves outside every allowed root, or None."""
    seen: set[str] = set()
    for parent, dirs, files in os.walk(folder, followlinks=True):
        real_parent = os.path.realpath(parent)
        if real_parent in seen:  # a link back up the tree: walked already
            dirs[:] = []
            continue
        seen.add(real_parent)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for entry in [*dirs, *sorted(f for f in files if not f.startswith("."))]:
            path = Path(parent) / entry
            if not path.is_symlink():
                continue
            real = Path(os.path.realpath(path))
            if not any(real.is_relative_to(root) for root in allowed):
                return path
    return None


def source(ws: Workspace, key: str, value: Value) -> str:
    """What `curate run --source` reads: a workspace dataset, a catalogs/sources name, or a file
    or folder inside the workspace or data root (never a hub id or a glob)."""
    shown = text(key, value)
    if shown.partition("@")[0] in ws.names():
        return dataset(ws, key, shown)
    if shown in list_entries("sources"):
        return shown
    return inside(ws, key, shown)


def tasks(key: str, value: Value) -> str:
    """Comma-separated lm-eval task or group names the catalog knows."""
    known = task_names()
    chosen = [t.strip() for t in text(key, value).split(",") if t.strip()]
    unknown = [t for t in chosen if t not in known]
    if unknown or not chosen:
        todo = f"drop '{unknown[0]}'" if unknown else "name at least one"
        raise bad(key, value, f"task names separated by commas from: {', '.join(known)}", todo)
    return ",".join(chosen)


def task_names() -> list[str]:
    """Local task and group names of catalogs/evals/lm_eval, then lm-eval's own."""
    catalog = load_catalog()
    return [row["name"] for row in task_summary(catalog)] + list(catalog.hub_tasks)


def suite(key: str, value: Value) -> str:
    """A suite of catalogs/evals/lm_eval/catalog.yaml."""
    return choice(key, value, load_catalog().suites, "eval suites")


def recipe(key: str, value: Value) -> str:
    """A recipe of catalogs/recipes."""
    return choice(key, value, list_entries("recipes"), "recipes in catalogs/recipes")
