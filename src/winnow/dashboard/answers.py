"""What a flipped document asked and answered, in words: the question, the choices' texts, the
target answer and what each model chose, read from the samples lm-eval logged for the eval
run (`lm_eval/*/samples_TASK_*.jsonl`) instead of log-likelihood tuples and a target index."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from winnow.evals.compare import EvalRun


@dataclass
class Answered:
    """One document of a task as lm-eval logged it for one run."""

    question: str
    choices: list[str] = field(default_factory=list)
    """The texts of the choices of a multiple-choice task; empty for a generated answer."""
    target: str = ""
    """The right answer's text."""
    scores: list[float] = field(default_factory=list)
    """Per choice, the log-likelihood the model gave it."""
    generated: str = ""
    """The model's filtered answer of a generation task."""

    def chosen(self, metric: str) -> str:
        """The answer the model gave under a metric: the generated text, or the choice with
        the highest log-likelihood (per character of the choice for acc_norm, as lm-eval)."""
        if not self.choices or len(self.scores) != len(self.choices):
            return self.generated
        per = [
            s / max(len(c), 1) if metric == "acc_norm" else s
            for s, c in zip(self.scores, self.choices, strict=True)
        ]
        return self.choices[per.index(max(per))]


def sample_files(run: EvalRun, task: str) -> list[Path]:
    """lm-eval's samples files of one task in a run (one per evaluation date)."""
    return sorted((run.path / "lm_eval").glob(f"*/samples_{task}_*.jsonl"))


def choice_text(argument: dict[str, Any]) -> str:
    """A choice as lm-eval scored it, without the space that joined it to the question."""
    text = str(argument.get("arg_1", ""))
    return text[1:] if text.startswith(" ") else text


def answered(row: dict[str, Any]) -> Answered:
    """One lm-eval sample row in words."""
    arguments = list((row.get("arguments") or {}).values())
    question = str(arguments[0].get("arg_0", "")) if arguments else ""
    responses = row.get("filtered_resps") or []
    multiple = bool(arguments) and all("arg_1" in a for a in arguments)
    if not multiple:
        first = responses[0] if responses else ""
        return Answered(question, target=str(row.get("target", "")), generated=str(first))
    choices = [choice_text(a) for a in arguments]
    scores = [float(r[0]) for r in responses if isinstance(r, list | tuple) and r]
    return Answered(question, choices, target_text(str(row.get("target", "")), choices), scores)


def target_text(target: str, choices: list[str]) -> str:
    """The right choice's text when the target is its index, else the target as logged."""
    if target.isdigit() and int(target) < len(choices):
        return choices[int(target)]
    return target


def answers(run: EvalRun, task: str) -> dict[str, Answered]:
    """doc_hash -> the document in words, for every document lm-eval logged (the first
    filter's row where a task has several)."""
    found: dict[str, Answered] = {}
    for path in sample_files(run, task):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                found.setdefault(str(row.get("doc_hash")), answered(row))
    return found


def worded(
    flipped: pl.DataFrame, first: EvalRun, other: EvalRun, task: str, metric: str
) -> pl.DataFrame:
    """The flipped documents with the question, right answer and each run's answer in words
    (empty text where lm-eval's samples are missing)."""
    mine, theirs = answers(first, task), answers(other, task)
    empty = Answered("")
    rows = []
    for doc_hash, doc_id, change in flipped.select("doc_hash", "doc_id", "change").iter_rows():
        a, b = mine.get(doc_hash, empty), theirs.get(doc_hash, empty)
        rows.append(
            {
                "doc_id": doc_id,
                "change": change,
                "question": a.question,
                "answer": a.target,
                f"{first.name} chose": a.chosen(metric),
                f"{other.name} chose": b.chosen(metric),
                "choices": a.choices,
                "doc_hash": doc_hash,
            }
        )
    columns = ["question", "answer", f"{first.name} chose", f"{other.name} chose"]
    schema = {"doc_id": pl.Int64, "change": pl.Utf8} | dict.fromkeys(columns, pl.Utf8)
    return pl.DataFrame(rows, schema=schema | {"choices": pl.List(pl.Utf8), "doc_hash": pl.Utf8})
