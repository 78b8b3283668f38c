"""`winnow demo`: the main job on the embedded default, on a sample shipped with Winnow."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from winnow.commands import evaluate
from winnow.commands.evaluate import print_scores
from winnow.commands.options import WorkspaceOption, new_table
from winnow.commands.train.methods import run_job
from winnow.commands.train.sampling import sample
from winnow.console import console
from winnow.train.methods import DPO, PRETRAIN, REWARD, SFT

if TYPE_CHECKING:
    from winnow.workspace import DatasetVersion, Workspace

DEMO_FOLDER = Path(__file__).resolve().parents[1] / "resources" / "demo"
DEMO_SAMPLE = DEMO_FOLDER / "web_sample.jsonl"
"""A small web-like sample written for Winnow: clean text, boilerplate, copies, Korean."""
INSTRUCT_SAMPLE = DEMO_FOLDER / "instruct_sample.json"
"""Alpaca-style rows written for Winnow: good answers, a refusal, a template leftover, an
empty answer, a degenerate one and a repeated instruction."""
PREFERENCE_SAMPLE = DEMO_FOLDER / "preference_sample.jsonl"
"""Ranked answer pairs written for Winnow, with a duplicate pair, identical answers and an
empty prompt among them."""
REFERENCE_SAMPLE = DEMO_FOLDER / "reference_sample.jsonl"
"""Short encyclopedic paragraphs written for Winnow, copied nowhere in the web sample: the
reference text of the demo's ablation."""
EVAL_TASKS = "winnow_arc_easy,winnow_halueval_qa"
"""What the demo scores each model on: a benchmark and a hallucination task."""


def invoked_as() -> str:
    """How to call winnow again: by name when it is on PATH, else by the path just used."""
    invoked = sys.argv[0]
    if shutil.which("winnow") == invoked:
        return "winnow"
    relative = os.path.relpath(invoked)
    return invoked if relative.startswith("..") else relative


def free_run(ws: Workspace, stem: str) -> str:
    """The first of STEM, STEM-2, STEM-3... with no run yet, so the demo can run again."""
    return free_name(ws.root / "runs", stem)


def free_name(folder: Path, stem: str) -> str:
    """The first of STEM, STEM-2, STEM-3... not in FOLDER."""
    name, number = stem, 1
    while (folder / name).exists():
        number += 1
        name = f"{stem}-{number}"
    return name


@dataclass(frozen=True)
class Sizes:
    """Steps, samples and eval documents of one demo mode."""

    pretrain: int = 40
    sft: int = 20
    reward: int = 20
    dpo: int = 20
    prompts: int = 10
    answers: int = 4
    eval_limit: int = 20
    ablation_tokens: int = 16_384
    quality_examples: int = 60


QUICK = Sizes(
    pretrain=8,
    sft=4,
    reward=4,
    dpo=4,
    prompts=4,
    answers=2,
    eval_limit=4,
    ablation_tokens=4_096,
    quality_examples=20,
)
"""`--quick` (or WINNOW_DEMO_QUICK=1): the same stages, shrunk for CI."""


@dataclass
class Stages:
    """Seconds per finished stage, for the closing summary."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, title: str) -> Iterator[None]:
        """Announce a stage and time it."""
        console.print(f"[bold]Winnow demo[/]: {title}")
        started = perf_counter()
        yield
        self.seconds[title] = perf_counter() - started


def same_on_ray(dataset: DatasetVersion) -> None:
    """Curate the web sample again with --executor ray in a scratch workspace, and show that
    the dataset is the same (its fingerprint)."""
    from winnow.curate.recipes import load_recipe
    from winnow.curate.runner import RunOptions, run_recipe
    from winnow.curate.sources import resolve_source
    from winnow.workspace import Workspace

    if importlib.util.find_spec("ray") is None:
        console.print("skipped: ray is not installed (pip install 'winnow-llm[scale]')")
        return
    with tempfile.TemporaryDirectory(prefix="winnow-demo-ray-") as scratch:
        options = RunOptions(executor="ray", workers=2)
        recipe, source = load_recipe("demo"), resolve_source(str(DEMO_SAMPLE))
        again = run_recipe(Workspace(Path(scratch)), recipe, source, "demo-web", options)
        ours, theirs = dataset.manifest["fingerprint"], again.manifest["fingerprint"]
        verdict = "the same dataset" if ours == theirs else "a DIFFERENT dataset"
        console.print(
            f"--executor ray: {verdict}, fingerprint {theirs} (local: {ours}); on a cluster add "
            "--address auto",
            highlight=False,
        )


def demo(
    workspace: WorkspaceOption = None,
    quick: Annotated[
        bool, typer.Option(help="Shrink steps and samples (CI; also WINNOW_DEMO_QUICK=1).")
    ] = False,
) -> None:
    """The whole loop on samples shipped with Winnow: curate web, instruction and preference
    samples; pretrain a tiny model; SFT; a reward model; rejection sampling; DPO; evaluate
    base, SFT and DPO; compare them; an ablation (no filtering against the demo recipe, two
    seeds, reference perplexity) and its verdict; an embedding quality classifier (C4 against
    Common Crawl pages from ../shared/data) and semantic dedup run over the curated web sample;
    then the command that opens the dashboard.

    Example: winnow demo -w workspace
    """
    from winnow.commands import instruct, preference
    from winnow.commands.curate import curate_with_progress
    from winnow.curate.runner import RunOptions
    from winnow.workspace import Workspace

    ws = Workspace.resolve(workspace)
    sizes = QUICK if quick or os.environ.get("WINNOW_DEMO_QUICK") == "1" else Sizes()
    command, where, stages = invoked_as(), str(ws.root), Stages()
    with stages.stage(f"curating {DEMO_SAMPLE.name} into {ws.root}"):
        dataset = curate_with_progress(ws, "demo", str(DEMO_SAMPLE), "demo-web", RunOptions())
    console.print(f"Next: {command} data head {dataset.name} --split rejected", highlight=False)
    with stages.stage("curating the same sample on a local Ray instance (2 workers)"):
        same_on_ray(dataset)
    with stages.stage(f"importing {INSTRUCT_SAMPLE.name} as an instruction set"):
        instruct.instruct(
            source=str(INSTRUCT_SAMPLE),
            output="demo-instruct",
            recipe="demo-instruct",
            workspace=where,
        )
    with stages.stage(f"importing {PREFERENCE_SAMPLE.name} as a preference set"):
        preference.preference(
            source=str(PREFERENCE_SAMPLE), output="demo-preference", workspace=where
        )
    base, tuned, judge = (free_run(ws, s) for s in ("demo-base", "demo-sft", "demo-reward"))
    sampled, aligned = free_run(ws, "demo-sample"), free_run(ws, "demo-dpo")
    with stages.stage(f"pretraining a tiny model on demo-web as {base}"):
        run_job(
            PRETRAIN,
            {"base": "tiny", "data": "demo-web", "output": base, "max_steps": sizes.pretrain},
            where,
        )
    with stages.stage(f"fine-tuning {base} on demo-instruct as {tuned}"):
        run_job(
            SFT,
            {"base": base, "data": "demo-instruct", "output": tuned, "max_steps": sizes.sft},
            where,
        )
    with stages.stage(f"training a reward model from {tuned} on demo-preference as {judge}"):
        run_job(
            REWARD,
            {"base": tuned, "data": "demo-preference", "output": judge, "max_steps": sizes.reward},
            where,
        )
    with stages.stage(
        f"sampling {sizes.answers} answers per prompt from {tuned}, scored by {judge}"
    ):
        sample(
            policy=tuned,
            reward=judge,
            prompts="demo-instruct",
            output=sampled,
            n=sizes.answers,
            max_new_tokens=32,
            max_prompts=sizes.prompts,
            workspace=where,
        )
    with stages.stage(f"DPO on {tuned} with the sampled pairs {sampled}-pairs as {aligned}"):
        run_job(
            DPO,
            {"base": tuned, "data": f"{sampled}-pairs", "output": aligned, "max_steps": sizes.dpo},
            where,
        )
    evaluated = evaluate_demo(ws, [base, tuned, aligned], sizes.eval_limit, stages)
    if len(evaluated) > 1:
        evaluate.compare(runs=evaluated, workspace=where)
    ablation_demo(ws, sizes.ablation_tokens, stages)
    model_quality_demo(ws, dataset, sizes.quality_examples, stages)
    summary(stages)
    if evaluated:
        models_table(ws, dict(zip(("base", "SFT", "DPO"), evaluated, strict=True)))
    console.print(
        f"Next: {command} dashboard -w {ws.root}   (browse, label, run jobs, compare evals)",
        highlight=False,
    )


def evaluate_demo(ws: Workspace, models: list[str], limit: int, stages: Stages) -> list[str]:
    """Score each model on ARC-Easy and HaluEval QA when the shared eval data is there; the
    eval run names."""
    from winnow.evals.catalog import load_catalog
    from winnow.evals.run import EvalOptions
    from winnow.evals.run import evaluate as run_eval

    root = load_catalog().data_root
    if not (root / "evals").is_dir():
        console.print(f"Skipping the eval step: no eval data under {root} ($WINNOW_DATA_ROOT).")
        return []
    names = []
    for model in models:
        name = free_run(ws, f"eval-{model}")
        with stages.stage(f"evaluating {model} on {limit} ARC-Easy and HaluEval QA items"):
            run = run_eval(ws, EvalOptions(model=model, tasks=EVAL_TASKS, limit=limit, output=name))
        print_scores(run.record)
        names.append(name)
    return names


def ablation_demo(ws: Workspace, tokens: int, stages: Stages) -> None:
    """No filtering against the demo recipe: two seeds of token-matched tiny models each,
    perplexity on the reference sample; print the verdict."""
    from winnow.ablate.plan import AblationPlan
    from winnow.ablate.runner import Ablation
    from winnow.curate.recipes import load_recipe
    from winnow.curate.runner import RunOptions, run_recipe
    from winnow.curate.sources import resolve_source

    name = free_name(ws.root / "ablations", "demo-ablation")
    title = f"ablation {name}: unfiltered against demo, {tokens:,} tokens a model, 2 seeds"
    with stages.stage(title):
        source = resolve_source(str(REFERENCE_SAMPLE))
        reference = run_recipe(
            ws, load_recipe("unfiltered"), source, "demo-reference", RunOptions()
        )
        plan = AblationPlan(
            output=name,
            source=str(DEMO_SAMPLE),
            recipes=["unfiltered", "demo"],
            tokens=tokens,
            seeds=2,
            references=[reference.ref],
            sets=["batch_size=4", "max_length=128", "save_steps=1000"],
        )
        ablation = Ablation(ws, plan)
        record = ablation.run()
    console.print(f"[bold]Verdict[/] of {name} ({ablation.path / 'report.md'}):")
    for line in record["verdict"]:
        console.print(f"- {escape(line)}", highlight=False)


def model_quality_demo(
    ws: Workspace, dataset: DatasetVersion, per_class: int, stages: Stages
) -> None:
    """Train an embedding quality classifier on the shared web data (C4 kept, raw Common
    Crawl removed), filter demo-web with it and with semantic dedup, and compare kept sets."""
    from winnow.commands.curate import curate_with_progress
    from winnow.curate.embed_model import EmbedConfig, from_sources, train_embed_model
    from winnow.curate.runner import RunOptions
    from winnow.curate.sources import resolve_source
    from winnow.evals.catalog import load_catalog

    web = load_catalog().data_root / "web"
    kept, raw = web / "c4_demo.jsonl", web / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
    if not (kept.is_file() and raw.is_file()):
        console.print(f"Skipping model-based quality: no C4 and Common Crawl files under {web}.")
        return
    folder = ws.root / "models" / free_name(ws.root / "models", "demo-quality-embed")
    title = f"an embedding quality classifier, {per_class} C4 against {per_class} Common Crawl"
    with stages.stage(f"{title} pages, as {folder.name}"):
        labels = from_sources([resolve_source(str(kept))], [resolve_source(str(raw))])
        trained = train_embed_model(labels, folder, EmbedConfig(max_per_class=per_class))
    card, scores = trained.card, trained.card["metrics"]
    console.print(
        f"{folder}: held-out precision {scores['precision']:.2f}, recall "
        f"{scores['recall']:.2f} at threshold {card['threshold']:g} "
        f"({trained.held_out.height} held-out documents: a demo-sized measure)",
        highlight=False,
    )
    recipe = ws.root / "recipes" / f"{folder.name}.yaml"
    recipe.parent.mkdir(parents=True, exist_ok=True)
    recipe.write_text(
        f"# written by winnow demo: {folder.name} and meaning-level dedup over {dataset.ref}\n"
        "steps:\n"
        f"  - {{step: embed_classifier, model: '{folder}'}}\n"
        "  - {step: semantic_dedup, threshold: 0.9}\n",
        encoding="utf-8",
    )
    with stages.stage(f"filtering {dataset.ref} with {folder.name} and semantic_dedup"):
        made = curate_with_progress(ws, str(recipe), dataset.ref, "demo-web-model", RunOptions())
    counts = made.manifest["counts"]
    console.print(
        f"{dataset.ref} kept {dataset.manifest['counts']['kept']} documents with heuristics and "
        f"MinHash; of them {made.ref} keeps {counts['kept']} and removes {counts['rejected']} "
        f"(reasons: {made.ref} --split rejected)",
        highlight=False,
    )


def models_table(ws: Workspace, runs: dict[str, str]) -> None:
    """The final table: one row per model, its accuracy ± stderr on each task."""
    import polars as pl

    frames = {
        stage: pl.read_parquet(ws.root / "runs" / run / "scores.parquet")
        for stage, run in runs.items()
    }
    tasks = sorted(
        set().union(*(f.filter(pl.col("metric") == "acc")["alias"] for f in frames.values()))
    )
    limits = {v for f in frames.values() for v in f["limit"].drop_nulls().to_list()}
    subset = f"; a subset: --limit {', '.join(f'{v:g}' for v in sorted(limits))}" if limits else ""
    table = new_table(
        f"base, SFT and DPO (acc ± stderr{subset})",
        "model",
        "eval run",
        *tasks,
    )
    for stage, frame in frames.items():
        acc = {r["alias"]: r for r in frame.filter(pl.col("metric") == "acc").iter_rows(named=True)}
        cells = [
            f"{acc[t]['value']:.3f} ± {acc[t]['stderr']:.3f}" if t in acc else "" for t in tasks
        ]
        table.add_row(stage, runs[stage], *cells)
    console.print(table)


def summary(stages: Stages) -> None:
    """Seconds per stage and in all."""
    table = new_table("demo stages", "stage", "seconds")
    for title, seconds in stages.seconds.items():
        table.add_row(title, f"{seconds:.1f}")
    table.add_row("[bold]total[/]", f"[bold]{sum(stages.seconds.values()):.1f}[/]")
    console.print(table)
