"""`winnow ablate` on real web text: two recipes (no filtering, web-en) curated from C4
documents, two seeds, token-matched tiny models, ARC-Easy and perplexity on Wikipedia
articles none of the candidates contains; every number traced to the run behind it; a
second call reuses everything and a killed one continues."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl
import pytest
from safetensors.torch import load_file

from tests.cli_helpers import run_cli
from winnow.ablate.plan import AblationPlan
from winnow.ablate.runner import Ablation
from winnow.curate.recipes import load_recipe
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.errors import WinnowError
from winnow.files import read_json
from winnow.workspace import Workspace

SETS = [
    "batch_size=4",
    "max_length=64",
    "tiny_params=150000",
    "tiny_vocab=512",
    "save_steps=4",
    "logging_steps=2",
]
"""A model and steps small enough for a test: 256 tokens a step."""


@dataclass
class Done:
    """The finished test ablation."""

    ws: Workspace
    plan: AblationPlan
    path: Path
    record: dict


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Done:
    """C4 under `unfiltered` and `web-en`, 2,048 tokens, two seeds, Wikipedia as reference."""
    ws = Workspace.resolve(tmp_path_factory.mktemp("ablate") / "ws")
    wiki = resolve_source(str(shared_data / "web" / "wiki_demo.txt"))
    run_recipe(ws, load_recipe("unfiltered"), wiki, "wiki", RunOptions())
    plan = AblationPlan(
        output="abl",
        source=str(shared_data / "web" / "c4_demo.jsonl"),
        recipes=["unfiltered", "web-en"],
        tokens=2048,
        seeds=2,
        tasks="winnow_arc_easy",
        limit=4,
        references=["wiki"],
        sets=SETS,
    )
    ablation = Ablation(ws, plan)
    record = ablation.run()
    return Done(ws, plan, ablation.path, record)


def run_record(done: Done, name: str) -> dict:
    """runs/NAME/run.json."""
    return read_json(done.ws.root / "runs" / name / "run.json")


def test_every_run_is_token_matched_and_each_seed_starts_alike(done: Done) -> None:
    """Eight steps of 256 tokens for every run; runs of one seed start from the same weights
    and tokenizer whatever the recipe, and the two seeds from different weights."""
    units = done.record["units"]
    assert sorted(units) == [f"abl-{a}-s{s}" for a in ("unfiltered", "web-en") for s in (0, 1)]
    for name, unit in units.items():
        record = run_record(done, name)
        assert record["status"] == "completed" and record["config"]["max_steps"] == 8
        assert unit["tokens"] == 2048 and record["config"]["seed"] == unit["seed"]
        assert record["inputs"][0]["ref"] == done.record["datasets"][unit["arm"]]["dataset"]
        assert record["base"]["path"] == unit["start"]
    starts = {u["seed"]: u["start"] for u in units.values()}
    assert all(u["start"] == starts[u["seed"]] for u in units.values())
    first, second = (load_file(Path(starts[s]) / "model.safetensors") for s in (0, 1))
    assert any(not (first[k] == second[k]).all() for k in first)
    tokenizers = {
        (done.ws.root / "runs" / n / "model" / "tokenizer.json").read_bytes() for n in units
    }
    assert len(tokenizers) == 1


def test_the_tables_trace_back_to_the_eval_runs(done: Done) -> None:
    """Each score row is its eval run's number; the summary is the mean over seeds; the
    verdict has a line per metric; the datasets are the manifests' versions."""
    scores = pl.read_parquet(done.path / "scores.parquet")
    for row in scores.iter_rows(named=True):
        own = pl.read_parquet(done.ws.root / "runs" / row["eval_run"] / "scores.parquet")
        match = own.filter(
            (pl.col("task") == row["task"])
            & (pl.col("metric") == row["metric"])
            & (pl.col("filter") == row["filter"])
        )
        assert match["value"].to_list() == [row["value"]]
    metrics = set(scores.select("task", "metric").unique().iter_rows())
    assert ("winnow_heldout_ppl", "bits_per_byte") in metrics
    assert ("winnow_arc_easy", "acc") in metrics
    table = pl.read_parquet(done.path / "summary.parquet")
    for row in table.iter_rows(named=True):
        values = scores.filter(
            (pl.col("arm") == row["arm"])
            & (pl.col("task") == row["task"])
            & (pl.col("metric") == row["metric"])
            & (pl.col("filter") == row["filter"])
        )["value"]
        assert row["seeds"] == 2 and row["mean"] == pytest.approx(values.mean())
    paired = pl.read_parquet(done.path / "differences.parquet")
    assert set(paired["arm"]) == {"web-en"} and set(paired["against"]) == {"unfiltered"}
    assert len(done.record["verdict"]) >= paired.height
    report = (done.path / "report.md").read_text()
    assert "web-en minus unfiltered" in report and "bits_per_byte" in report
    for arm, entry in done.record["datasets"].items():
        manifest = done.ws.dataset(entry["dataset"]).manifest
        assert entry["fingerprint"] == manifest["fingerprint"]
        assert entry["recipe_hash"] == load_recipe(arm).hash
    assert done.record["reference_overlap"]["documents"] == {"wiki": {"unfiltered": 0, "web-en": 0}}
    stages = done.record["stages"]
    assert set(stages) >= {"datasets", "training and evaluating", "tables"}
    units = done.record["units"].values()
    assert stages["train (all runs)"] == pytest.approx(
        sum(u["train_seconds"] for u in units), abs=0.01
    )


def test_a_second_call_reuses_every_dataset_run_and_eval(
    done: Done, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same command again curates, trains and evaluates nothing, and prints the verdict."""
    import winnow.evals.run
    import winnow.train.runner

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("ran again")

    monkeypatch.setattr(winnow.train.runner, "execute", refuse)
    monkeypatch.setattr(winnow.evals.run, "evaluate", refuse)
    monkeypatch.setattr("winnow.curate.runner.run_recipe", refuse)
    plan = done.plan
    args = ["ablate", "--output", "abl", "--source", str(plan.source), "--tokens", "2048"]
    args += ["--recipe", "unfiltered", "--recipe", "web-en", "--seeds", "2"]
    args += ["--tasks", "winnow_arc_easy", "--limit", "4", "--reference", "wiki"]
    args += [item for s in SETS for item in ("--set", s)]
    code, out = run_cli(capsys, *args, "-w", str(done.ws.root))
    assert code == 0, out
    assert "Verdict" in out and "web-en minus unfiltered" in out
    record = read_json(done.path / "ablation.json")
    assert all(entry["reused"] for entry in record["datasets"].values())


def test_the_ablations_page_shows_verdict_seeds_losses_and_links(
    done: Done, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page for ?ablation=abl: the verdict lines, both recipes with their datasets, runs
    and evals as links, a chart of every seed's value, the differences and the loss curves."""
    from tests.dashboard.helpers import open_page, texts

    app = open_page(monkeypatch, done.ws.root, "ablations", ablation="abl")
    assert not app.exception, app.exception
    shown = texts(app)
    assert all(line in shown for line in done.record["verdict"])
    links = {link.proto.label for link in app.get("page_link")}
    assert {entry["dataset"] for entry in done.record["datasets"].values()} <= links
    assert {f"run {name}" for name in done.record["units"]} <= links
    assert "eval abl-web-en-s1-ref-wiki" in links
    labels = app.selectbox(key="ablation-metric").options
    app.selectbox(key="ablation-metric").set_value("winnow_heldout_ppl bits_per_byte").run()
    assert "winnow_heldout_ppl bits_per_byte" in labels and not app.exception
    paired = app.dataframe[0].value
    assert list(paired["metric"]) == ["bits_per_byte"] and list(paired["arm"]) == ["web-en"]
    assert len(app.get("vega_lite_chart")) == 2


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"recipes": ["unfiltered"]}, "needs two or more candidates"),
        ({"tokens": 100}, "less than one step of 256 tokens"),
        ({"sets": [*SETS, "max_steps=3"]}, "sets the steps from --tokens"),
        ({"output": "abl", "tokens": 4096}, "exists with another plan (it differs in tokens)"),
        ({"model": "/nowhere"}, "not tiny nor a model folder"),
        ({"tasks": None, "references": []}, "nothing to measure"),
        ({"references": ["abl-unfiltered"]}, "share a 13-word sequence"),
    ],
)
def test_bad_plans_are_one_line(done: Done, change: dict, expected: str) -> None:
    """Each mistake stops before any training, in one sentence that says what to do."""
    runs = sorted(p.name for p in (done.ws.root / "runs").iterdir())
    with pytest.raises(WinnowError) as caught:
        Ablation(done.ws, replace(done.plan, **{"output": "bad", **change})).run()
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    assert sorted(p.name for p in (done.ws.root / "runs").iterdir()) == runs
    shutil.rmtree(done.ws.root / "ablations" / "bad", ignore_errors=True)


def test_a_killed_ablation_continues_where_it_stopped(
    done: Done, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one unit's run and evals gone (killed before they finished), a new call trains
    and evaluates that unit only, and the tables come out the same size."""
    import winnow.evals.run
    import winnow.train.runner

    lost = "abl-web-en-s1"
    before = pl.read_parquet(done.path / "scores.parquet").height
    for folder in (done.ws.root / "runs").glob(f"{lost}*"):
        shutil.rmtree(folder)
    trained, evaluated = [], []
    execute, evaluate = winnow.train.runner.execute, winnow.evals.run.evaluate

    def counted_execute(ws: Workspace, method: object, job: object, *rest: object) -> object:
        trained.append(job.output)
        return execute(ws, method, job, *rest)

    def counted_evaluate(ws: Workspace, opts: object) -> object:
        evaluated.append(opts.output)
        return evaluate(ws, opts)

    monkeypatch.setattr(winnow.train.runner, "execute", counted_execute)
    monkeypatch.setattr(winnow.evals.run, "evaluate", counted_evaluate)
    record = Ablation(done.ws, done.plan).run()
    assert trained == [lost] and evaluated == [f"{lost}-evals", f"{lost}-ref-wiki"]
    assert record["status"] == "completed"
    assert pl.read_parquet(done.path / "scores.parquet").height == before


def test_a_model_folder_gives_its_architecture_fresh_per_seed(done: Done, tmp_path: Path) -> None:
    """A folder with only config.json and a tokenizer: each seed gets its own fresh weights,
    the same seed the same weights; a folder with weights is every seed's start."""
    from transformers import LlamaConfig

    from winnow.ablate.init import initial_model

    arch = tmp_path / "arch"
    shutil.copytree(done.path / "tokenizer", arch)
    LlamaConfig(
        vocab_size=600, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2,
    ).save_pretrained(arch)  # fmt: skip
    made = {
        (seed, where): initial_model(str(arch), tmp_path / where, None, seed, 0, 64)
        for seed in (0, 1)
        for where in ("a", "b")
    }
    weights = {key: load_file(path / "model.safetensors") for key, path in made.items()}
    same = weights[(0, "a")], weights[(0, "b")]
    assert all((same[0][k] == same[1][k]).all() for k in same[0])
    other = weights[(1, "a")]
    assert any(not (same[0][k] == other[k]).all() for k in other)
    folder = done.ws.root / "runs" / "abl-unfiltered-s0" / "model"
    assert initial_model(str(folder), tmp_path / "c", None, 3, 0, 64) == folder.resolve()
