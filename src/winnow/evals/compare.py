"""Eval runs side by side: deltas against the first run, each tested on the documents both runs
scored (McNemar's exact test for 0/1 metrics, a paired bootstrap otherwise) with an interval
and a p-value, corrected across the table (Holm); per-document flips of every 0/1 metric,
joined on lm-eval's doc hash; settings that differ between runs."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from winnow.errors import WinnowError
from winnow.workspace import Workspace

SETTINGS = ("apply_chat_template", "num_fewshot", "limit", "dtype", "backend")
"""Run settings that must match for scores to be comparable."""

DESCRIPTIVE = {"answered_yes", "truth_yes"}
"""Metrics that describe answers or data, not quality: shown, never tested or counted in the
correction."""

UNRECORDED = {"backend": "hf"}
"""A setting's value in runs made before it was recorded."""

ALPHA = 0.05
"""Significance level of a verdict; the intervals are (1 - ALPHA) intervals."""

CORRECTIONS = ("holm", "none")
"""Corrections for testing many deltas at once: Holm's step-down (the default), or none."""

RESAMPLES = 10_000
"""Paired bootstrap resamples."""

SEED = 0
"""Seed of the paired bootstrap: the same runs give the same intervals and p-values."""

RECORD_KEYS = ("settings", "model", "versions", "tasks")
"""What compare reads from an eval run's run.json besides its method and status."""

SCORE_COLUMNS = ("task", "alias", "metric", "filter", "value", "stderr", "contaminated")
"""What compare reads from an eval run's scores.parquet."""

AGAIN = "restore it or run `winnow evaluate` again into a new run"
"""What to do about a damaged file of an eval run."""

Values = dict[str, float]
"""doc_hash -> one document's value of a metric."""


@dataclass
class EvalRun:
    """One finished eval run: its folder, record and scores."""

    path: Path
    record: dict[str, Any]
    scores: pl.DataFrame
    documents: dict[str, dict[tuple[str, str | None], Values]] = field(
        default_factory=dict, repr=False
    )
    """Per task, (metric, filter) -> per-document values, read once from samples/TASK.jsonl."""

    @property
    def name(self) -> str:
        """The run's name."""
        return self.path.name

    def tasks(self) -> list[str]:
        """The tasks (and groups) the run has scores for."""
        return sorted(set(self.scores["task"].to_list()))


@dataclass
class Pair:
    """The documents of one task, metric and filter that two runs both scored."""

    run: str
    task: str
    metric: str
    filter: str
    a: np.ndarray
    """The reference run's values, one per shared document (sorted by doc hash)."""
    b: np.ndarray
    """The other run's values on the same documents."""
    higher_is_better: bool

    @property
    def binary(self) -> bool:
        """Whether every value of both runs is 0 or 1."""
        return bool(np.isin(self.a, (0.0, 1.0)).all() and np.isin(self.b, (0.0, 1.0)).all())

    def gained_lost(self) -> tuple[int, int]:
        """Documents the other run got right and the reference wrong (gained), and the reverse
        (lost); right is 1 where higher is better, else 0."""
        up, down = int(np.sum(self.b > self.a)), int(np.sum(self.b < self.a))
        return (up, down) if self.higher_is_better else (down, up)


@dataclass
class PairedResult:
    """A paired test of one delta: which test, its p-value and the interval of the delta."""

    test: str
    documents: int
    low: float
    high: float
    p: float


def damaged(path: Path, what: str) -> WinnowError:
    """One sentence for a damaged file of an eval run."""
    return WinnowError(f"{path} {what}; {AGAIN}.")


def read_record(path: Path) -> dict[str, Any]:
    """An eval run's run.json, or one sentence naming the file when it cannot be read."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise damaged(path, f"is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise damaged(path, f"cannot be read ({type(exc).__name__})") from None
    if not isinstance(record, dict):
        raise damaged(path, "holds no JSON object")
    return record


def read_scores(path: Path) -> pl.DataFrame:
    """An eval run's scores.parquet, or one sentence naming the file when it cannot be read."""
    try:
        scores = pl.read_parquet(path)
    except Exception:  # noqa: BLE001 - polars and pyarrow raise many kinds for a broken file
        raise damaged(path, "is not a readable Parquet file") from None
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise damaged(path, f"lacks the column(s) {', '.join(missing)}")
    return scores


def load_eval_run(ws: Workspace, name: str) -> EvalRun:
    """A completed eval run by name, or one line saying what is wrong with it."""
    path = ws.root / "runs" / name
    if not (path / "run.json").is_file():
        runs = sorted(p.parent.name for p in (ws.root / "runs").glob("*/scores.parquet"))
        raise WinnowError(
            f"eval run '{name}' not found; eval runs here: {', '.join(runs) or 'none'}."
        )
    record = read_record(path / "run.json")
    if record.get("method") != "evaluate":
        raise WinnowError(f"run '{name}' is a {record.get('method')} run, not an eval run.")
    if record.get("status") != "completed" or not (path / "scores.parquet").is_file():
        raise WinnowError(
            f"eval run '{name}' is {record.get('status')}; it has no scores to compare."
        )
    missing = [key for key in RECORD_KEYS if not isinstance(record.get(key), dict)]
    if missing:
        raise damaged(path / "run.json", f"has no {', '.join(missing)} object")
    return EvalRun(path, record, read_scores(path / "scores.parquet"))


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
            old = UNRECORDED.get(key)
            a = first.record["settings"].get(key, old)
            b = run.record["settings"].get(key, old)
            if a != b:
                found.append(f"{key}: {first.name} {a!r}, {run.name} {b!r}")
        a, b = (
            first.record["model"].get("chat_template_hash"),
            run.record["model"].get("chat_template_hash"),
        )
        if a != b and (
            first.record["settings"].get("apply_chat_template")
            or run.record["settings"].get("apply_chat_template")
        ):
            found.append(f"chat template: {first.name} {a}, {run.name} {b}")
        va, vb = first.record["versions"].get("lm_eval"), run.record["versions"].get("lm_eval")
        if va != vb:
            found.append(f"lm-eval version: {first.name} {va}, {run.name} {vb}")
        for task in sorted(set(first.record["tasks"]) & set(run.record["tasks"])):
            ta, tb = first.record["tasks"][task] or {}, run.record["tasks"][task] or {}
            for key in ("version", "num_fewshot", "config_hash", "data_files"):
                if ta.get(key) != tb.get(key):
                    label = key.replace("_", " ")
                    found.append(
                        f"{task} {label}: {first.name} {ta.get(key)}, {run.name} {tb.get(key)}"
                    )
    return found


def check_common(runs: list[EvalRun]) -> None:
    """Refuse runs that share no task with the first: there would be nothing to compare."""
    first = runs[0]
    for run in runs[1:]:
        if not set(first.tasks()) & set(run.tasks()):
            raise WinnowError(
                f"nothing in common: {first.name} has tasks {', '.join(first.tasks()) or 'none'}; "
                f"{run.name} has tasks {', '.join(run.tasks()) or 'none'}; "
                "compare eval runs that scored the same tasks."
            )


def document_values(run: EvalRun, task: str) -> dict[tuple[str, str | None], Values]:
    """(metric, filter) -> doc_hash -> value of each numeric per-document metric in the run's
    samples/TASK.jsonl (filter None in files written before samples named their filter); empty
    when the run has no such file. A damaged file is one sentence naming it and its line."""
    if task in run.documents:
        return run.documents[task]
    path = run.path / "samples" / f"{task}.jsonl"
    found: dict[tuple[str, str | None], Values] = {}
    if path.is_file():
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise damaged(path, f"cannot be read ({type(exc).__name__})") from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise damaged(path, f"line {number} is not valid JSON") from None
            if (
                not isinstance(row, dict)
                or not isinstance(row.get("doc_hash"), str)
                or not isinstance(row.get("metrics"), dict)
            ):
                raise damaged(path, f"line {number} has no doc_hash and metrics")
            filt = row.get("filter")
            for metric, value in row["metrics"].items():
                if isinstance(value, int | float) and not math.isnan(value):
                    found.setdefault((metric, filt), {})[row["doc_hash"]] = float(value)
    run.documents[task] = found
    return found


def metric_values(run: EvalRun, task: str, metric: str, filt: str) -> Values:
    """doc_hash -> value of one metric under one filter; samples that name no filter count
    only when the run scored the metric under one filter alone."""
    found = document_values(run, task)
    if (metric, filt) in found:
        return found[(metric, filt)]
    rows = run.scores.filter((pl.col("task") == task) & (pl.col("metric") == metric))
    return found.get((metric, None), {}) if rows.height == 1 else {}


def higher_is_better(run: EvalRun) -> dict[tuple[str, str], bool]:
    """(task, metric) -> whether a higher value is better (so when lm-eval does not say)."""
    if "higher_is_better" not in run.scores.columns:
        return {}
    rows = run.scores.select("task", "metric", "higher_is_better").iter_rows()
    return {(task, metric): better is not False for task, metric, better in rows}


def pairs(runs: list[EvalRun]) -> list[Pair]:
    """Per later run, each task, metric and filter scored by it and the first run with
    per-document values in both, restricted to the documents both scored."""
    first = runs[0]
    keys = ["task", "metric", "filter"]
    found = []
    better = higher_is_better(first)
    for run in runs[1:]:
        rows = first.scores.select(*keys).join(run.scores.select(*keys), on=keys).unique()
        for task, metric, filt in rows.sort(keys).iter_rows():
            if metric in DESCRIPTIVE:
                continue
            a = metric_values(first, task, metric, filt)
            b = metric_values(run, task, metric, filt)
            shared = sorted(set(a) & set(b))
            if not shared:
                continue
            found.append(
                Pair(
                    run.name,
                    task,
                    metric,
                    filt,
                    np.array([a[d] for d in shared]),
                    np.array([b[d] for d in shared]),
                    better.get((task, metric), True),
                )
            )
    return found


def mcnemar(lost: int, gained: int) -> float:
    """McNemar's exact test: the two-sided binomial p-value of the discordant pairs (documents
    right in one run and wrong in the other) under an even split."""
    if lost + gained == 0:
        return 1.0
    from scipy.stats import binomtest

    return float(binomtest(min(lost, gained), lost + gained, 0.5).pvalue)


def paired_bootstrap(
    diffs: np.ndarray, level: float = 1 - ALPHA, resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float, float, float]:
    """The percentile interval of the mean per-document difference at `level`, and a two-sided
    p-value for a zero mean (resampled means as far from the observed mean as it is from zero,
    (k + 1) / (resamples + 1)). Documents are resampled with replacement, as whole pairs:
    drawn as multinomial counts over the distinct differences, which is the same distribution
    and fast for 0/1 metrics. Deterministic under the seed."""
    n = len(diffs)
    values, counts = np.unique(diffs, return_counts=True)
    rng = np.random.default_rng(seed)
    chunk = max(1, 4_000_000 // len(values))
    means = np.concatenate(
        [
            rng.multinomial(n, counts / n, size=min(chunk, resamples - start)) @ values / n
            for start in range(0, resamples, chunk)
        ]
    )
    mean = float(diffs.mean())
    tail = 1 - level
    low, high = np.quantile(means, [tail / 2, 1 - tail / 2])
    far = int(np.sum(np.abs(means - mean) >= abs(mean) - 1e-12))
    return float(low), float(high), (far + 1) / (resamples + 1)


def paired_test(
    pair: Pair, level: float = 1 - ALPHA, resamples: int = RESAMPLES, seed: int = SEED
) -> PairedResult:
    """McNemar's exact test for a 0/1 metric, the paired bootstrap's p-value otherwise; the
    interval is the paired bootstrap's in both cases."""
    low, high, p = paired_bootstrap(pair.b - pair.a, level, resamples, seed)
    if pair.binary:
        gained, lost = pair.gained_lost()
        return PairedResult("mcnemar", len(pair.a), low, high, mcnemar(lost, gained))
    return PairedResult("bootstrap", len(pair.a), low, high, p)


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given: the i-th smallest times (m - i),
    never below the one before it, at most 1."""
    m = len(pvalues)
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: pvalues[i])):
        running = max(running, min(1.0, (m - rank) * pvalues[index]))
        adjusted[index] = running
    return adjusted


def check_options(alpha: float, correction: str) -> None:
    """A significance level strictly between 0 and 1 and a known correction."""
    if not 0 < alpha < 1:
        raise WinnowError(f"--alpha {alpha}: give a level between 0 and 1, such as 0.05.")
    if correction not in CORRECTIONS:
        raise WinnowError(f"--correction {correction}: use {' or '.join(CORRECTIONS)}.")


def tests_table(
    runs: list[EvalRun],
    alpha: float = ALPHA,
    correction: str = "holm",
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> pl.DataFrame:
    """One row per later run, task, metric and filter with per-document values in both runs:
    the test, the documents, the (1 - alpha) interval of the delta, the p-value, the p-value
    after the correction across every row, and whether that is below alpha."""
    check_options(alpha, correction)
    rows = []
    for pair in pairs(runs):
        test = paired_test(pair, 1 - alpha, resamples, seed)
        rows.append(
            {
                "run": pair.run,
                "task": pair.task,
                "metric": pair.metric,
                "filter": pair.filter,
                "test": test.test,
                "documents": test.documents,
                "low": test.low,
                "high": test.high,
                "p": test.p,
            }
        )
    adjusted = holm([r["p"] for r in rows]) if correction == "holm" else [r["p"] for r in rows]
    for row, p in zip(rows, adjusted, strict=True):
        row["p_adjusted"] = p
        row["significant"] = p < alpha
    schema = {
        "run": pl.Utf8,
        "task": pl.Utf8,
        "metric": pl.Utf8,
        "filter": pl.Utf8,
        "test": pl.Utf8,
        "documents": pl.Int64,
        "low": pl.Float64,
        "high": pl.Float64,
        "p": pl.Float64,
        "p_adjusted": pl.Float64,
        "significant": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema)


def delta_table(
    runs: list[EvalRun],
    alpha: float = ALPHA,
    correction: str = "holm",
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> pl.DataFrame:
    """One row per task, metric and filter: each run's value and stderr, and for each later
    run its delta from the first and the paired test of it on the documents both scored
    (`test`, `documents`, `low` and `high` of the (1 - alpha) interval, `p`, `p_adjusted`
    after the correction, `significant`: p_adjusted below alpha; empty without per-document
    values in both runs). Refuses runs that share no task with the first."""
    check_common(runs)
    tests = tests_table(runs, alpha, correction, resamples, seed)
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
        tested = tests.filter(pl.col("run") == run.name).select(
            "task",
            "metric",
            "filter",
            *[
                pl.col(c).alias(f"{c}:{run.name}")
                for c in ("test", "documents", "low", "high", "p", "p_adjusted", "significant")
            ],
        )
        table = table.with_columns((b - a).alias(f"delta:{run.name}")).join(
            tested, on=["task", "metric", "filter"], how="left"
        )
    return table.sort(keys)


def flips(runs: list[EvalRun]) -> pl.DataFrame:
    """Per later run, task and 0/1 metric (every one, not only acc): documents scored in both,
    and those that went wrong to right (gained) or right to wrong (lost), joined on the
    document hash."""
    rows = [
        {
            "run": pair.run,
            "task": pair.task,
            "metric": pair.metric,
            "filter": pair.filter,
            "documents": len(pair.a),
            "gained": pair.gained_lost()[0],
            "lost": pair.gained_lost()[1],
        }
        for pair in pairs(runs)
        if pair.binary
    ]
    return pl.DataFrame(
        rows,
        schema={
            "run": pl.Utf8,
            "task": pl.Utf8,
            "metric": pl.Utf8,
            "filter": pl.Utf8,
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
    document_values(run, task)  # one sentence for a damaged file
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return {row["doc_hash"]: row for row in rows}


def flipped(
    first: EvalRun, other: EvalRun, task: str, metric: str = "acc", filt: str = "none"
) -> pl.DataFrame:
    """The documents of a task that one run got right and the other wrong on a 0/1 metric:
    prompt, target, both responses, and whether `other` gained or lost it."""
    a, b = metric_values(first, task, metric, filt), metric_values(other, task, metric, filt)
    rows_a, rows_b = sample_rows(first, task), sample_rows(other, task)
    prompts = lm_eval_prompts(first, task)
    higher = higher_is_better(first).get((task, metric), True)
    found = [
        {
            "doc_id": rows_a[d]["doc_id"],
            "change": "gained" if (b[d] > a[d]) == higher else "lost",
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


def subset_label(run: EvalRun) -> str:
    """A run's name, with its --limit when it scored a subset of each task."""
    limit = run.record["settings"].get("limit")
    return run.name if limit is None else f"{run.name} [limit {limit:g}]"


def subset_note(runs: list[EvalRun]) -> str | None:
    """One line naming the runs scored on a subset, or None."""
    subsets = [subset_label(r) for r in runs if r.record["settings"].get("limit") is not None]
    if not subsets:
        return None
    return (
        f"{', '.join(subsets)}: scored on a subset of each task (--limit), not the whole "
        "task; a published figure is over the whole task"
    )


def best_run(row: dict[str, Any], runs: list[EvalRun], better: dict[tuple[str, str], bool]) -> str:
    """The run with the best value of a delta-table row (by the metric's direction), `tie`
    when several share it, blank for descriptive metrics or a single value."""
    values = {r.name: row[f"value:{r.name}"] for r in runs if row[f"value:{r.name}"] is not None}
    if row["metric"] in DESCRIPTIVE or len(values) < 2:
        return ""
    pick = max if better.get((row["task"], row["metric"]), True) else min
    top = pick(values.values())
    winners = [name for name, value in values.items() if value == top]
    return winners[0] if len(winners) == 1 else "tie"
