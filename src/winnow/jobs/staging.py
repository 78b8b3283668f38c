"""The staging folder a cancelled curation job leaves in datasets/OUTPUT/: the folders named
.staging-* that appeared while its command ran are its own and are removed. A folder that was
there before (a killed run another `curate run` may resume) and every finished version stay,
and nothing is removed while another live job or process curates into the same dataset, since
it may be writing or resuming a folder of that name."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from winnow.jobs.store import ACTIVE, list_jobs
from winnow.workspace import Workspace

PREFIX = ".staging-"
"""How `curate run` names the folder a run fills before it renames it to a version."""


def output_dir(ws: Workspace, record: dict[str, Any]) -> Path | None:
    """datasets/OUTPUT of a curation job, None for other kinds."""
    output = record.get("params", {}).get("output")
    return ws.datasets_dir / str(output) if record.get("kind") == "curate" and output else None


def staging_names(folder: Path | None) -> list[str]:
    """The staging folders now in a dataset's folder."""
    if folder is None or not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(PREFIX) and p.is_dir())


def curating_into(folder: Path) -> bool:
    """Whether a live process other than the caller's job runs `curate` into this dataset:
    its command line names `curate` and the dataset as --output."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            parts = cmdline.read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        outputs = {b for a, b in zip(parts, parts[1:], strict=False) if a == "--output"}
        outputs |= {p.removeprefix("--output=") for p in parts if p.startswith("--output=")}
        if "curate" in parts and folder.name in outputs:
            return True
    return False


def others_active(ws: Workspace, job_id: str, folder: Path) -> bool:
    """Whether another queued or running job of the workspace curates into the same dataset."""
    return any(
        job.id != job_id and job.status in ACTIVE and output_dir(ws, job.record) == folder
        for job in list_jobs(ws)
    )


def clean_staging(ws: Workspace, job_id: str, record: dict[str, Any]) -> list[str]:
    """Remove the staging folders a cancelled curation job made (those not in its recorded
    `staging_before`); returns their paths. Call it once the job's processes are gone."""
    folder = output_dir(ws, record)
    if folder is None:
        return []
    before = set(record.get("staging_before") or [])
    made = [name for name in staging_names(folder) if name not in before]
    if not made or others_active(ws, job_id, folder) or curating_into(folder):
        return []
    removed = []
    for name in made:
        try:
            shutil.rmtree(folder / name)
        except OSError:
            continue
        removed.append(str(folder / name))
    return removed
