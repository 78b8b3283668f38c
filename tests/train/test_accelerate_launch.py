"""`winnow train ... --launcher accelerate`: configs accelerate itself reads, real launches on
the CPU (a written 2-process config, a given 1-process one), one-sentence errors."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from accelerate.commands.config.config_args import load_config_from_file
from accelerate.commands.launch import _validate_launch_command, launch_command_parser

from tests.cli_helpers import run_cli
from tests.train.conftest import Lab
from winnow.cli import app
from winnow.commands.train.launcher import LAUNCH_OPTIONS
from winnow.files import read_json
from winnow.train.launch import checks, relaunch
from winnow.train.launch.accelerate_config import generate_config, layer_classes, write_config
from winnow.train.launch.arguments import command_line
from winnow.train.runs import read_metrics

TRAIN = typer.main.get_command(app).commands["train"]  # type: ignore[attr-defined]
"""The `winnow train` group as click sees it."""

SMALL_SFT = ["--set", "max_rows=32", "--max-steps", "5", "--batch-size", "4", "--max-length", "96"]
"""A five-step SFT job on 32 rows, as tests/train/test_launch.py runs it."""


def winnow(lab: Lab, *args: str) -> subprocess.CompletedProcess[str]:
    """`winnow ARGS -w LAB` in a new process, offline, as a user runs it."""
    command = [str(Path(sys.executable).parent / "winnow"), *args, "-w", str(lab.root)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def validated(path: Path) -> Any:
    """accelerate launch's own reading of a config file: the launcher flags it sets."""
    args = launch_command_parser().parse_args(["--config_file", str(path), "train.py"])
    return _validate_launch_command(args)[0]


@pytest.mark.parametrize(
    ("strategy", "processes", "gpus", "kind", "launcher"),
    [
        ("ddp", 2, 0, "MULTI_GPU", "multi_gpu"),
        ("ddp", 1, 0, "NO", None),
        ("ddp", 4, 4, "MULTI_GPU", "multi_gpu"),
        ("fsdp", 2, 2, "FSDP", "use_fsdp"),
        ("deepspeed", 2, 2, "DEEPSPEED", "use_deepspeed"),
    ],
)
def test_written_configs_are_read_by_accelerate(
    tmp_path: Path, strategy: str, processes: int, gpus: int, kind: str, launcher: str | None
) -> None:
    """Each strategy's config loads with accelerate's own reader and makes accelerate launch
    pick the right launcher, process count and precision (bf16 on GPUs only)."""
    config = generate_config(strategy, processes, gpus, True, 4, "LlamaDecoderLayer")
    path = write_config(config, tmp_path / "accelerate.yaml", "test")
    loaded = load_config_from_file(str(path))
    assert loaded.distributed_type.value == kind and loaded.num_processes == processes
    assert loaded.use_cpu == (gpus == 0)
    assert loaded.mixed_precision == ("bf16" if gpus else "no")
    args = validated(path)
    flags = ("multi_gpu", "use_fsdp", "use_deepspeed")
    assert {flag: bool(getattr(args, flag)) for flag in flags} == {f: f == launcher for f in flags}
    assert args.num_processes == processes and not args.cpu
    if strategy == "fsdp":
        assert loaded.fsdp_config["fsdp_version"] == 2 and args.fsdp_version == 2
        assert args.fsdp_transformer_layer_cls_to_wrap == "LlamaDecoderLayer"
        assert loaded.fsdp_config["fsdp_reshard_after_forward"] is True
    if strategy == "deepspeed":
        assert loaded.deepspeed_config["zero_stage"] == 2
        assert loaded.deepspeed_config["gradient_accumulation_steps"] == 4


def test_fsdp_wraps_the_bases_decoder_layer(lab: Lab) -> None:
    """FSDP's auto-wrap class comes from the base: a run's saved Llama and tiny both give
    LlamaDecoderLayer; a hub id is left to accelerate (the model's _no_split_modules)."""
    assert layer_classes(lab.ws, lab.base) == "LlamaDecoderLayer"
    assert layer_classes(lab.ws, "tiny") == "LlamaDecoderLayer"
    assert layer_classes(lab.ws, "org/model") is None


def test_the_command_line_is_passed_on_without_the_launcher_options() -> None:
    """The ranks get the options as given (flags, repeated --set, -w) and no launcher option."""
    words = [
        "--base", "base", "--data", "alpaca", "--output", "o", "--no-packing",
        "--set", "max_rows=8", "--set", "seed=3", "--resume", "-w", "ws",
        "--launcher", "accelerate", "--num-processes", "2", "--max-steps", "5",
    ]  # fmt: skip
    ctx = TRAIN.commands["sft"].make_context("sft", words)
    assert command_line(ctx, LAUNCH_OPTIONS) == (
        "--base", "base", "--data", "alpaca", "--output", "o", "--max-steps", "5",
        "--no-packing", "--set", "max_rows=8", "--set", "seed=3", "--resume",
        "--workspace", "ws",
    )  # fmt: skip


@pytest.mark.parametrize("method", ["pretrain", "sft", "dpo", "reward"])
def test_every_training_method_takes_the_launcher_options(method: str) -> None:
    """The options are declared once and every method has them, and says so in its help."""
    command = TRAIN.commands[method]
    words = ["--launcher", "accelerate", "--strategy", "fsdp", "--num-processes", "2"]
    ctx = command.make_context(method, words)
    assert ctx.params["strategy"] == "fsdp" and ctx.params["num_processes"] == 2
    assert "--launcher accelerate" in (command.help or "")


def test_two_processes_under_accelerate_launch(lab: Lab) -> None:
    """--launcher accelerate --num-processes 2 on the CPU: a written config (MULTI_GPU,
    use_cpu) starts two ranks; one run, trained by both, its config kept and recorded."""
    done = winnow(
        lab, "train", "sft", "--base", lab.base, "--data", lab.instruct, "--output", "acc-two",
        *SMALL_SFT, "--packing", "--launcher", "accelerate", "--num-processes", "2",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "launch: accelerate launch --config_file" in " ".join(done.stdout.split())
    assert done.stdout.count("run acc-two (sft): completed") == 1
    run = lab.root / "runs" / "acc-two"
    record = read_json(run / "run.json")
    assert record["status"] == "completed" and record["device"]["processes"] == 2
    steps = [row["step"] for row in read_metrics(run / "metrics.jsonl") if "loss" in row]
    assert steps == [1, 5]
    assert (run / "model" / "model.safetensors").is_file()
    recorded = record["launch"]
    assert recorded["launcher"] == "accelerate" and recorded["strategy"] == "ddp"
    assert recorded["generated"] and recorded["source"] is None
    kept = (run / recorded["config_file"]).read_bytes()
    assert hashlib.sha256(kept).hexdigest() == recorded["sha256"]
    loaded = load_config_from_file(str(run / recorded["config_file"]))
    assert loaded.distributed_type.value == "MULTI_GPU" and loaded.num_processes == 2
    assert loaded.use_cpu and recorded["config"]["num_processes"] == 2
    assert not list((lab.root / "runs").glob(".acc-two*")), "the written config was not removed"


def test_a_given_config_is_used_as_is_and_recorded(lab: Lab, tmp_path: Path) -> None:
    """--accelerate-config FILE: accelerate launch runs under that very file (one process
    here), the run keeps a byte-identical copy, and the user's file is left alone."""
    given = tmp_path / "one-cpu.yaml"
    lines = ["distributed_type: 'NO'", "num_processes: 1", "mixed_precision: 'no'", "use_cpu: true"]
    given.write_bytes("\r\n".join(["# mine", *lines, ""]).encode())  # CRLF: copied byte for byte
    done = winnow(
        lab, "train", "sft", "--base", lab.base, "--data", lab.instruct, "--output", "acc-given",
        "--set", "max_rows=8", "--max-steps", "1", "--batch-size", "4", "--max-length", "64",
        "--launcher", "accelerate", "--accelerate-config", str(given),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"--config_file {given}" in " ".join(done.stdout.split())
    run = lab.root / "runs" / "acc-given"
    record = read_json(run / "run.json")
    assert record["status"] == "completed" and record["device"]["processes"] == 1
    recorded = record["launch"]
    assert recorded["source"] == str(given) and not recorded["generated"]
    assert recorded["strategy"] is None and recorded["config"]["distributed_type"] == "NO"
    assert (run / "accelerate.yaml").read_bytes() == given.read_bytes()
    assert recorded["sha256"] == hashlib.sha256(given.read_bytes()).hexdigest()
    assert (run / "model" / "model.safetensors").is_file()


@pytest.fixture()
def cpu_only(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A machine with no CUDA GPU and no deepspeed, whatever this one has."""
    monkeypatch.setattr(relaunch, "cuda_gpus", lambda: 0)
    monkeypatch.setattr(checks, "deepspeed_installed", lambda: False)
    return monkeypatch


def refused(capsys: pytest.CaptureFixture[str], root: Path, *options: str) -> str:
    """`winnow train sft ... OPTIONS` fails with exit code 2 and one line, before any run,
    config file or process; the line."""
    args = ["train", "sft", "--data", "alpaca", "--output", "new", *options, "-w", str(root)]
    code, out = run_cli(capsys, *args)
    assert code == 2, out
    assert not (root / "runs" / "new").exists()
    assert not list(root.glob("runs/.*accelerate.yaml"))
    return out.removeprefix("error: ")


def test_gpu_strategies_on_the_cpu_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cpu_only: pytest.MonkeyPatch
) -> None:
    """DeepSpeed and FSDP name what is missing and what to use instead."""
    root = tmp_path / "ws"
    deepspeed = refused(capsys, root, "--launcher", "accelerate", "--strategy", "deepspeed")
    assert deepspeed == (
        "--strategy deepspeed needs the deepspeed package (pip install deepspeed) and a CUDA "
        "GPU; use --strategy ddp on the CPU."
    )
    fsdp = refused(capsys, root, "--launcher", "accelerate", "--strategy", "fsdp")
    assert fsdp == (
        "--strategy fsdp needs CUDA GPUs and this machine has none; use --strategy ddp on the CPU."
    )
    cpu_only.setattr(relaunch, "cuda_gpus", lambda: 2)
    no_package = refused(capsys, root, "--launcher", "accelerate", "--strategy", "deepspeed")
    assert no_package == (
        "--strategy deepspeed needs the deepspeed package; pip install deepspeed, or use "
        "--strategy fsdp."
    )
    too_many = refused(capsys, root, "--launcher", "accelerate", "--num-processes", "3")
    assert too_many == (
        "--num-processes 3: this machine has 2 CUDA GPU(s) and each process takes one; give at "
        "most 2."
    )


def test_a_given_config_must_be_an_accelerate_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cpu_only: pytest.MonkeyPatch
) -> None:
    """A missing file, a file that is not YAML, one accelerate cannot use, or a DeepSpeed one on
    this CPU: one sentence naming the file."""
    root = tmp_path / "ws"
    missing = tmp_path / "none.yaml"
    out = refused(capsys, root, "--launcher", "accelerate", "--accelerate-config", str(missing))
    assert out == (
        f"--accelerate-config {missing}: no such file; give an accelerate config YAML "
        "(accelerate config writes one) or drop the option to have one written."
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("distributed_type: [MULTI_GPU\nnum_processes: 2\n", encoding="utf-8")
    out = refused(capsys, root, "--launcher", "accelerate", "--accelerate-config", str(broken))
    assert out.startswith(f"--accelerate-config {broken}: not YAML (") and "line 2" in out
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("distributed_type: 'NO'\nnum_gpus: 2\n", encoding="utf-8")
    out = refused(capsys, root, "--launcher", "accelerate", "--accelerate-config", str(unknown))
    assert out.startswith(f"--accelerate-config {unknown}: accelerate cannot use it (")
    assert "num_gpus" in out
    zero = tmp_path / "zero.yaml"
    zero.write_text("distributed_type: DEEPSPEED\nnum_processes: 2\n", encoding="utf-8")
    out = refused(capsys, root, "--launcher", "accelerate", "--accelerate-config", str(zero))
    assert out == (
        f"--accelerate-config {zero} (distributed_type DEEPSPEED) needs the deepspeed package "
        "(pip install deepspeed) and a CUDA GPU; use --strategy ddp on the CPU."
    )


def test_bad_combinations_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Launcher options without the launcher, a given config with generation options, an
    unknown launcher or strategy, a run name already taken: one sentence each."""
    root = tmp_path / "ws"
    assert refused(capsys, root, "--strategy", "fsdp") == (
        "--strategy: only used with --launcher accelerate; add --launcher accelerate or drop it."
    )
    assert refused(capsys, root, "--num-processes", "2", "--accelerate-config", "a.yaml") == (
        "--accelerate-config, --num-processes: only used with --launcher accelerate; add "
        "--launcher accelerate or drop them."
    )
    given = ["--launcher", "accelerate", "--accelerate-config", "a.yaml", "--strategy", "ddp"]
    assert refused(capsys, root, *given).startswith("--accelerate-config is used as is:")
    assert refused(capsys, root, "--launcher", "torchrun") == (
        "--launcher torchrun: use none (this process) or accelerate."
    )
    assert refused(capsys, root, "--launcher", "accelerate", "--strategy", "zero3") == (
        "--strategy zero3: use ddp, fsdp or deepspeed."
    )
    (root / "runs" / "taken").mkdir(parents=True)
    code, out = run_cli(
        capsys, "train", "sft", "--data", "alpaca", "--output", "taken", "--launcher",
        "accelerate", "-w", str(root),
    )  # fmt: skip
    assert code == 2 and "run 'taken' already exists" in out
    assert not list((root / "runs").glob(".*"))
