"""`winnow train` under a multi-process launcher: every rank trains, rank 0 alone writes."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.train.conftest import Lab
from winnow.files import read_json
from winnow.train.runs import read_metrics


def test_two_processes_train_one_run(lab: Lab) -> None:
    """torchrun with two CPU processes (gloo): one run folder, one metrics line per logging
    step, data split across the ranks, the model saved once."""
    winnow = str(Path(sys.executable).parent / "winnow")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29533",
        winnow,
        "train",
        "sft",
        "--base",
        lab.base,
        "--data",
        lab.instruct,
        "--output",
        "two-ranks",
        "--set",
        "max_rows=32",
        "--max-steps",
        "5",
        "--batch-size",
        "4",
        "--max-length",
        "96",
        "--packing",
        "-w",
        str(lab.root),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("run two-ranks (sft): completed") == 1
    run = lab.root / "runs" / "two-ranks"
    record = read_json(run / "run.json")
    assert record["status"] == "completed" and record["device"]["processes"] == 2
    steps = [row["step"] for row in read_metrics(run / "metrics.jsonl") if "loss" in row]
    assert steps == [1, 5]
    first = next(row for row in read_metrics(run / "metrics.jsonl") if row["step"] == 1)
    bins = record["data"]["prepared_rows"]
    assert bins > 8 and first["epoch"] == pytest.approx(1 / math.ceil(bins / 8))
    assert (run / "model" / "model.safetensors").is_file()
