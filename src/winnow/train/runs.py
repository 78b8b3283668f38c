"""Runs: `runs/<name>/` with run.json (spec, inputs, base, versions, status), metrics.jsonl,
checkpoints/ and the finished model/.

run.json is rewritten atomically at each change of status, so a crash leaves `failed` with
the error, and a killed process leaves `running` with its checkpoints for `--resume`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from winnow.errors import WinnowError
from winnow.files import read_json, write_json
from winnow.manifest import package_versions
from winnow.train.ranks import is_main
from winnow.workspace import Workspace, check_name

TRAIN_PACKAGES = (
    "winnow-llm",
    "torch",
    "transformers",
    "trl",
    "peft",
    "accelerate",
    "datasets",
    "tokenizers",
)
"""Packages whose versions can change what a run learns."""


def now() -> str:
    """The time in ISO form, UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def train_versions() -> dict[str, str]:
    """Python's and the training packages' versions."""
    return package_versions(TRAIN_PACKAGES)


def last_checkpoint(folder: Path) -> Path | None:
    """The checkpoint-N folder with the largest N, if any."""
    found = [p for p in folder.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    return max(found, key=lambda p: int(p.name.split("-")[-1]), default=None)


def run_summary(ws: Workspace, name: str) -> dict[str, Any]:
    """What a later run records about this one: name, method, inputs, base."""
    record = read_json(ws.root / "runs" / name / "run.json")
    return {
        "name": name,
        "method": record["method"],
        "inputs": record["inputs"],
        "base": record["base"],
        "status": record["status"],
    }


@dataclass
class RunFolder:
    """One run's folder and its record; only the writing process (rank 0) changes them."""

    path: Path
    record: dict[str, Any]
    writer: bool = True

    @property
    def checkpoints(self) -> Path:
        """Where the trainer saves checkpoint-N folders."""
        return self.path / "checkpoints"

    @property
    def model_dir(self) -> Path:
        """Where the finished model and tokenizer go."""
        return self.path / "model"

    @property
    def adapter_dir(self) -> Path:
        """Where a LoRA run's adapters go on their own (peft's adapter files)."""
        return self.path / "adapter"

    @property
    def metrics_path(self) -> Path:
        """The JSON Lines log of metrics over time."""
        return self.path / "metrics.jsonl"

    def save(self) -> None:
        """Write run.json atomically."""
        if self.writer:
            write_json(self.record, self.path / "run.json")

    def update(self, **fields: Any) -> None:
        """Set fields of the record and save it."""
        self.record.update(fields)
        self.save()

    def fail(self, exc: BaseException) -> None:
        """Mark the run failed with the error, keeping its checkpoints."""
        self.update(status="failed", finished_at=now(), error=f"{type(exc).__name__}: {exc}")

    def trim_metrics(self, step: int) -> None:
        """Drop logged rows after `step`, which a resumed run logs again."""
        if not self.writer or not self.metrics_path.is_file():
            return
        lines = self.metrics_path.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if json.loads(line).get("step", 0) <= step]
        self.metrics_path.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")


def open_run(
    ws: Workspace, name: str, method: str, spec: dict[str, Any], resume: bool
) -> tuple[RunFolder, Path | None]:
    """Create runs/NAME (or reopen it for --resume) and the checkpoint to resume from; the
    other ranks of a launch read what rank 0 made."""
    check_name(name)
    path = ws.root / "runs" / name
    if not is_main():
        checkpoint = last_checkpoint(path / "checkpoints") if resume else None
        return RunFolder(path, read_json(path / "run.json"), writer=False), checkpoint
    if resume:
        if not (path / "run.json").is_file():
            raise WinnowError(f"--resume: no run '{name}' in {ws.root / 'runs'}; check the name.")
        folder = RunFolder(path, read_json(path / "run.json"))
        checkpoint = last_checkpoint(folder.checkpoints)
        if checkpoint is None:
            raise WinnowError(
                f"--resume: run '{name}' has no checkpoint in {folder.checkpoints}; start it "
                "again under a new name (checkpoints are saved every save_steps)."
            )
        if folder.record["method"] != method:
            raise WinnowError(
                f"--resume: run '{name}' is a {folder.record['method']} run; resume it with "
                f"winnow train {folder.record['method']}."
            )
        folder.trim_metrics(int(checkpoint.name.split("-")[-1]))
        attempts = [*folder.record.get("attempts", []), {"resumed_from": checkpoint.name}]
        folder.update(status="running", attempts=attempts, error=None, finished_at=None)
        return folder, checkpoint
    if path.exists():
        raise WinnowError(
            f"run '{name}' already exists in {path.parent}; pick another --output or pass "
            "--resume to continue it."
        )
    path.mkdir(parents=True)
    record = {
        "name": name,
        "method": method,
        "status": "running",
        "created_at": now(),
        "finished_at": None,
        **spec,
        "versions": train_versions(),
        "error": None,
        "attempts": [],
    }
    folder = RunFolder(path, record)
    folder.save()
    return folder, None


def perplexity(loss: float | None) -> float | None:
    """exp(loss), None when there is no loss or it overflows."""
    if loss is None:
        return None
    try:
        return math.exp(loss)
    except OverflowError:
        return None


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The logged rows of a run, oldest first."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
