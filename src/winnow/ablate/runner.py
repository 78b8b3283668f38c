"""`winnow ablate` end to end: datasets, the reference check, shared starting models, one
token-matched pretraining run per dataset and seed, its evals, then the tables and verdict.
Every finished piece is kept and found again, so a killed ablation continues where it
stopped."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter
from typing import Any

from winnow.ablate.arms import Arm, arm_dataset, plan_arms
from winnow.ablate.init import check_model, initial_model, shared_tokenizer
from winnow.ablate.plan import AblationPlan, open_record, save
from winnow.ablate.report import write_report
from winnow.console import console
from winnow.errors import WinnowError
from winnow.files import read_json
from winnow.workspace import Workspace

OVERLAP_N = 13
"""Word n-gram length of the check that no candidate contains reference text."""


class Ablation:
    """One ablation's plan, folder, record and the timing of its stages."""

    def __init__(self, ws: Workspace, plan: AblationPlan) -> None:
        plan.check()
        check_model(plan.model)
        self.ws, self.plan = ws, plan
        self.arms = plan_arms(plan.recipes, plan.datasets)
        for ref in plan.references:
            ws.dataset(ref)
        self.template = self.job(self.arms[0].name, "template", "tiny", 0)
        self.path, self.record = open_record(ws, plan)
        self.record["arms"] = [a.record() for a in self.arms]
        self.record.setdefault("units", {})
        self.record["stages"] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a stage into the record, and say what runs."""
        console.print(f"[bold]ablate[/] {self.plan.output}: {name}")
        started = perf_counter()
        yield
        self.record["stages"][name] = round(perf_counter() - started, 2)
        save(self.path, self.record)

    def run(self) -> dict[str, Any]:
        """Every stage in order; the finished record."""
        try:
            with self.stage("datasets"):
                datasets = self.datasets()
            with self.stage("reference check"):
                self.check_references(datasets)
            with self.stage("starting models"):
                starts = self.starting_models(datasets)
            with self.stage("training and evaluating"):
                for seed in range(self.plan.seeds):  # seed by seed: pairs finish early
                    for arm in self.arms:
                        self.train(arm, seed, datasets[arm.name], starts[seed])
                        self.evaluate(arm, seed)
            units = self.record["units"].values()
            for part in ("train", "eval"):
                spent = sum(u.get(f"{part}_seconds") or 0 for u in units)
                self.record["stages"][f"{part} (all runs)"] = round(spent, 2)
            with self.stage("tables"):
                self.record["verdict"] = write_report(self.path, self.record, self.ws)
        except BaseException as exc:
            self.record.update(status="failed", error=f"{type(exc).__name__}: {exc}")
            save(self.path, self.record)
            raise
        self.record.update(status="completed", error=None)
        save(self.path, self.record)
        return self.record

    def datasets(self) -> dict[str, str]:
        """Each arm's dataset as NAME@VERSION, curated now or reused; recorded with lineage."""
        found, records = {}, {}
        for arm in self.arms:
            version, reused = arm_dataset(self.ws, arm, self.plan.source, self.plan.output)
            manifest = read_json(version.path / "manifest.json")
            found[arm.name] = version.ref
            records[arm.name] = {
                "dataset": version.ref,
                "reused": reused,
                "fingerprint": manifest["fingerprint"],
                "recipe_hash": (manifest.get("recipe") or {}).get("hash"),
                "kept": manifest["counts"]["kept"],
                "kept_text_bytes": manifest["counts"].get("kept_text_bytes"),
            }
        self.record["datasets"] = records
        return found

    def check_references(self, datasets: dict[str, str]) -> None:
        """Count each candidate's documents sharing a 13-gram with each reference set; refuse
        any overlap unless --allow-overlap, which the verdict then names."""
        from winnow.curate.steps.decontaminate import Decontaminate
        from winnow.evals.contamination import dataset_text

        found: dict[str, dict[str, int]] = {}
        for ref in self.plan.references:
            path = self.path / "references" / f"{ref.replace('@', '-')}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            dataset_text(self.ws, ref).write_parquet(path)
            step = Decontaminate(evals=[str(path)], n=OVERLAP_N)
            found[ref] = {}
            for arm, dataset in datasets.items():
                scored = step.score(dataset_text(self.ws, dataset))
                found[ref][arm] = int((scored["decontaminate_matches"] > 0).sum())
        self.record["reference_overlap"] = {"n": OVERLAP_N, "documents": found}
        overlaps = [(r, a, c) for r, arms in found.items() for a, c in arms.items() if c]
        if overlaps and not self.plan.allow_overlap:
            ref, arm, count = overlaps[0]
            raise WinnowError(
                f"reference {ref}: {count} documents of candidate {arm} share a {OVERLAP_N}-word "
                "sequence with it, so its perplexity would reward copying; give a reference none "
                "of the candidates contains, or pass --allow-overlap to go on with it noted."
            )

    def starting_models(self, datasets: dict[str, str]) -> dict[int, str]:
        """The folder each seed's runs start from (a shared tokenizer, one init per seed)."""
        job = self.template
        tokenizer = None
        if self.plan.model == "tiny":
            first = datasets[self.arms[0].name]
            tokenizer = shared_tokenizer(self.ws, self.path, first, job.tiny_vocab)
        return {
            seed: str(
                initial_model(
                    self.plan.model, self.path, tokenizer, seed, job.tiny_params, job.max_length
                )
            )
            for seed in range(self.plan.seeds)
        }

    def job(self, dataset: str, output: str, base: str, seed: int) -> Any:
        """The pretraining job of one unit: --set settings, then the matched step count."""
        from winnow.train.config import PretrainConfig, load_config

        options = {"data": dataset, "output": output, "base": base, "seed": seed}
        sets = ["eval_fraction=0", *self.plan.sets]
        job, _ = load_config(PretrainConfig, None, options, sets)
        if any(s.split("=")[0].strip() in ("max_steps", "epochs") for s in self.plan.sets):
            raise WinnowError(
                "--set max_steps/epochs: an ablation sets the steps from --tokens; leave them out."
            )
        per_step = job.batch_size * job.grad_accum * job.max_length
        if self.plan.tokens < per_step:
            raise WinnowError(
                f"--tokens {self.plan.tokens:,}: less than one step of {per_step:,} tokens "
                "(batch_size x grad_accum x max_length); raise --tokens."
            )
        job.max_steps = self.plan.tokens // per_step
        return job

    def run_name(self, arm: Arm, seed: int) -> str:
        """runs/ABLATION-ARM-sSEED."""
        return f"{self.plan.output}-{arm.name}-s{seed}"

    def train(self, arm: Arm, seed: int, dataset: str, start: str) -> None:
        """Train one unit, reusing a completed run and resuming an interrupted one."""
        from winnow.train.methods import PRETRAIN
        from winnow.train.runner import execute

        name = self.run_name(arm, seed)
        unit = self.record["units"].setdefault(name, {"arm": arm.name, "seed": seed})
        job = self.job(dataset, name, start, seed)
        folder = self.ws.root / "runs" / name
        done = False
        if (folder / "run.json").is_file():
            record = read_json(folder / "run.json")
            if record["config"].get("data") != dataset or record["config"].get("base") != start:
                raise WinnowError(
                    f"run '{name}' exists and is not this ablation's (other data or base); "
                    "rename it or give another --output."
                )
            done = record["status"] == "completed"
            resume = any(folder.glob("checkpoints/checkpoint-*"))
            if not done and not resume:
                shutil.rmtree(folder)
        if not done:
            started = perf_counter()
            execute(self.ws, PRETRAIN, job, None, folder.is_dir())
            unit["train_seconds"] = round(perf_counter() - started, 2)
        trained = job.max_steps * job.batch_size * job.grad_accum * job.max_length
        data = read_json(folder / "run.json").get("data", {})
        unit.update(
            run=name,
            dataset=dataset,
            start=start,
            steps=job.max_steps,
            tokens=trained,
            epochs=round(trained / max(1, data.get("train_tokens", 0)), 3),
        )
        save(self.path, self.record)

    def evaluate(self, arm: Arm, seed: int) -> None:
        """The unit's evals: the suite or tasks, and perplexity on every reference."""
        from winnow.evals.run import EvalOptions, evaluate

        name = self.run_name(arm, seed)
        unit = self.record["units"][name]
        asked = []
        if self.plan.suite or self.plan.tasks:
            options = {"suite": self.plan.suite, "tasks": self.plan.tasks, "limit": self.plan.limit}
            asked.append((f"{name}-evals", options))
        for ref in self.plan.references:
            options = {"perplexity": ref, "perplexity_all": True}
            asked.append((f"{name}-ref-{ref.replace('@', '-')}", options))
        started = perf_counter()
        for output, options in asked:
            folder = self.ws.root / "runs" / output
            if (folder / "run.json").is_file():
                if read_json(folder / "run.json")["status"] == "completed":
                    continue
                shutil.rmtree(folder)
            evaluate(self.ws, EvalOptions(model=name, output=output, **options))
        unit["evals"] = [output for output, _ in asked]
        unit.setdefault("eval_seconds", round(perf_counter() - started, 2))
        save(self.path, self.record)
