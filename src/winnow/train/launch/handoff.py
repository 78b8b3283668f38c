"""What the launching process hands down to the ranks (WINNOW_LAUNCH: the config file and how
it was made), and how rank 0 keeps that config in the run folder and records it in run.json."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from winnow.train.runs import RunFolder

LAUNCH_ENV = "WINNOW_LAUNCH"
"""Environment variable that hands the launch (config file, strategy) down to the ranks."""

CONFIG_NAME = "accelerate.yaml"
"""The copy of the accelerate config kept in the run folder."""


def launched() -> dict[str, Any] | None:
    """What `--launcher accelerate` passed down to this rank (None when it did not start it)."""
    raw = os.environ.get(LAUNCH_ENV)
    return json.loads(raw) if raw else None


def record_launch(run: RunFolder) -> None:
    """Keep the accelerate config in the run folder and note it in run.json (saved with the
    next update), so the run says what it ran under."""
    import yaml

    passed = launched()
    if passed is None:
        return
    source = Path(passed["config_file"])
    content = source.read_bytes()
    if run.writer:
        tmp = run.path / f".{CONFIG_NAME}.{os.getpid()}.tmp"
        tmp.write_bytes(content)
        os.replace(tmp, run.path / CONFIG_NAME)
    run.record["launch"] = {
        "launcher": "accelerate",
        "strategy": passed["strategy"],
        "generated": passed["generated"],
        "config_file": CONFIG_NAME,
        "source": None if passed["generated"] else str(source),
        "sha256": hashlib.sha256(content).hexdigest(),
        "config": yaml.safe_load(content),
    }
