"""An ablation's outputs: every eval number with the arm, seed and runs behind it
(scores.parquet), the per-recipe summary and paired differences (summary.parquet,
differences.parquet) and the verdict with its caveats (report.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from winnow.ablate.table import differences, summary, verdict_line
from winnow.evals.compare import DESCRIPTIVE
from winnow.workspace import Workspace


def scores_of(ws: Workspace, record: dict[str, Any]) -> pl.DataFrame:
    """Every unit's eval scores as rows with its arm, seed, training run and eval run;
    descriptive metrics (a Yes/No balance) get no side."""
    frames = []
    for name, unit in record["units"].items():
        for output in unit.get("evals", []):
            scores = pl.read_parquet(ws.root / "runs" / output / "scores.parquet")
            frames.append(
                scores.select(
                    "task",
                    "metric",
                    "filter",
                    "value",
                    "stderr",
                    pl.when(pl.col("metric").is_in(sorted(DESCRIPTIVE)))
                    .then(None)
                    .otherwise(pl.col("higher_is_better"))
                    .alias("higher_is_better"),
                ).with_columns(
                    pl.lit(unit["arm"]).alias("arm"),
                    pl.lit(unit["seed"]).alias("seed"),
                    pl.lit(name).alias("run"),
                    pl.lit(output).alias("eval_run"),
                )
            )
    return pl.concat(frames).filter(pl.col("value").is_not_null())


def caveats(record: dict[str, Any]) -> list[str]:
    """What qualifies the verdict: one seed, repeated data, allowed reference overlap."""
    notes = []
    if record["plan"].get("limit") is not None:
        notes.append(
            f"The evals scored a subset (--limit {record['plan']['limit']:g} documents a task)."
        )
    if record["plan"]["seeds"] < 2:
        notes.append("One seed: no seed spread was measured, so no difference can count.")
    repeated = {u["arm"]: u["epochs"] for u in record["units"].values() if u.get("epochs", 0) > 1}
    for arm, epochs in sorted(repeated.items()):
        notes.append(
            f"{arm} has fewer tokens than --tokens: its runs saw its data {epochs:.2f} times."
        )
    overlap = record.get("reference_overlap", {}).get("documents", {})
    for ref, arms in overlap.items():
        for arm, count in arms.items():
            if count:
                notes.append(
                    f"{count} documents of {arm} share a 13-word sequence with reference {ref} "
                    "(allowed with --allow-overlap)."
                )
    return notes


def markdown(frame: pl.DataFrame) -> str:
    """A small table as Markdown."""
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = [
        "| "
        + " | ".join(
            "" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v) for v in row
        )
        + " |"
        for row in frame.iter_rows()
    ]
    return "\n".join([head, rule, *rows])


def write_report(path: Path, record: dict[str, Any], ws: Workspace) -> list[str]:
    """Write the tables and report.md; the verdict's lines."""
    arms = [arm["name"] for arm in record["arms"]]
    scores = scores_of(ws, record)
    scores.write_parquet(path / "scores.parquet")
    table = summary(scores, arms)
    table.write_parquet(path / "summary.parquet")
    paired = differences(scores, arms)
    paired.write_parquet(path / "differences.parquet")
    lines = [verdict_line(row) for row in paired.iter_rows(named=True)]
    notes = caveats(record)
    text = [
        f"# Ablation {record['name']}",
        "",
        "## Verdict",
        "",
        *(f"- {line}" for line in lines),
        "",
        *(["## Caveats", "", *(f"- {n}" for n in notes), ""] if notes else []),
        "## Per recipe (over seeds)",
        "",
        markdown(table.drop("higher_is_better")),
        "",
        "## Runs",
        "",
        markdown(
            pl.DataFrame(
                [
                    {k: unit.get(k) for k in ("arm", "seed", "run", "dataset", "tokens", "epochs")}
                    for unit in record["units"].values()
                ]
            )
        ),
        "",
    ]
    (path / "report.md").write_text("\n".join(text), encoding="utf-8")
    return [*lines, *notes]
