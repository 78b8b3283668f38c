"""`winnow evaluate compare` on eval runs planted as files: McNemar's exact test, the paired
bootstrap, Holm's correction, --alpha, flips of every 0/1 metric, and each bad input as one
sentence. No model runs: compare only reads run folders."""

from __future__ import annotations

import json
import math
import re
from importlib import metadata
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.cli_helpers import run_cli
from winnow.evals.compare import (
    EvalRun,
    delta_table,
    flips,
    holm,
    load_eval_run,
    mcnemar,
    paired_bootstrap,
)
from winnow.evals.scores import SCHEMA
from winnow.workspace import Workspace

Planted = dict[str, dict[str, list[float]]]
"""task -> metric -> one value per document (documents named TASK-0, TASK-1, ...)."""

LOST_10_GAINED_2 = (
    [1.0] * 10 + [0.0] * 2 + [1.0] * 10 + [0.0] * 10,
    [0.0] * 10 + [1.0] * 2 + [1.0] * 10 + [0.0] * 10,
)
"""A McNemar table on 32 documents: 10 right in A only, 2 right in B only, 10 right in both,
10 wrong in both. Two-sided exact p = 2 * (C(12,0) + C(12,1) + C(12,2)) / 2^12 = 0.0386."""


def plant(root: Path, name: str, tasks: Planted, lower_is_better: tuple[str, ...] = ()) -> Path:
    """An eval run folder as `winnow evaluate` writes it: run.json, scores.parquet (the mean
    of each metric) and samples/TASK.jsonl with per-document metrics."""
    folder = root / "runs" / name
    (folder / "samples").mkdir(parents=True)
    scores = []
    for task, metrics in tasks.items():
        n = len(next(iter(metrics.values())))
        with (folder / "samples" / f"{task}.jsonl").open("w") as handle:
            for i in range(n):
                row = {
                    "doc_id": i,
                    "doc_hash": f"{task}-{i}",
                    "target": "t",
                    "filter": "none",
                    "metrics": {m: values[i] for m, values in metrics.items()},
                    "filtered_resps": [f"answer {i}"],
                }
                handle.write(json.dumps(row) + "\n")
        for metric, values in metrics.items():
            scores.append(
                {
                    "run": name,
                    "task": task,
                    "alias": task,
                    "is_group": False,
                    "metric": metric,
                    "filter": "none",
                    "value": float(np.mean(values)),
                    "stderr": float(np.std(values, ddof=1) / math.sqrt(n)),
                    "samples": n,
                    "higher_is_better": metric not in lower_is_better,
                    "contaminated": False,
                }
            )
    pl.DataFrame(scores, schema=SCHEMA).write_parquet(folder / "scores.parquet")
    record = {
        "name": name,
        "method": "evaluate",
        "status": "completed",
        "settings": {"limit": None, "num_fewshot": None, "apply_chat_template": False},
        "model": {"chat_template_hash": "same"},
        "versions": {"lm_eval": metadata.version("lm_eval")},
        "tasks": {t: {"version": 1.0, "num_fewshot": 0, "config_hash": "c"} for t in tasks},
    }
    (folder / "run.json").write_text(json.dumps(record))
    return folder


def loaded(root: Path, *names: str) -> list[EvalRun]:
    """Planted runs, loaded as compare loads them."""
    return [load_eval_run(Workspace(root), name) for name in names]


def files(root: Path) -> dict[str, bytes]:
    """Every file under a workspace and its bytes."""
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_mcnemar_p_value_matches_the_hand_computed_binomial_tail() -> None:
    """b=10, c=2: 2 * 79 / 4096 = 0.0386; no discordant pair or an even split is p = 1."""
    assert mcnemar(10, 2) == pytest.approx(2 * (1 + 12 + 66) / 4096)
    assert round(mcnemar(10, 2), 4) == 0.0386
    assert mcnemar(2, 10) == mcnemar(10, 2)
    assert mcnemar(0, 0) == 1.0 and mcnemar(3, 3) == 1.0
    assert mcnemar(0, 8) == pytest.approx(2 / 256)


def test_paired_bootstrap_interval_holds_the_true_delta_and_repeats_under_its_seed() -> None:
    """Scores shifted by 0.3 plus centred noise: the 95% interval holds 0.3, excludes 0, is about
    +-1.96 standard errors wide, and the same seed gives the same interval and p-value."""
    rng = np.random.default_rng(7)
    a = rng.normal(0.5, 0.2, 400)
    noise = rng.normal(0, 0.1, 400)
    b = a + 0.3 + noise - noise.mean()
    diffs = b - a
    low, high, p = paired_bootstrap(diffs)
    assert low < 0.3 < high and low > 0 and p < 0.001
    se = diffs.std(ddof=1) / math.sqrt(len(diffs))
    assert high - low == pytest.approx(2 * 1.96 * se, rel=0.1)
    assert paired_bootstrap(diffs) == (low, high, p)
    assert paired_bootstrap(diffs, seed=1) != (low, high, p)
    same, _, p_same = paired_bootstrap(np.zeros(50))
    assert same == 0.0 and p_same == 1.0


def test_holm_adjusts_planted_p_values() -> None:
    """Sorted 0.005, 0.01, 0.03, 0.04 become 4x, 3x, 2x and 1x, never below the one before."""
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_mcnemar_and_bootstrap_on_planted_runs_and_alpha_changes_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One 0/1 task with the b=10, c=2 table: McNemar's p = 0.0386, significant at 0.05 and not
    at --alpha 0.01; a float metric gets the paired bootstrap; the output names both tests."""
    a, b = LOST_10_GAINED_2
    scores_a = [0.2 + 0.01 * i for i in range(32)]
    scores_b = [s + 0.001 * (i % 3 - 1) for i, s in enumerate(scores_a)]
    plant(tmp_path, "A", {"mc": {"acc": a}, "gen": {"f1": scores_a}})
    plant(tmp_path, "B", {"mc": {"acc": b}, "gen": {"f1": scores_b}})
    runs = loaded(tmp_path, "A", "B")
    table = delta_table(runs, correction="none")
    row = table.filter(pl.col("task") == "mc").row(0, named=True)
    assert row["test:B"] == "mcnemar" and row["documents:B"] == 32
    assert row["p:B"] == pytest.approx(0.0386, abs=1e-4) and row["significant:B"] is True
    assert row["delta:B"] == pytest.approx(-0.25) and row["low:B"] < -0.25 < row["high:B"]
    assert row["high:B"] < 0
    gen = table.filter(pl.col("task") == "gen").row(0, named=True)
    assert gen["test:B"] == "bootstrap" and gen["significant:B"] is False
    assert delta_table(runs, alpha=0.01, correction="none")["significant:B"].to_list() == [
        False,
        False,
    ]
    assert delta_table(runs, correction="none").equals(table)
    ws = ["-w", str(tmp_path)]
    code, out = run_cli(capsys, "evaluate", "compare", "A", "B", "--correction", "none", *ws)
    assert code == 0, out
    assert re.search(r"mc\W+acc\W+0\.6250 ± 0\.0870\W+0\.3750 ± 0\.0870 \(-0\.2500\*\)", out)
    assert re.search(r"mc\W+acc\W+mcnemar\W+32\W+-0\.250 \[-0\.\d+, -0\.\d+\]\W+0\.0386\W+\*", out)
    assert re.search(r"gen\W+f1\W+bootstrap\W+32\W+", out)
    assert "* p, uncorrected, below 0.05 across 2 paired tests" in out
    args = ["--alpha", "0.01", "--correction", "none"]
    code, out = run_cli(capsys, "evaluate", "compare", "A", "B", *args, *ws)
    assert code == 0 and "(-0.2500)" in out and "(-0.2500*)" not in out
    assert "99% interval" in out and "below 0.01" in out


def test_holm_correction_across_the_table_is_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The b=10, c=2 task beside an unchanged one: Holm doubles the smaller p (0.077), so the
    delta is not significant by default and is with --correction none."""
    a, b = LOST_10_GAINED_2
    plant(tmp_path, "A", {"mc": {"acc": a}, "same": {"acc": a}})
    plant(tmp_path, "B", {"mc": {"acc": b}, "same": {"acc": a}})
    table = delta_table(loaded(tmp_path, "A", "B"))
    row = table.filter(pl.col("task") == "mc").row(0, named=True)
    assert row["p_adjusted:B"] == pytest.approx(2 * row["p:B"]) and not row["significant:B"]
    code, out = run_cli(capsys, "evaluate", "compare", "A", "B", "-w", str(tmp_path))
    assert code == 0 and "(-0.2500)" in out and "p after Holm's correction below 0.05" in out
    assert re.search(r"mc\W+acc\W+mcnemar\W+32\W+-0\.250 \[[^]]+\]\W+0\.0386\W+0\.0771\W", out)
    code, out = run_cli(
        capsys, "evaluate", "compare", "A", "B", "--correction", "none", "-w", str(tmp_path)
    )
    assert code == 0 and "(-0.2500*)" in out


def test_flips_count_every_binary_metric_and_name_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """exact_match flips are counted (3 gained, 1 lost), unparseable (lower is better) counts
    1 to 0 as gained, and a float metric has no flips."""
    em_a = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0]
    em_b = [1.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    bad_a = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    bad_b = [0.0, 1.0, 0.0, 0.0, 1.0, 1.0]
    f1 = [0.5, 0.25, 0.75, 0.5, 0.5, 0.5]
    plant(
        tmp_path,
        "A",
        {"gen": {"exact_match": em_a, "unparseable": bad_a, "f1": f1}},
        lower_is_better=("unparseable",),
    )
    plant(
        tmp_path,
        "B",
        {"gen": {"exact_match": em_b, "unparseable": bad_b, "f1": f1[::-1]}},
        lower_is_better=("unparseable",),
    )
    runs = loaded(tmp_path, "A", "B")
    counted = flips(runs).select("task", "metric", "documents", "gained", "lost").rows()
    assert counted == [("gen", "exact_match", 6, 3, 1), ("gen", "unparseable", 6, 1, 2)]
    code, out = run_cli(capsys, "evaluate", "compare", "A", "B", "-w", str(tmp_path))
    assert code == 0, out
    assert "per-document flips of each 0/1 metric" in out
    assert re.search(r"B\W+gen\W+exact_match\W+6\W+3\W+1\W", out)
    assert re.search(r"B\W+gen\W+unparseable\W+6\W+1\W+2\W", out)
    from winnow.evals.compare import flipped

    listed = flipped(runs[0], runs[1], "gen", "unparseable")
    assert listed.select("doc_id", "change").rows() == [(0, "gained"), (4, "lost"), (5, "lost")]


def broken_run_json(root: Path) -> tuple[Path, str]:
    """run.json cut short."""
    path = root / "runs" / "B" / "run.json"
    path.write_text('{"method": "evaluate", ')
    return path, "is not valid JSON (Expecting property name enclosed in double quotes at line 1)"


def broken_scores(root: Path) -> tuple[Path, str]:
    """scores.parquet that is not Parquet."""
    path = root / "runs" / "B" / "scores.parquet"
    path.write_bytes(b"not parquet")
    return path, "is not a readable Parquet file"


def broken_samples(root: Path) -> tuple[Path, str]:
    """A samples file with a cut line."""
    path = root / "runs" / "B" / "samples" / "mc.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1][:20], *lines[2:]]) + "\n")
    return path, "line 2 is not valid JSON"


def record_without_settings(root: Path) -> tuple[Path, str]:
    """run.json without its settings."""
    path = root / "runs" / "B" / "run.json"
    record = json.loads(path.read_text())
    del record["settings"]
    path.write_text(json.dumps(record))
    return path, "has no settings object"


@pytest.mark.parametrize(
    "damage", [broken_run_json, broken_scores, broken_samples, record_without_settings]
)
def test_a_damaged_file_is_one_sentence_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage
) -> None:
    """A corrupt run.json, scores or samples file: one sentence with the file and what to do,
    no traceback, no table, nothing written."""
    a, b = LOST_10_GAINED_2
    plant(tmp_path, "A", {"mc": {"acc": a}})
    plant(tmp_path, "B", {"mc": {"acc": b}})
    path, what = damage(tmp_path)
    before = files(tmp_path)
    code, out = run_cli(capsys, "evaluate", "compare", "A", "B", "-w", str(tmp_path))
    expected = f"error: {path} {what}; restore it or run `winnow evaluate` again into a new run."
    assert code == 2 and out == expected
    assert files(tmp_path) == before


def test_runs_with_no_task_in_common_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Runs of different tasks: one sentence naming each run's tasks."""
    a, b = LOST_10_GAINED_2
    plant(tmp_path, "A", {"arc": {"acc": a}, "piqa": {"acc": a}})
    plant(tmp_path, "B", {"boolq": {"acc": b}})
    code, out = run_cli(capsys, "evaluate", "compare", "A", "B", "-w", str(tmp_path))
    assert code == 2 and out == (
        "error: nothing in common: A has tasks arc, piqa; B has tasks boolq; "
        "compare eval runs that scored the same tasks."
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--alpha", "1.5"], "error: --alpha 1.5: give a level between 0 and 1, such as 0.05."),
        (["--correction", "bonferroni"], "error: --correction bonferroni: use holm or none."),
    ],
)
def test_bad_alpha_or_correction_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    """A level outside (0, 1) or an unknown correction stops before anything is read."""
    code, out = run_cli(capsys, "evaluate", "compare", "A", "B", *args, "-w", str(tmp_path))
    assert code == 2 and out == expected
