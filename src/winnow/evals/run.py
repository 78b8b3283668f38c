"""`winnow evaluate`: lm-eval's Python API on rendered local tasks, written into an eval run
with lm-eval's own results and samples, a flat score table and the comparability record."""

from __future__ import annotations

import importlib.util
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from winnow.devices import device_info
from winnow.errors import WinnowError
from winnow.evals.catalog import Catalog, check_tasks, load_catalog, render_tasks, suite_tasks
from winnow.evals.contamination import contamination, flagged_tasks
from winnow.evals.gguf_folder import loadable
from winnow.evals.heldout import heldout_values
from winnow.evals.model import model_args, model_record, resolve_model
from winnow.evals.scores import config_hash, data_files, score_rows
from winnow.manifest import package_versions
from winnow.records import file_hash
from winnow.train.data import load_training_set
from winnow.train.runs import TRAIN_PACKAGES, RunFolder, now, open_run
from winnow.workspace import Workspace, check_name

BACKENDS = ("winnow", "hf", "vllm")
"""--backend values, each lm-eval's registered model name (`winnow`: evals/shared_context.py)."""

PERPLEXITY_TASK = "winnow_heldout_ppl"
"""The task --perplexity adds."""


@dataclass
class EvalOptions:
    """What `winnow evaluate` was asked to run, and how."""

    model: str
    suite: str | None = None
    tasks: str | None = None
    limit: float | None = None
    num_fewshot: int | None = None
    apply_chat_template: bool = False
    batch_size: str = "8"
    backend: str = "winnow"
    include_paths: list[str] = field(default_factory=list)
    perplexity: str | None = None
    perplexity_all: bool = False
    output: str | None = None

    def batch(self) -> int | str:
        """lm-eval's batch_size: a number, `auto` or `auto:N`."""
        if self.batch_size.isdigit() and int(self.batch_size) > 0:
            return int(self.batch_size)
        if self.batch_size == "auto" or self.batch_size.startswith("auto:"):
            return self.batch_size
        raise WinnowError(f"--batch-size {self.batch_size}: use a whole number, auto or auto:N.")

    def lm_model(self, device: dict[str, Any]) -> str:
        """lm-eval's model name for --backend, checked against the device and packages."""
        if self.backend not in BACKENDS:
            raise WinnowError(
                f"--backend {self.backend}: use one of {', '.join(BACKENDS)}; see --help."
            )
        if self.backend == "vllm":
            if device["type"] != "cuda":
                raise WinnowError("--backend vllm needs a CUDA GPU; use winnow or hf here.")
            if importlib.util.find_spec("vllm") is None:
                raise WinnowError("--backend vllm: vLLM is not installed; pip install vllm.")
        return self.backend

    def lm_limit(self) -> int | float | None:
        """lm-eval's limit: documents per task (1 or more) or a fraction (under 1)."""
        if self.limit is None:
            return None
        if self.limit <= 0:
            raise WinnowError(
                f"--limit {self.limit}: use a number of documents or a fraction in (0, 1)."
            )
        return int(self.limit) if self.limit >= 1 else self.limit


@dataclass(frozen=True)
class EvalContext:
    """What one eval run is made from once its folder exists, handed to `finish` as one."""

    ws: Workspace
    run: RunFolder
    catalog: Catalog
    opts: EvalOptions
    base: Any
    names: list[str]
    values: dict[str, str]
    user_paths: list[str]
    model: dict[str, Any]
    device: dict[str, Any]

    @property
    def dtype(self) -> str:
        """The weights' dtype: bf16 where the device supports it, float32 where not."""
        return "bfloat16" if self.device["bf16"] else "float32"


def default_name(ws: Workspace, opts: EvalOptions) -> str:
    """eval-MODEL-SUITE, with -2, -3... when taken."""
    model = (
        Path(opts.model).stem if "/" in opts.model or opts.model.endswith(".gguf") else opts.model
    )
    what = opts.suite or "tasks"
    stem = "".join(c if c.isalnum() or c in "-_." else "-" for c in f"eval-{model}-{what}")
    name, count = stem, 1
    while (ws.root / "runs" / name).exists():
        count += 1
        name = f"{stem}-{count}"
    return name


def include_paths(paths: list[str]) -> list[str]:
    """User task folders, checked to exist."""
    for path in paths:
        if not Path(path).is_dir():
            raise WinnowError(
                f"--include-path {path}: no such folder; give a folder of lm-eval task YAMLs."
            )
    return [str(Path(p).resolve()) for p in paths]


def check_model_path(model: str) -> None:
    """A --model written as a path (./, ../, /, ~) that is not there: one sentence, before
    it could be taken for a hub id (a missing .gguf file is named by `resolve_model`)."""
    path = Path(model).expanduser()
    if model.startswith((".", "/", "~")) and path.suffix != ".gguf" and not path.exists():
        raise WinnowError(
            f"--model {model}: no such file or folder; give a saved model folder, a .gguf "
            "file, a run name or a hub id (org/name)."
        )


def check_new_run(ws: Workspace, name: str) -> None:
    """The eval run's name is allowed and not taken (as `open_run` will check, but before the
    model and tasks are loaded)."""
    check_name(name)
    if (ws.root / "runs" / name).exists():
        raise WinnowError(
            f"run '{name}' already exists in {ws.root / 'runs'}; pick another --output."
        )


def check_perplexity(ws: Workspace, ref: str) -> None:
    """--perplexity names a dataset of this workspace."""
    try:
        ws.dataset(ref)
    except WinnowError as exc:
        raise WinnowError(f"--perplexity {ref}: {exc}") from None


def missing_data(catalog: Catalog, missing: list[str]) -> WinnowError:
    """The sentence for task YAMLs whose data files are not there."""
    return WinnowError(
        f"eval data file missing ({missing[0]}); set $WINNOW_DATA_ROOT to the folder holding "
        f"evals/ (now {catalog.data_root}) or fetch the data."
    )


def check_task_names(catalog: Catalog, names: list[str], user_paths: list[str]) -> None:
    """Render the catalog into a scratch folder and check that its data files exist and that
    lm-eval knows every task name; lm-eval's own index (seconds to build) only when a name is
    not local."""
    from lm_eval.tasks import TaskManager

    with tempfile.TemporaryDirectory(prefix="winnow-tasks-") as folder:
        missing = render_tasks(catalog, {"data_root": str(catalog.data_root)}, Path(folder))
        if missing:
            raise missing_data(catalog, missing)
        local = TaskManager(include_path=[folder, *user_paths], include_defaults=False)
        if all(n in set(local.all_tasks) for n in names):
            return
        manager = task_manager([folder, *user_paths], names)
        check_tasks(names, set(manager.all_tasks), catalog)


def task_manager(include: list[str], names: list[str]) -> Any:
    """lm-eval's TaskManager over the rendered tasks (and its own when a name is not local)."""
    from lm_eval.tasks import TaskManager

    local = TaskManager(include_path=include, include_defaults=False)
    if all(n in set(local.all_tasks) for n in names):
        return local
    return TaskManager(include_path=include, include_defaults=True)


def task_records(results: dict[str, Any], task_hashes: dict[str, str]) -> dict[str, Any]:
    """Per task: version, config hash, lm-eval's task hash, few-shot count, samples, and the
    hash of every data file it read."""
    found = {}
    for task, config in results.get("configs", {}).items():
        found[task] = {
            "version": results["versions"].get(task),
            "config_hash": config_hash(config),
            "task_hash": task_hashes.get(task),
            "num_fewshot": results["n-shot"].get(task),
            "samples": results["n-samples"].get(task),
            "data_files": {p.name: file_hash(p) for p in data_files(config)},
        }
    return found


def write_samples(folder: Path, samples: dict[str, list[dict[str, Any]]]) -> None:
    """Per task, one JSON line per document and filter: ids, hashes, target, the filter,
    responses and metric values."""
    from lm_eval.utils import handle_non_serializable

    folder.mkdir(parents=True, exist_ok=True)
    for task, rows in samples.items():
        with (folder / f"{task}.jsonl").open("w", encoding="utf-8") as handle:
            for row in rows:
                keep = {
                    k: row[k]
                    for k in ("doc_id", "doc_hash", "prompt_hash", "target_hash", "target")
                }
                keep["filter"] = row.get("filter")
                keep["metrics"] = {m: row.get(m) for m in row.get("metrics", [])}
                keep["filtered_resps"] = row.get("filtered_resps")
                handle.write(json.dumps(keep, default=handle_non_serializable) + "\n")


def settings(opts: EvalOptions, results: dict[str, Any], dtype: str) -> dict[str, Any]:
    """The run's settings that make scores comparable."""
    config = results.get("config", {})
    return {
        "limit": opts.lm_limit(),
        "num_fewshot": opts.num_fewshot,
        "apply_chat_template": opts.apply_chat_template,
        "batch_size": opts.batch_size,
        "backend": opts.backend,
        "batch_sizes": config.get("batch_sizes"),
        "dtype": dtype,
        "seeds": {
            k: config.get(k) for k in ("random_seed", "numpy_seed", "torch_seed", "fewshot_seed")
        },
        "bootstrap_iters": config.get("bootstrap_iters"),
    }


def evaluate(ws: Workspace, opts: EvalOptions) -> RunFolder:
    """Check everything that can be checked first (options, model, run name, tasks, eval data,
    --perplexity set), so that a mistake leaves no failed run folder; then render the catalog,
    run lm-eval, and write the eval run."""
    catalog = load_catalog()
    names = (
        suite_tasks(catalog, opts.suite, opts.tasks)
        if opts.suite or opts.tasks or not opts.perplexity
        else []
    )
    check_model_path(opts.model)
    user_paths = include_paths(opts.include_paths)
    opts.batch(), opts.lm_limit()
    device = device_info()
    opts.lm_model(device)
    name = opts.output or default_name(ws, opts)
    check_new_run(ws, name)
    if opts.perplexity:
        check_perplexity(ws, opts.perplexity)
    base = resolve_model(opts.model, ws)
    if opts.backend == "vllm" and base.gguf_file:
        raise WinnowError(
            f"--backend vllm: {opts.model} is a GGUF file; give vLLM a model folder or hub id."
        )
    check_task_names(catalog, names, user_paths)
    if opts.perplexity:
        load_training_set(ws, opts.perplexity, "text")
    model = model_record(base)
    spec = {
        "config": opts.__dict__.copy(),
        "model": model,
        "device": device,
        "tasks_requested": names,
    }
    run, _ = open_run(ws, name, "evaluate", spec, False)
    try:
        values = {"data_root": str(catalog.data_root)}
        if opts.perplexity:
            values |= heldout_values(ws, opts.perplexity, base, run.path, opts.perplexity_all)
            names = [*names, PERPLEXITY_TASK]
        ctx = EvalContext(
            ws=ws,
            run=run,
            catalog=catalog,
            opts=opts,
            base=base,
            names=names,
            values=values,
            user_paths=user_paths,
            model=model,
            device=device,
        )
        finish(ctx)
    except BaseException as exc:
        run.fail(exc)
        raise
    return run


def finish(ctx: EvalContext) -> None:
    """Everything after the run folder exists: render, check, evaluate, write."""
    import datasets
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    include = ctx.run.path / "tasks"
    missing = render_tasks(ctx.catalog, ctx.values, include)
    if missing:
        raise missing_data(ctx.catalog, missing)
    manager = task_manager([str(include), *ctx.user_paths], ctx.names)
    check_tasks(ctx.names, set(manager.all_tasks), ctx.catalog)
    datasets.disable_progress_bars()
    import winnow.evals.shared_context  # noqa: F401  (registers the winnow model with lm-eval)

    tracker = EvaluationTracker(output_path=str(ctx.run.path / "lm_eval"))
    loaded = loadable(ctx.base, ctx.model["fingerprint"])
    results = simple_evaluate(
        model=ctx.opts.lm_model(ctx.device),
        model_args=model_args(loaded, ctx.dtype),
        tasks=ctx.names,
        task_manager=manager,
        num_fewshot=ctx.opts.num_fewshot,
        limit=ctx.opts.lm_limit(),
        batch_size=ctx.opts.batch(),
        device="cuda" if ctx.device["type"] == "cuda" else "cpu",
        apply_chat_template=ctx.opts.apply_chat_template,
        log_samples=True,
        evaluation_tracker=tracker,
    )
    samples = results.pop("samples")
    write_samples(ctx.run.path / "samples", samples)
    tracker.save_results_aggregated(results=results, samples=samples)
    for task in results["configs"]:
        tracker.save_results_samples(task_name=task, samples=samples[task])
    sets = {t: s for t in results["configs"] if (s := ctx.catalog.eval_set(t))}
    report = contamination(ctx.ws, ctx.base.run, sets)
    flagged = flagged_tasks(report, sets)
    from lm_eval.utils import handle_non_serializable

    (ctx.run.path / "results.json").write_text(
        json.dumps(results, indent=2, default=handle_non_serializable), encoding="utf-8"
    )
    scores = score_rows(results, ctx.run.path.name, ctx.model, flagged, ctx.opts.lm_limit())
    scores.write_parquet(ctx.run.path / "scores.parquet")
    ctx.run.update(
        status="completed",
        finished_at=now(),
        model={**ctx.model, "loaded_from": loaded.path},
        versions=package_versions((*TRAIN_PACKAGES, "lm_eval")),
        settings=settings(ctx.opts, results, ctx.dtype),
        tasks=task_records(results, results.get("task_hashes", {})),
        contamination={**report, "flagged_tasks": sorted(flagged)},
        results=[r for r in scores.to_dicts()],
    )
