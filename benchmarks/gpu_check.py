"""One check of winnow's training on a GPU: SFT, DPO and QLoRA SFT of a real small model, a
2-GPU launch when two GPUs are visible, and the same SFT through plain TRL for the ratio.

Each job runs as a user runs it (`winnow train ...` in a child process, so each has its own
peak GPU memory) on the Alpaca demo (curated with `demo-instruct`) and LLaMA-Factory's DPO
demo from ../shared/data/. For each it prints tokens per second (TRL's logged `num_tokens`
over `train_runtime`), peak GPU memory (run.json) and model FLOPs utilisation: 6 x parameters
x tokens/s for full fine-tuning, 4 x for adapters (no weight gradients) and 8 x for DPO (its
reference forward pass), over the GPU's dense bf16 (fp16 where it has no bf16) peak from the
table below or `--peak-tflops`. Then `sft_vs_trl.py --base MODEL --rounds 1` runs the plain
TRL script beside winnow. On one H100-class GPU the whole check takes a few minutes.

    bash benchmarks/gpu_check.sh [MODEL]            # default: SmolLM2-135M-Instruct (GGUF)
    .venv/bin/python benchmarks/gpu_check.py --base MODEL [--steps 60] [--smoke]

`--smoke` runs 2 steps of each on whatever device there is (the CPU here), to check the
plumbing; jobs that need CUDA (QLoRA, 2 GPUs) are then reported as not run, with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
HERE = Path(__file__).resolve().parent
WINNOW = str(Path(sys.executable).with_name("winnow"))

PEAK_TFLOPS = {"H200": 989, "H100": 989, "A100": 312, "L40S": 362, "L4": 121, "A10": 125}
"""Dense bf16 tensor-core peaks (NVIDIA data sheets), by a name part of the GPU."""
FP16_PEAK_TFLOPS = {"V100": 125, "T4": 65}
"""Dense fp16 peaks of GPUs without bf16."""


def winnow(*args: str, ws: Path) -> tuple[int, float, str]:
    """Run a winnow command; its exit code, wall seconds and last output lines."""
    started = time.perf_counter()
    done = subprocess.run([WINNOW, *args, "-w", str(ws)], capture_output=True, text=True)
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-3:])
    return done.returncode, time.perf_counter() - started, tail


def prepare(ws: Path) -> None:
    """The Alpaca demo as an instruction set and the DPO demo as a preference set."""
    alpaca = SHARED / "instruct" / "alpaca_en_demo.json"
    dpo = SHARED / "preference" / "dpo_en_demo.json"
    for args in (
        ["curate", "instruct", "--source", str(alpaca), "--recipe", "demo-instruct"]
        + ["--output", "alpaca"],
        ["curate", "preference", "--source", str(dpo), "--output", "pairs"],
    ):
        code, _, tail = winnow(*args, ws=ws)
        if code:
            sys.exit(f"{' '.join(args[:2])} failed: {tail}")


def peak_tflops(given: float | None) -> float | None:
    """The GPU's dense peak in TFLOP/s: given, or looked up by its name; None when unknown."""
    if given:
        return given
    import torch

    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name(0)
    table = PEAK_TFLOPS if torch.cuda.is_bf16_supported() else FP16_PEAK_TFLOPS
    return next((v for k, v in table.items() if k in name), None)


def measured(ws: Path, run: str, factor: int, peak: float | None) -> str:
    """A finished run's tokens/s, peak GPU memory and MFU, as a table row's cells."""
    folder = ws / "runs" / run
    record = json.loads((folder / "run.json").read_text())
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    tokens = max((int(r["num_tokens"]) for r in rows if "num_tokens" in r), default=0)
    runtime = next(float(r["train_runtime"]) for r in rows if "train_runtime" in r)
    rate = tokens / runtime
    memory = record["results"].get("peak_gpu_memory_gib")
    flops = factor * record["model"]["parameters"] * rate
    mfu = f"{flops / (peak * 1e12):.1%}" if peak else "n/a (unknown peak)"
    shown = f"{memory:.2f} GiB" if memory is not None else "n/a (no CUDA)"
    return f"{tokens:,} | {rate:,.0f} | {shown} | {mfu}"


def main() -> None:
    """Prepare the data, run each job, print the table, then the plain TRL comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="a model folder, .gguf file or hub id")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--peak-tflops", type=float, help="the GPU's dense bf16/fp16 peak")
    parser.add_argument("--smoke", action="store_true", help="2 steps each, any device")
    args = parser.parse_args()
    import torch

    steps, batch, length = (2, 2, 128) if args.smoke else (args.steps, args.batch, args.max_length)
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    peak = peak_tflops(args.peak_tflops)
    common = ["--max-steps", str(steps), "--batch-size", str(batch), "--max-length", str(length)]
    jobs = [
        ("sft", ["train", "sft", "--base", args.base, "--data", "alpaca"], 6, None),
        ("dpo", ["train", "dpo", "--base", "sft", "--data", "pairs"], 8, None),
        (
            "qlora-sft",
            ["train", "sft", "--base", args.base, "--data", "alpaca", "--lora", "qlora"],
            4,
            None if gpus else "needs CUDA",
        ),
        (
            "sft-2gpu",
            ["train", "sft", "--base", args.base, "--data", "alpaca", "--launcher", "accelerate"],
            6,
            None if gpus >= 2 else f"needs 2 GPUs, {gpus} visible",
        ),
    ]
    with tempfile.TemporaryDirectory(prefix="winnow-gpu-check-") as tmp:
        ws = Path(tmp) / "ws"
        prepare(ws)
        where = f"{gpus} CUDA GPU(s)" if gpus else "no CUDA GPU (the CPU)"
        print(f"device: {where}; peak {peak or 'unknown'} TFLOP/s")
        print("| job | wall s | tokens | tokens/s | peak GPU memory | MFU |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, command, factor, skip in jobs:
            if skip:
                print(f"| {name} | not run: {skip} | | | | |")
                continue
            extra = ["--num-processes", "2"] if name == "sft-2gpu" else []
            code, seconds, tail = winnow(*command, *extra, "--output", name, *common, ws=ws)
            if code:
                print(f"| {name} | failed ({tail.splitlines()[-1] if tail else code}) | | | | |")
                continue
            print(f"| {name} | {seconds:.0f} | {measured(ws, name, factor, peak)} |", flush=True)
    trl = [sys.executable, str(HERE / "sft_vs_trl.py"), "--base", args.base, "--rounds", "1"]
    trl += ["--steps", str(max(5, steps - steps % 5)), "--batch", str(batch)]
    trl += ["--max-length", str(length)]
    subprocess.run(trl, check=False, env={**os.environ, "PYTHONPATH": str(HERE.parent)})


if __name__ == "__main__":
    main()
