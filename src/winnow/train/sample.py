"""Rejection sampling / best-of-n (the Llama 2 recipe): n answers per prompt from a policy,
scored by a reward model, published as a preference set (best against worst) and an
instruction set (the best answer), both with the policy, reward model and prompts as lineage.

Every generation and its score is kept in the run's samples.jsonl; prompts whose answers all
score the same become quarantined ties in the preference set, never silently dropped.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from winnow.console import console
from winnow.curate.recipes import load_recipe
from winnow.curate.runner import RunOptions
from winnow.devices import device_info
from winnow.errors import WinnowError
from winnow.files import read_json, write_json
from winnow.instruct.build import import_file
from winnow.instruct.run import curate_instruct
from winnow.preference.dataset import import_preference
from winnow.train.data import input_record
from winnow.train.generation import Sampling, generate, load_model
from winnow.train.models import load_tokenizer, resolve_base
from winnow.train.runs import RunFolder, now, open_run
from winnow.train.scoring import score
from winnow.workspace import DatasetVersion, Workspace

PROMPT_COLUMNS = ("id", "instruction", "input", "system", "history", "prompt")
"""Columns of an instruction set that sampling reads."""


@dataclass
class SampleJob:
    """What `winnow train sample` was asked to do."""

    policy: str
    reward: str
    prompts: str
    output: str
    n: int = 4
    max_prompts: int | None = None
    sampling: Sampling = field(default_factory=Sampling)

    def check(self) -> None:
        """Refuse settings that cannot make a pair."""
        if self.n < 2:
            raise WinnowError(f"--n {self.n}: best-of-n needs at least 2 answers per prompt.")
        if self.max_prompts is not None and self.max_prompts < 1:
            raise WinnowError(f"--max-prompts {self.max_prompts}: must be 1 or more.")
        self.sampling.check()


def prompt_rows(ws: Workspace, ref: str, limit: int | None) -> tuple[DatasetVersion, list[dict]]:
    """The prompts' instruction rows (id, fields, prompt messages) in order."""
    version = ws.dataset(ref)
    files = sorted((version.path / "kept").glob("*.parquet"))
    schema = pl.scan_parquet(files).collect_schema() if files else {}
    missing = [c for c in PROMPT_COLUMNS if c not in schema]
    if missing:
        raise WinnowError(
            f"--prompts {version.ref}: has no column {', '.join(missing)}; give an instruction "
            "set made by 'winnow curate instruct'."
        )
    frame = pl.read_parquet(files, columns=list(PROMPT_COLUMNS))
    if limit:
        frame = frame.head(limit)
    if not frame.height:
        raise WinnowError(f"--prompts {version.ref}: has no kept rows.")
    return version, frame.to_dicts()


def load_reward(arg: str, ws: Workspace) -> tuple[Any, Any, dict[str, Any]]:
    """The reward model (a one-score classifier) and its tokenizer."""
    import torch
    from transformers import AutoModelForSequenceClassification

    base = resolve_base(arg, ws)
    if base.kind == "tiny":
        raise WinnowError("--reward tiny: train one with 'winnow train reward' and name its run.")
    tokenizer = load_tokenizer(base)
    model = AutoModelForSequenceClassification.from_pretrained(base.path, **base.load_args())
    if model.config.num_labels != 1:
        raise WinnowError(
            f"--reward {arg}: has {model.config.num_labels} outputs, not one score; give a run "
            "of 'winnow train reward'."
        )
    model.config.pad_token_id = tokenizer.pad_token_id
    model.to("cuda" if torch.cuda.is_available() else "cpu")
    return model, tokenizer, base.record()


def draw(job: SampleJob, ws: Workspace, rows: list[dict], run: RunFolder) -> list[dict[str, Any]]:
    """n answers per prompt with their reward scores, also appended to samples.jsonl."""
    _, policy, policy_tokenizer = load_model(job.policy, ws, "--policy")
    reward, reward_tokenizer, _ = load_reward(job.reward, ws)
    samples = []
    for index, row in enumerate(rows):
        messages = json.loads(row["prompt"])
        seeded = Sampling(**{**asdict(job.sampling), "seed": job.sampling.seed + index})
        answers = generate(policy, policy_tokenizer, messages, seeded, job.n)
        conversations = [[*messages, {"role": "assistant", "content": a}] for a in answers]
        scores = score(reward, reward_tokenizer, conversations)
        sample = {
            "id": row["id"],
            "prompt": messages,
            "answers": [{"text": a, "rating": s} for a, s in zip(answers, scores, strict=True)],
        }
        with (run.path / "samples.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(sample, ensure_ascii=False) + "\n")
        samples.append({**sample, "row": row})
        if (index + 1) % 10 == 0 or index + 1 == len(rows):
            console.print(f"sampled {index + 1:,} of {len(rows):,} prompts")
    return samples


def with_lineage(version: DatasetVersion, lineage: dict[str, Any], parent: DatasetVersion) -> None:
    """Record the prompts as parent and the sampling run in a published manifest."""
    path = version.path / "manifest.json"
    manifest = read_json(path)
    manifest["parents"] = [
        {
            "name": parent.name,
            "version": parent.version,
            "fingerprint": parent.manifest["fingerprint"],
        }
    ]
    manifest["sampling"] = lineage
    write_json(manifest, path)


def publish(
    ws: Workspace, job: SampleJob, samples: list[dict], lineage: dict, parent: DatasetVersion
) -> tuple[DatasetVersion, DatasetVersion]:
    """The preference set (best vs worst, via the `rated` importer) and the best-answer set."""
    with tempfile.TemporaryDirectory(prefix="winnow-sample-") as folder:
        rated = Path(folder) / f"{job.output}-rated.jsonl"
        best = Path(folder) / f"{job.output}-best.jsonl"
        with rated.open("w", encoding="utf-8") as pairs, best.open("w", encoding="utf-8") as top:
            for sample in samples:
                row = sample["row"]
                pairs.write(json.dumps({k: sample[k] for k in ("id", "prompt", "answers")}) + "\n")
                winner = max(sample["answers"], key=lambda a: a["rating"])
                record = {
                    "id": row["id"],
                    "instruction": row["instruction"],
                    "input": row["input"],
                    "system": row["system"],
                    "history": json.loads(row["history"]) if row["history"] else [],
                    "output": winner["text"],
                }
                top.write(json.dumps(record, ensure_ascii=False) + "\n")
        preference = import_preference(ws, [(rated, rated.name)], f"{job.output}-pairs", "rated")
        imported = import_file(best, "alpaca")
        settings = {"map": None, "max_tokens": None, "tokenizer": None}
        recipe = load_recipe("sampled")
        chosen = curate_instruct(
            ws, recipe, [(best, best.name)], imported, f"{job.output}-best", RunOptions(), settings
        )
    for version in (preference, chosen):
        with_lineage(version, lineage, parent)
    return preference, chosen


def sample(ws: Workspace, job: SampleJob) -> tuple[RunFolder, DatasetVersion, DatasetVersion]:
    """Generate, score, publish both sets, and record it all as run `job.output`."""
    job.check()
    parent, rows = prompt_rows(ws, job.prompts, job.max_prompts)
    policy, reward = resolve_base(job.policy, ws), resolve_base(job.reward, ws)
    spec = {
        "config": {**asdict(job)},
        "inputs": [input_record(parent, len(rows))],
        "base": policy.record(),
        "reward_model": reward.record(),
        "device": device_info(),
    }
    run, _ = open_run(ws, job.output, "sample", spec, resume=False)
    try:
        samples = draw(job, ws, rows, run)
        lineage = {
            "run": job.output,
            "policy": policy.record(),
            "reward": reward.record(),
            "n": job.n,
            **asdict(job.sampling),
        }
        preference, chosen = publish(ws, job, samples, lineage, parent)
        run.update(
            status="completed",
            finished_at=now(),
            results={"prompts": len(rows), "answers": len(rows) * job.n},
            outputs=[preference.ref, chosen.ref],
        )
    except BaseException as exc:
        run.fail(exc)
        raise
    return run, preference, chosen
