"""What an ablation was asked to do, checked before anything runs, and its record
(ablations/NAME/ablation.json), which a second call with the same plan resumes from."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from winnow.errors import WinnowError
from winnow.files import read_json, write_json
from winnow.workspace import Workspace, check_name


@dataclass
class AblationPlan:
    """The request: candidates, token budget, seeds, model, evals and references."""

    output: str
    source: str | None = None
    recipes: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    tokens: int = 1_000_000
    seeds: int = 3
    model: str = "tiny"
    suite: str | None = None
    tasks: str | None = None
    limit: float | None = None
    references: list[str] = field(default_factory=list)
    sets: list[str] = field(default_factory=list)
    allow_overlap: bool = False

    def check(self) -> None:
        """Refuse plans no ablation could run, in one line each."""
        check_name(self.output)
        if self.tokens < 1:
            raise WinnowError(f"--tokens {self.tokens}: must be 1 or more.")
        if not 1 <= self.seeds <= 100:
            raise WinnowError(f"--seeds {self.seeds}: must be between 1 and 100.")
        if not (self.suite or self.tasks or self.references):
            raise WinnowError(
                "winnow ablate: nothing to measure; give --suite, --tasks or --reference."
            )

    def key(self) -> dict[str, Any]:
        """The plan as compared on resume (everything but whether overlap is allowed)."""
        found = dataclasses.asdict(self)
        found.pop("allow_overlap")
        return found


def folder(ws: Workspace, name: str) -> Path:
    """ablations/NAME in the workspace."""
    return ws.root / "ablations" / name


def open_record(ws: Workspace, plan: AblationPlan) -> tuple[Path, dict[str, Any]]:
    """The ablation's folder and record: new, or the stored one when the plan is the same."""
    path = folder(ws, plan.output)
    stored = path / "ablation.json"
    if stored.is_file():
        record = read_json(stored)
        changed = sorted(k for k, v in plan.key().items() if record["plan"].get(k) != v)
        if changed:
            raise WinnowError(
                f"ablation '{plan.output}' exists with another plan (it differs in "
                f"{', '.join(changed)}); give the same options to resume it, or another --output."
            )
        record["status"] = "running"
        return path, record
    path.mkdir(parents=True, exist_ok=True)
    record = {"name": plan.output, "plan": plan.key(), "status": "running", "stages": {}}
    write_json(record, stored)
    return path, record


def save(path: Path, record: dict[str, Any]) -> None:
    """Write the record (after each finished unit, so a kill loses nothing done)."""
    write_json(record, path / "ablation.json")
