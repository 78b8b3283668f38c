"""`winnow train sft` beside a plain TRL SFTTrainer script: training tokens per second.

Both sides start from the same saved model folder (a tiny Llama pretrained here for a few
steps), train on the same rows (the first `--rows` of the Alpaca demo set, curated with the
`demo-instruct` recipe and converted by winnow.train.data.load_training_set) with the same
settings: max_length, batch size, learning rate, scheduler, steps, seed, logging and saving
steps, completion-only loss, bf16 on CUDA, use_cpu on the CPU.

Tokens per second is, on both sides, the Trainer's own numbers: TRL's logged `num_tokens`
(the non-padding input tokens the steps saw) over HF's `train_runtime` (the training loop's
wall time, checkpoint saving included). Winnow's come from its run's metrics.jsonl, the plain
script's from trainer.state.log_history. Each side and setting runs `--rounds` times, the two
sides in alternating order, and the fastest round counts (a shared CPU varies by ~15%).

Settings: no packing on both sides; winnow with --packing against plain TRL without packing
(the peer a user would otherwise run); plain TRL with packing, for completeness.

    PYTHONPATH=. HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 .venv/bin/python benchmarks/sft_vs_trl.py
        [--steps 30] [--rows 400] [--max-length 256] [--batch 8] [--rounds 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
warnings.filterwarnings("ignore", category=FutureWarning)

from winnow.curate.recipes import load_recipe, recipe_from_entries  # noqa: E402
from winnow.curate.runner import RunOptions, run_recipe  # noqa: E402
from winnow.curate.sources import resolve_source  # noqa: E402
from winnow.instruct.build import import_files  # noqa: E402
from winnow.instruct.run import curate_instruct  # noqa: E402
from winnow.train.config import SftConfig, load_config  # noqa: E402
from winnow.train.data import load_training_set  # noqa: E402
from winnow.train.jobs import device_info, execute  # noqa: E402
from winnow.train.methods import METHODS  # noqa: E402
from winnow.train.runs import read_metrics  # noqa: E402
from winnow.workspace import Workspace  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TEXT, INSTRUCT, BASE = "web", "alpaca", "base"


@dataclass
class Timing:
    """One training run's tokens seen and training-loop seconds."""

    tokens: int
    seconds: float

    @property
    def rate(self) -> float:
        """Tokens per second."""
        return self.tokens / self.seconds


def build_workspace(root: Path) -> Workspace:
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
    winnow_run(ws, "pretrain", data=TEXT, output=BASE, max_steps=5, max_length=256)
    return ws


def winnow_run(ws: Workspace, method: str, **options: Any) -> Path:
    """One job as `winnow train METHOD` runs it; its run folder."""
    job, _ = load_config(method, None, dict(options), [])
    prepare, finish, head = METHODS[method]
    return execute(ws, job, None, False, prepare, finish, head).path


def from_logs(rows: list[dict[str, Any]]) -> Timing:
    """Tokens seen (the last logged num_tokens) and train_runtime from a Trainer's logs."""
    tokens = max(int(r["num_tokens"]) for r in rows if "num_tokens" in r)
    seconds = next(float(r["train_runtime"]) for r in rows if "train_runtime" in r)
    return Timing(tokens, seconds)


def sft_options(args: argparse.Namespace, packing: bool, output: str) -> dict[str, Any]:
    """The `winnow train sft` options of one run."""
    return {
        "base": BASE,
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
    path = winnow_run(ws, "sft", **sft_options(args, packing, name))
    timing = from_logs(read_metrics(path / "metrics.jsonl"))
    shutil.rmtree(path / "checkpoints", ignore_errors=True)
    return timing


def run_trl(ws: Workspace, args: argparse.Namespace, packing: bool, name: str) -> Timing:
    """A plain TRL SFTTrainer on the same model folder, rows and settings; its Timing."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    job = SftConfig()
    device = device_info()
    model_dir = ws.root / "runs" / BASE / "model"
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    dataset, _ = load_training_set(ws, INSTRUCT, "instruct", args.rows)
    output = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=ws.root))
    config = SFTConfig(
        output_dir=str(output),
        max_steps=args.steps,
        learning_rate=job.learning_rate,
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
    trainer = SFTTrainer(
        model=model, args=config, train_dataset=dataset, processing_class=tokenizer
    )
    trainer.train()
    shutil.rmtree(output, ignore_errors=True)
    return from_logs(trainer.state.log_history)


def measure(ws: Workspace, args: argparse.Namespace) -> dict[str, Timing]:
    """The fastest of `rounds` runs of each side and setting, sides in alternating order, after
    a short uncounted warm-up run."""
    plan = [("winnow", False), ("trl", False), ("winnow", True), ("trl", True)]
    best: dict[str, Timing] = {}
    warm = argparse.Namespace(**{**vars(args), "steps": SftConfig.logging_steps})
    run_trl(ws, warm, False, "warm-up")
    for index in range(args.rounds):
        order = plan if index % 2 == 0 else [plan[1], plan[0], plan[3], plan[2]]
        for side, packing in order:
            key = f"{side}-{'packing' if packing else 'nopack'}"
            runner = run_winnow if side == "winnow" else run_trl
            timing = runner(ws, args, packing, f"{key}-r{index}")
            print(
                f"round {index + 1} {key}: {timing.tokens:,} tokens in {timing.seconds:.2f} s "
                f"= {timing.rate:,.0f} tok/s",
                flush=True,
            )
            if key not in best or timing.rate > best[key].rate:
                best[key] = timing
    return best


def table(best: dict[str, Timing], device: dict[str, Any], args: argparse.Namespace) -> str:
    """The results as a markdown table."""
    peer = best["trl-nopack"]
    rows = [
        ("no packing (TRL: no packing)", best["winnow-nopack"], peer),
        ("winnow --packing (TRL: no packing)", best["winnow-packing"], peer),
        ("packing (TRL: packing)", best["winnow-packing"], best["trl-packing"]),
    ]
    lines = [
        f"device: {device['type']} ({device['name']}, bf16 {device['bf16']}); "
        f"max_length {args.max_length}, batch {args.batch}, {args.steps} steps, "
        f"{args.rows} rows, best of {args.rounds} rounds",
        "",
        "| setting | winnow tok/s | TRL tok/s | ratio winnow/TRL | tokens winnow / TRL |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, ours, theirs in rows:
        lines.append(
            f"| {label} | {ours.rate:,.0f} | {theirs.rate:,.0f} | {ours.rate / theirs.rate:.2f} "
            f"| {ours.tokens:,} / {theirs.tokens:,} |"
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
    args = parser.parse_args()
    if args.steps % SftConfig.logging_steps:
        parser.error(f"--steps must be a multiple of {SftConfig.logging_steps}, the logging steps")
    root = args.keep or Path(tempfile.mkdtemp(prefix="winnow-sft-bench-"))
    try:
        ws = build_workspace(root / "workspace")
        best = measure(ws, args)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(table(best, device_info(), args))


if __name__ == "__main__":
    main()
