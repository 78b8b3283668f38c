"""`winnow train sft` beside a plain TRL SFTTrainer script: training tokens per second.

Both sides start from the same model (a tiny Llama pretrained here for a few steps, or any
`--base` winnow takes: a folder, a .gguf file, a hub id; loaded the same way on both sides),
train on the same rows (the first `--rows` of the Alpaca demo set, curated with the
`demo-instruct` recipe and converted by winnow.train.data.load_training_set) with the same
settings: max_length, batch size, learning rate (5e-4), gradient checkpointing (off, or on
both sides with `--checkpointing`), scheduler, steps, seed, logging and saving steps,
completion-only loss, bf16 on CUDA, use_cpu on the CPU.

Tokens per second is the same on both sides: TRL's logged `num_tokens` (the non-padding input
tokens the steps saw; from the run's metrics.jsonl for winnow, trainer.state.log_history for
TRL) over the training loop's wall time, clocked by one callback on both trainers (added to
winnow's trainer by wrapping its sft prepare step, winnow's code otherwise as it runs). Each
side and setting runs `--rounds` times, the sides in alternating order after an uncounted
warm-up. The loop's time is the sum over steps of each step's fastest round (same seed, so the
same batch at the same step in every round): a shared CPU slows whole rounds by 15% and more
when other work runs, and this keeps most of that out. The ratio of the fastest whole rounds
(HF's `train_runtime`) is printed beside it.

Settings: no packing on both sides; winnow with --packing against plain TRL without packing
(the peer a user would otherwise run); plain TRL with packing, for completeness.

    PYTHONPATH=. HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 .venv/bin/python benchmarks/sft_vs_trl.py
        [--steps 30] [--rows 400] [--max-length 256] [--batch 8] [--rounds 3] [--keep DIR]
        [--base MODEL] [--checkpointing]
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
warnings.filterwarnings("ignore", category=FutureWarning)

from transformers import TrainerCallback  # noqa: E402

from winnow.curate.recipes import load_recipe, recipe_from_entries  # noqa: E402
from winnow.curate.runner import RunOptions, run_recipe  # noqa: E402
from winnow.curate.sources import resolve_source  # noqa: E402
from winnow.devices import device_info  # noqa: E402
from winnow.instruct.build import import_files  # noqa: E402
from winnow.instruct.run import curate_instruct  # noqa: E402
from winnow.train.config import SftConfig, load_config  # noqa: E402
from winnow.train.data import load_training_set  # noqa: E402
from winnow.train.methods import METHODS  # noqa: E402
from winnow.train.models import load_causal_lm, load_tokenizer, resolve_base  # noqa: E402
from winnow.train.runner import Context, Prepared, execute  # noqa: E402
from winnow.train.runs import read_metrics  # noqa: E402
from winnow.workspace import Workspace  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TEXT, INSTRUCT, BASE = "web", "alpaca", "base"


@dataclass
class Timing:
    """One training run: tokens seen, HF's train_runtime, and each step's wall seconds."""

    tokens: int
    runtime: float
    steps: list[float]

    @property
    def rate(self) -> float:
        """Tokens per second over train_runtime."""
        return self.tokens / self.runtime


class StepClock(TrainerCallback):
    """Wall time of each step of the loop, data loading, logging and saving included."""

    def __init__(self) -> None:
        self.marks: list[float] = []

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """The loop starts."""
        self.marks = [time.perf_counter()]

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """A step ends (its logging and saving fall in the next interval)."""
        self.marks.append(time.perf_counter())

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """The loop ends, after the last step's logging and saving."""
        self.marks.append(time.perf_counter())

    def steps(self) -> list[float]:
        """Seconds between consecutive marks."""
        return [b - a for a, b in zip(self.marks, self.marks[1:], strict=False)]


def build_workspace(root: Path, tiny: bool = True) -> Workspace:
    """Curated c4 text, the Alpaca demo as an instruction set, and a tiny pretrained base."""
    os.environ["WINNOW_HOME"] = str(root)
    ws = Workspace(root)
    recipe = recipe_from_entries("text", [{"step": "normalize"}], "the benchmark")
    source = resolve_source(str(SHARED / "web" / "c4_demo.jsonl"))
    run_recipe(ws, recipe, source, TEXT, RunOptions())
    files = [(SHARED / "instruct" / "alpaca_en_demo.json", "alpaca_en_demo.json")]
    settings = {"map": None, "max_tokens": None, "tokenizer": None}
    imported = import_files(files)
    curate_instruct(
        ws, load_recipe("demo-instruct"), files, imported, INSTRUCT, RunOptions(), settings
    )
    if tiny:
        winnow_run(ws, "pretrain", None, data=TEXT, output=BASE, max_steps=5, max_length=256)
    return ws


def winnow_run(ws: Workspace, method: str, clock: StepClock | None, **options: Any) -> Path:
    """One job as `winnow train METHOD` runs it, the clock on its trainer; its run folder."""
    chosen = METHODS[method]
    job, _ = load_config(chosen.config, None, dict(options), [])
    steps = importlib.import_module(chosen.steps)
    original = steps.prepare

    def clocked(ctx: Context) -> Prepared:
        """Winnow's own prepare step, then the clock added to its trainer."""
        prepared = original(ctx)
        prepared.trainer.add_callback(clock)
        return prepared

    steps.prepare = clocked if clock else original
    try:
        return execute(ws, chosen, job, None, False).path
    finally:
        steps.prepare = original


def from_logs(rows: list[dict[str, Any]], clock: StepClock) -> Timing:
    """Tokens seen (the last logged num_tokens), train_runtime and the clock's step times."""
    tokens = max(int(r["num_tokens"]) for r in rows if "num_tokens" in r)
    runtime = next(float(r["train_runtime"]) for r in rows if "train_runtime" in r)
    return Timing(tokens, runtime, clock.steps())


LEARNING_RATE = 5e-4
"""Both sides' learning rate (winnow's own default for a model this small)."""


def sft_options(args: argparse.Namespace, packing: bool, output: str) -> dict[str, Any]:
    """The `winnow train sft` options of one run."""
    return {
        "base": args.base,
        "learning_rate": LEARNING_RATE,
        "gradient_checkpointing": args.checkpointing,
        "data": INSTRUCT,
        "output": output,
        "max_rows": args.rows,
        "max_steps": args.steps,
        "max_length": args.max_length,
        "batch_size": args.batch,
        "packing": packing,
    }


def run_winnow(ws: Workspace, args: argparse.Namespace, packing: bool, name: str) -> Timing:
    """`winnow train sft` on the base; its Timing from the run's metrics.jsonl."""
    clock = StepClock()
    path = winnow_run(ws, "sft", clock, **sft_options(args, packing, name))
    timing = from_logs(read_metrics(path / "metrics.jsonl"), clock)
    shutil.rmtree(path / "checkpoints", ignore_errors=True)
    return timing


def run_trl(ws: Workspace, args: argparse.Namespace, packing: bool, name: str) -> Timing:
    """A plain TRL SFTTrainer on the same model folder, rows and settings; its Timing."""
    from trl import SFTConfig, SFTTrainer

    job = SftConfig()
    device = device_info()
    base = resolve_base(args.base, ws)
    tokenizer = load_tokenizer(base)
    model = load_causal_lm(base)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    dataset, _ = load_training_set(ws, INSTRUCT, "instruct", args.rows)
    output = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=ws.root))
    config = SFTConfig(
        output_dir=str(output),
        max_steps=args.steps,
        learning_rate=LEARNING_RATE,
        gradient_checkpointing=args.checkpointing,
        per_device_train_batch_size=args.batch,
        gradient_accumulation_steps=job.grad_accum,
        warmup_steps=job.warmup_ratio,
        weight_decay=job.weight_decay,
        lr_scheduler_type=job.scheduler,
        seed=job.seed,
        logging_steps=job.logging_steps,
        logging_first_step=True,
        save_steps=job.save_steps,
        save_total_limit=2,
        report_to="none",
        disable_tqdm=True,
        bf16=bool(device["bf16"]),
        use_cpu=device["type"] == "cpu",
        max_length=args.max_length,
        packing=packing,
        completion_only_loss=True,
        eos_token=tokenizer.eos_token,
    )
    clock = StepClock()
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=[clock],
    )
    trainer.train()
    shutil.rmtree(output, ignore_errors=True)
    return from_logs(trainer.state.log_history, clock)


@dataclass
class Result:
    """One side and setting over all rounds."""

    rounds: list[Timing]

    @property
    def tokens(self) -> int:
        """Tokens seen per round (the same in every round)."""
        return self.rounds[0].tokens

    @property
    def rate(self) -> float:
        """Tokens per second over the sum of each step's fastest round."""
        steps = zip(*(t.steps for t in self.rounds), strict=True)
        return self.tokens / sum(min(times) for times in steps)

    @property
    def best_round(self) -> float:
        """Tokens per second of the fastest whole round (train_runtime)."""
        return max(t.rate for t in self.rounds)


def measure(ws: Workspace, args: argparse.Namespace) -> dict[str, Result]:
    """Every side and setting `rounds` times, sides in alternating order, after a short
    uncounted warm-up run."""
    plan = [("winnow", False), ("trl", False), ("winnow", True), ("trl", True)]
    found: dict[str, Result] = {}
    warm = argparse.Namespace(**{**vars(args), "steps": SftConfig.logging_steps})
    run_trl(ws, warm, False, "warm-up")
    for index in range(args.rounds):
        order = plan if index % 2 == 0 else [plan[1], plan[0], plan[3], plan[2]]
        for side, packing in order:
            key = f"{side}-{'packing' if packing else 'nopack'}"
            runner = run_winnow if side == "winnow" else run_trl
            timing = runner(ws, args, packing, f"{key}-r{index}")
            print(
                f"round {index + 1} {key}: {timing.tokens:,} tokens, train_runtime "
                f"{timing.runtime:.2f} s = {timing.rate:,.0f} tok/s",
                flush=True,
            )
            found.setdefault(key, Result([])).rounds.append(timing)
    return found


def table(found: dict[str, Result], device: dict[str, Any], args: argparse.Namespace) -> str:
    """The results as a markdown table."""
    peer = found["trl-nopack"]
    rows = [
        ("no packing (TRL: no packing)", found["winnow-nopack"], peer),
        ("winnow --packing (TRL: no packing)", found["winnow-packing"], peer),
        ("packing (TRL: packing)", found["winnow-packing"], found["trl-packing"]),
    ]
    lines = [
        f"device: {device['type']} ({device['name']}, bf16 {device['bf16']}); "
        f"max_length {args.max_length}, batch {args.batch}, {args.steps} steps, "
        f"{args.rows} rows, {args.rounds} rounds",
        "",
        "| setting | winnow tok/s | TRL tok/s | ratio winnow/TRL | ratio, best whole rounds "
        "| tokens winnow / TRL |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, ours, theirs in rows:
        lines.append(
            f"| {label} | {ours.rate:,.0f} | {theirs.rate:,.0f} | {ours.rate / theirs.rate:.2f} "
            f"| {ours.best_round / theirs.best_round:.2f} | {ours.tokens:,} / {theirs.tokens:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Build the workspace, time both sides, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="workspace folder to keep (default: a temp one)")
    parser.add_argument(
        "--base", default=BASE, help="model both sides train (default: a tiny one pretrained here)"
    )
    parser.add_argument(
        "--checkpointing", action="store_true", help="gradient checkpointing on both sides"
    )
    args = parser.parse_args()
    if args.steps % SftConfig.logging_steps:
        parser.error(f"--steps must be a multiple of {SftConfig.logging_steps}, the logging steps")
    root = args.keep or Path(tempfile.mkdtemp(prefix="winnow-sft-bench-"))
    try:
        ws = build_workspace(root / "workspace", tiny=args.base == BASE)
        found = measure(ws, args)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(table(found, device_info(), args))


if __name__ == "__main__":
    main()
