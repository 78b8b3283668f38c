"""Eval runs side by side: deltas against the first run, marked where they exceed the combined
stderr; per-document flips joined on lm-eval's doc hash; settings that differ between runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from winnow.errors import WinnowError
from winnow.files import read_json
from winnow.workspace import Workspace

SETTINGS = ("apply_chat_template", "num_fewshot", "limit", "dtype")
"""Run settings that must match for scores to be comparable."""


@dataclass
class EvalRun:
    """One finished eval run: its folder, record and scores."""

    path: Path
    record: dict[str, Any]
    scores: pl.DataFrame

    @property
    def name(self) -> str:
        """The run's name."""
        return self.path.name


def load_eval_run(ws: Workspace, name: str) -> EvalRun:
    """A completed eval run by name, or one line saying what is wrong with it."""
    path = ws.root / "runs" / name
    if not (path / "run.json").is_file():
        runs = sorted(p.parent.name for p in (ws.root / "runs").glob("*/scores.parquet"))
        raise WinnowError(
            f"eval run '{name}' not found; eval runs here: {', '.join(runs) or 'none'}."
        )
    record = read_json(path / "run.json")
    if record.get("method") != "evaluate":
        raise WinnowError(f"run '{name}' is a {record.get('method')} run, not an eval run.")
    if record.get("status") != "completed" or not (path / "scores.parquet").is_file():
        raise WinnowError(
            f"eval run '{name}' is {record.get('status')}; it has no scores to compare."
        )
    return EvalRun(path, record, pl.read_parquet(path / "scores.parquet"))


def version_note(run: EvalRun) -> str | None:
    """A line when a run's results come from another lm-eval version than the one installed."""
    theirs = run.record.get("versions", {}).get("lm_eval")
    ours = metadata.version("lm_eval")
    if theirs != ours:
        return f"{run.name}: results from lm-eval {theirs}, this install has {ours}"
    return None


def differences(runs: list[EvalRun]) -> list[str]:
    """Each setting, chat template, task version or task config that differs between runs."""
    found = []
    first = runs[0]
    for run in runs[1:]:
        for key in SETTINGS:
            a, b = first.record["settings"].get(key), run.record["settings"].get(key)
            if a != b:
                found.append(f"{key}: {first.name} {a!r}, {run.name} {b!r}")
        a, b = (
            first.record["model"]["chat_template_hash"],
            run.record["model"]["chat_template_hash"],
        )
        if a != b and (
            first.record["settings"]["apply_chat_template"]
            or run.record["settings"]["apply_chat_template"]
        ):
            found.append(f"chat template: {first.name} {a}, {run.name} {b}")
        va, vb = first.record["versions"].get("lm_eval"), run.record["versions"].get("lm_eval")
        if va != vb:
            found.append(f"lm-eval version: {first.name} {va}, {run.name} {vb}")
        for task in sorted(set(first.record["tasks"]) & set(run.record["tasks"])):
            ta, tb = first.record["tasks"][task], run.record["tasks"][task]
            for key in ("version", "num_fewshot", "config_hash", "data_files"):
                if ta.get(key) != tb.get(key):
                    label = key.replace("_", " ")
                    found.append(
                        f"{task} {label}: {first.name} {ta.get(key)}, {run.name} {tb.get(key)}"
                    )
    return found


def delta_table(runs: list[EvalRun]) -> pl.DataFrame:
    """One row per task, metric and filter: each run's value and stderr, and each later run's
    delta from the first, `significant` where |delta| exceeds sqrt(stderr_a^2 + stderr_b^2)."""
    keys = ["task", "alias", "metric", "filter"]
    table = runs[0].scores.select(
        *keys,
        "contaminated",
        pl.col("value").alias(f"value:{runs[0].name}"),
        pl.col("stderr").alias(f"stderr:{runs[0].name}"),
    )
    for run in runs[1:]:
        other = run.scores.select(
            *keys,
            pl.col("contaminated").alias("contaminated_b"),
            pl.col("value").alias(f"value:{run.name}"),
            pl.col("stderr").alias(f"stderr:{run.name}"),
        )
        table = (
            table.join(other, on=keys, how="full", coalesce=True)
            .with_columns(
                (
                    pl.col("contaminated").fill_null(False)
                    | pl.col("contaminated_b").fill_null(False)
                ).alias("contaminated")
            )
            .drop("contaminated_b")
        )
        a, b = pl.col(f"value:{runs[0].name}"), pl.col(f"value:{run.name}")
        sa, sb = pl.col(f"stderr:{runs[0].name}"), pl.col(f"stderr:{run.name}")
        table = table.with_columns(
            (b - a).alias(f"delta:{run.name}"),
            ((b - a).abs() > (sa.pow(2) + sb.pow(2)).sqrt()).alias(f"significant:{run.name}"),
        )
    return table.sort(keys)


def sample_metrics(run: EvalRun, task: str) -> dict[str, float]:
    """doc_hash -> the first per-document metric value of a task's samples."""
    path = run.path / "samples" / f"{task}.jsonl"
    found: dict[str, float] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            values = [v for v in row["metrics"].values() if isinstance(v, int | float)]
            if values:
                found[row["doc_hash"]] = float(values[0])
    return found


def flips(runs: list[EvalRun]) -> pl.DataFrame:
    """Per later run and task: documents scored in both, and those that went right to wrong
    (lost) or wrong to right (gained), joined on the document hash."""
    rows = []
    first = runs[0]
    for run in runs[1:]:
        for task in sorted(set(first.record["tasks"]) & set(run.record["tasks"])):
            a, b = sample_metrics(first, task), sample_metrics(run, task)
            shared = set(a) & set(b)
            binary = all(a[d] in (0.0, 1.0) and b[d] in (0.0, 1.0) for d in shared)
            if not shared or not binary:
                continue
            rows.append(
                {
                    "run": run.name,
                    "task": task,
                    "documents": len(shared),
                    "gained": sum(1 for d in shared if b[d] > a[d]),
                    "lost": sum(1 for d in shared if b[d] < a[d]),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "run": pl.Utf8,
            "task": pl.Utf8,
            "documents": pl.Int64,
            "gained": pl.Int64,
            "lost": pl.Int64,
        },
    )


def lm_eval_prompts(run: EvalRun, task: str) -> dict[str, str]:
    """doc_hash -> the prompt lm-eval built, from lm-eval's own samples file of the task."""
    found: dict[str, str] = {}
    for path in sorted((run.path / "lm_eval").glob(f"*/samples_{task}_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            first = next(iter(row.get("arguments", {}).values()), {})
            found[row["doc_hash"]] = str(first.get("arg_0", ""))
    return found


def sample_rows(run: EvalRun, task: str) -> dict[str, dict[str, Any]]:
    """doc_hash -> winnow's sample row of a task (target, responses, metrics)."""
    path = run.path / "samples" / f"{task}.jsonl"
    if not path.is_file():
        return {}
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return {row["doc_hash"]: row for row in rows}


def flipped(first: EvalRun, other: EvalRun, task: str) -> pl.DataFrame:
    """The documents of a task that one run got right and the other wrong: prompt, target,
    both responses, and whether `other` gained or lost it."""
    a, b = sample_metrics(first, task), sample_metrics(other, task)
    rows_a, rows_b = sample_rows(first, task), sample_rows(other, task)
    prompts = lm_eval_prompts(first, task)
    found = [
        {
            "doc_id": rows_a[d]["doc_id"],
            "change": "gained" if b[d] > a[d] else "lost",
            "target": str(rows_a[d].get("target")),
            f"response:{first.name}": str(rows_a[d].get("filtered_resps")),
            f"response:{other.name}": str(rows_b[d].get("filtered_resps")),
            "prompt": prompts.get(d, ""),
            "doc_hash": d,
        }
        for d in sorted(set(a) & set(b), key=lambda d: rows_a[d]["doc_id"])
        if a[d] != b[d]
    ]
    columns = ["doc_id", "change", "target", f"response:{first.name}", f"response:{other.name}"]
    schema = {c: pl.Utf8 for c in [*columns, "prompt", "doc_hash"]} | {"doc_id": pl.Int64}
    return pl.DataFrame(found, schema=schema)
