"""The lm-eval task catalog (catalogs/evals/lm_eval/): suites, data root, and the rendering of
task YAMLs with absolute data paths (lm-eval resolves `data_files` against the working folder).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from winnow.catalogs import catalog_dirs, load_yaml
from winnow.errors import WinnowError

PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z_]+)\}(?!\})")
"""`{name}` in a task YAML, not Jinja's `{{ name }}`."""

TASK_NAME = re.compile(r"^task: (\S+)", re.M)
"""A task YAML's task name."""

VERBATIM = {".py", ".txt"}
"""Catalog files copied byte for byte (code, prompt texts), never rendered."""

DATA_FILE = re.compile(r'^\s+\w+: "(/[^"*?\[]+)"\s*$', re.M)
"""A rendered `split: "/absolute/path"` line, to check the file exists."""


@dataclass(frozen=True)
class Catalog:
    """The catalog's task folder, data root, suites, eval-set map and hub task names."""

    folder: Path
    data_root: Path
    suites: dict[str, str]
    eval_sets: dict[str, str]
    hub_tasks: tuple[str, ...]
    optional: dict[str, dict[str, str]]
    """Tasks whose data is not shipped: task name -> its data file and where to get it."""

    @property
    def tasks_dir(self) -> Path:
        """The task YAML templates (and utils.py) that get rendered."""
        return self.folder / "tasks"

    def eval_set(self, task: str) -> str | None:
        """The catalogs/evals entry a task's items come from (longest matching prefix)."""
        matches = [k for k in self.eval_sets if task == k or task.startswith(f"{k}_")]
        return self.eval_sets[max(matches, key=len)] if matches else None


def load_catalog() -> Catalog:
    """The first catalogs/evals/lm_eval/catalog.yaml found ($WINNOW_CATALOGS, ./, project)."""
    for folder in catalog_dirs("evals"):
        path = folder / "lm_eval" / "catalog.yaml"
        if path.is_file():
            data = load_yaml(path)
            root = os.environ.get("WINNOW_DATA_ROOT") or str(path.parent / data["data_root"])
            return Catalog(
                folder=path.parent,
                data_root=Path(os.path.normpath(Path(root).expanduser().resolve())),
                suites=dict(data.get("suites", {})),
                eval_sets=dict(data.get("eval_sets", {})),
                hub_tasks=tuple(data.get("hub_tasks", [])),
                optional=dict(data.get("optional_tasks", {})),
            )
    raise WinnowError("no catalogs/evals/lm_eval/catalog.yaml found; reinstall winnow.")


def yaml_quoted(value: str) -> str:
    """A value as it may sit inside YAML double quotes."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def render_tasks(catalog: Catalog, values: dict[str, str], out: Path) -> list[str]:
    """Copy the task templates into `out` with placeholders filled; a YAML that needs a value
    not given (the held-out perplexity task without --perplexity) is left out. Returns the
    task YAMLs whose data files are missing, as `file: path`."""
    missing: list[str] = []
    absent = tuple(absent_data(catalog, values))
    for source in sorted(catalog.tasks_dir.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        target = out / source.relative_to(catalog.tasks_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.suffix in VERBATIM:
            shutil.copy2(source, target)
            continue
        text = source.read_text(encoding="utf-8")
        if any(name not in values for name in PLACEHOLDER.findall(text)):
            continue
        name = TASK_NAME.search(text)
        if absent and name and name.group(1).startswith(absent):
            continue
        text = PLACEHOLDER.sub(lambda m: yaml_quoted(values[m.group(1)]), text)
        missing += [f"{source.name}: {p}" for p in DATA_FILE.findall(text) if not Path(p).exists()]
        target.write_text(text, encoding="utf-8")
    return missing


def absent_data(catalog: Catalog, values: dict[str, str]) -> dict[str, str]:
    """Optional tasks whose data file is not there: task name -> where to get it."""
    found = {}
    for task, entry in catalog.optional.items():
        path = Path(PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), entry["file"]))
        if not path.exists():
            found[task] = f"{path} ({entry['source']})"
    return found


def absent_for(name: str, absent: dict[str, str]) -> str | None:
    """Where to get the data of task `name` when it is an optional task whose data is absent."""
    return next((where for task, where in absent.items() if name.startswith(task)), None)


def suite_tasks(catalog: Catalog, suite: str | None, tasks: str | None) -> list[str]:
    """The lm-eval task or group names a --suite or --tasks list asks for."""
    if bool(suite) == bool(tasks):
        raise WinnowError("give either --suite NAME or --tasks a,b (one of the two).")
    if suite:
        if suite not in catalog.suites:
            known = ", ".join(sorted(catalog.suites))
            raise WinnowError(f"--suite {suite}: no such suite; known suites: {known}.")
        return [catalog.suites[suite]]
    names = [t.strip() for t in str(tasks).split(",") if t.strip()]
    if not names:
        raise WinnowError("--tasks is empty; give task names separated by commas.")
    return names


def check_tasks(names: list[str], known: set[str], catalog: Catalog) -> None:
    """One line naming the unknown tasks and what exists instead."""
    unknown = [n for n in names if n not in known]
    if not unknown:
        return
    absent = absent_data(catalog, {"data_root": str(catalog.data_root)})
    for name in unknown:
        if where := absent_for(name, absent):
            raise WinnowError(
                f"--tasks {name}: its data is not here; put {where} there, or set "
                "$WINNOW_DATA_ROOT to the folder holding evals/."
            )
    local = sorted(n for n in known if n.startswith("winnow_") and not n.startswith("winnow_mmlu_"))
    raise WinnowError(
        f"--tasks {', '.join(unknown)}: no such lm-eval task or group; local tasks: "
        f"{', '.join(local)}; suites: {', '.join(sorted(catalog.suites))}; lm-eval's own "
        f"(online) e.g. {', '.join(catalog.hub_tasks[:6])}; add folders with --include-path."
    )


def task_summary(catalog: Catalog) -> list[dict[str, Any]]:
    """Each local task template with its eval set, for `winnow evaluate tasks`."""
    rows = []
    for path in sorted(catalog.tasks_dir.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        name = re.search(r"^(task|group): (\S+)", text, re.M)
        if name and not name.group(2).startswith("winnow_mmlu_"):
            rows.append(
                {
                    "name": name.group(2),
                    "kind": name.group(1),
                    "eval_set": catalog.eval_set(name.group(2)),
                }
            )
    return rows
