"""`winnow evaluate` on the lab's tiny model: results schema and comparability record, MC2 and
HaluEval scoring, compare, contamination, and every bad input."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import math
import re
import shutil
from pathlib import Path
from types import ModuleType

import datasets
import polars as pl
import pytest

from tests.cli_helpers import run_cli
from tests.train.conftest import Lab
from winnow.curate.recipes import load_recipe
from winnow.curate.runner import RunOptions
from winnow.evals.catalog import load_catalog, render_tasks
from winnow.evals.contamination import contamination
from winnow.evals.run import EvalOptions, evaluate
from winnow.files import read_json, write_json
from winnow.instruct.build import import_files
from winnow.instruct.run import curate_instruct


def task_utils() -> ModuleType:
    """The catalog's utils.py, which lm-eval imports from the rendered task folder."""
    path = load_catalog().tasks_dir / "utils.py"
    spec = importlib.util.spec_from_file_location("catalog_utils", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_eval_run_holds_results_samples_and_comparability_record(scored: Lab) -> None:
    """run.json records model fingerprint and lineage, settings, task versions and hashes,
    data file hashes and versions; scores.parquet and eval_scores hold one row per metric."""
    run = scored.root / "runs" / "ev-a"
    record = read_json(run / "run.json")
    assert record["status"] == "completed" and record["method"] == "evaluate"
    assert record["model"]["kind"] == "run" and record["model"]["run"]["name"] == scored.base
    assert record["model"]["fingerprint"] and record["model"]["chat_template_hash"]
    assert record["settings"]["limit"] == 8 and record["settings"]["dtype"] == "float32"
    assert record["versions"]["lm_eval"] and record["device"]["type"] in {"cpu", "cuda"}
    arc = record["tasks"]["winnow_arc_easy"]
    assert arc["version"] == 1.0 and arc["num_fewshot"] == 0 and len(arc["task_hash"]) == 64
    assert arc["samples"] == {"original": 2376, "effective": 8}
    assert list(arc["data_files"]) == ["arc_easy.jsonl"]
    samples = (run / "samples" / "winnow_arc_easy.jsonl").read_text().splitlines()
    assert len(samples) == 8 and json.loads(samples[0])["metrics"]["acc"] in (0.0, 1.0)
    assert list((run / "lm_eval").glob("*/results_*.json"))
    scores = pl.read_parquet(run / "scores.parquet")
    acc = scores.filter((pl.col("task") == "winnow_arc_easy") & (pl.col("metric") == "acc"))
    assert acc["samples"][0] == 8 and 0 <= acc["value"][0] <= 1 and acc["stderr"][0] > 0
    with scored.ws.connect() as con:
        runs = con.sql("select distinct run from eval_scores order by run").fetchall()
    assert [r[0] for r in runs] == ["ev-a", "ev-b"]


def test_mc2_is_the_normalized_mass_on_true_answers() -> None:
    """Three answers, two true: MC2 = (p1 + p2) / (p1 + p2 + p3)."""
    utils = task_utils()
    lls = [math.log(0.2), math.log(0.3), math.log(0.1)]
    got = utils.process_results_mc2({"mc2_labels": [1, 1, 0]}, [(x, False) for x in lls])
    assert got["acc"] == pytest.approx(0.5 / 0.6)


def closed_answers(field: str) -> list[str]:
    """A TruthfulQA answer field as TruthfulQA's own code reads it: `;`-separated, blanks
    dropped, each stripped and ending with a full stop."""
    pieces = [p.strip() for p in field.split(";") if p.strip()]
    return [p if p.endswith(".") else p + "." for p in pieces]


def test_truthfulqa_tasks_render_and_score_every_row_of_the_csv(
    shared_data: Path, tmp_path: Path
) -> None:
    """Both TruthfulQA tasks, as lm-eval loads them from the rendered catalog, hold one item
    per CSV row in order: the question in the fixed 6-shot prompt, MC1 the best answer (gold,
    first) against the incorrect ones, MC2 every correct answer (label 1, first) and every
    incorrect one (label 0); and each item scores as the metric says on made-up likelihoods."""
    from lm_eval.tasks import TaskManager, get_task_dict

    catalog = load_catalog()
    assert not render_tasks(catalog, {"data_root": str(catalog.data_root)}, tmp_path)
    manager = TaskManager(include_path=[str(tmp_path)], include_defaults=False)
    names = ["winnow_truthfulqa_mc1", "winnow_truthfulqa_mc2"]
    tasks = get_task_dict(names, manager)
    with (shared_data / "evals" / "truthfulqa" / "TruthfulQA.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 790
    docs = {name: list(tasks[name].test_docs()) for name in names}
    assert len(docs["winnow_truthfulqa_mc1"]) == len(docs["winnow_truthfulqa_mc2"]) == 790
    mc1, mc2 = tasks["winnow_truthfulqa_mc1"], tasks["winnow_truthfulqa_mc2"]
    shots = mc1.doc_to_text(docs["winnow_truthfulqa_mc1"][0]).rsplit("\n\nQ: ", 1)[0]
    assert shots.startswith("Q: What is human life expectancy in the United States?\nA: ")
    assert shots.count("\nA: ") == 6
    overlap = 0
    for index, (row, one, many) in enumerate(
        zip(rows, docs["winnow_truthfulqa_mc1"], docs["winnow_truthfulqa_mc2"], strict=True)
    ):
        best = closed_answers(row["Best Answer"])[0]
        correct = {best, *closed_answers(row["Correct Answers"])}
        incorrect = set(closed_answers(row["Incorrect Answers"]))
        incorrect |= set(closed_answers(row["Best Incorrect Answer"]))
        overlap += bool(incorrect & correct)
        incorrect -= correct
        assert correct and incorrect, index
        for task, doc in ((mc1, one), (mc2, many)):
            prompt = f"{shots}\n\nQ: {row['Question'].strip()}\nA:"
            assert task.doc_to_text(doc) == prompt, index
            choices = task.doc_to_choice(doc)
            requests = task.construct_requests(doc, prompt, metadata=("truthfulqa", index, 1))
            assert [r.arguments for r in requests] == [(prompt, f" {c}") for c in choices]
        # MC1: the best answer first (the gold index 0), then every incorrect answer once
        choices = mc1.doc_to_choice(one)
        assert mc1.doc_to_target(one) == 0 and choices[0] == best, index
        assert sorted(choices[1:]) == sorted(incorrect), index
        likelihoods = [-float(i) for i in range(len(choices))]
        assert mc1.process_results(one, [(x, False) for x in likelihoods])["acc"] == 1.0
        assert mc1.process_results(one, [(-x, False) for x in likelihoods])["acc"] == 0.0
        # MC2: the correct answers (label 1) before the incorrect ones (label 0), each once
        choices, labels = mc2.doc_to_choice(many), many["mc2_labels"]
        assert len(choices) == len(labels) == len(set(choices)), index
        assert labels == sorted(labels, reverse=True), index
        assert {c for c, label in zip(choices, labels, strict=True) if label} == correct, index
        assert {c for c, label in zip(choices, labels, strict=True) if not label} == incorrect
        likelihoods = [-0.3 * len(c) for c in choices]
        mass = [math.exp(x) for x in likelihoods]
        true_mass = sum(m for m, label in zip(mass, labels, strict=True) if label)
        got = mc2.process_results(many, [(x, False) for x in likelihoods])["acc"]
        assert got == pytest.approx(true_mass / sum(mass)), index
    assert overlap == 2, "the CSV lists an answer as both correct and incorrect in 2 rows"


def test_halueval_picks_answers_with_a_fixed_seed(shared_data: Path) -> None:
    """The right or hallucinated answer is chosen per row by a fixed hash: the same on every
    call, about half hallucinated, and the label says which was shown, in both variants."""
    utils = task_utils()
    rows = pl.read_ndjson(shared_data / "evals" / "halueval" / "qa_data.jsonl.gz").head(400)
    data = datasets.Dataset.from_polars(rows)
    once, again = utils.process_halueval_qa(data), utils.process_halueval_qa(data)
    paper = utils.process_halueval_qa_paper(data)
    assert once["label"] == again["label"] == paper["label"]
    assert 0.4 < sum(once["label"]) / 400 < 0.6
    for doc, by_book, row in zip(once, paper, rows.iter_rows(named=True), strict=True):
        shown = row["hallucinated_answer"] if doc["label"] else row["right_answer"]
        assert doc["answer"] == shown.strip()
        assert by_book["prompt"].endswith(f"\n#Answer#: {shown}\n#Your Judgement#:")


HALUEVAL_SCRIPT = {
    "qa": "6eaf9fa20795cff9e1f73f4b044cc632e3468312b38f3174ff7026e1202c501b",
    "dialogue": "d9c3312948083f349f87df15f94d5725c10aad7c9c37108cf93996d528411469",
    "summarization": "611129e0d60ebd0db63377b32fef3117a60db486b8ab2eb6b49f9dd1b4d92b4c",
}
"""sha256 of the instruction files of RUCAIBox/HaluEval evaluation/ at b7253db."""


def test_halueval_prompts_are_the_papers_script_byte_for_byte(tmp_path: Path) -> None:
    """The instructions are the script's files and the prompt is its completion prompt, also
    after rendering (copied, not re-encoded)."""
    utils = task_utils()
    catalog = load_catalog()
    render_tasks(catalog, {"data_root": str(catalog.data_root)}, tmp_path)
    for task, digest in HALUEVAL_SCRIPT.items():
        name = f"halueval_prompts/{task}_evaluation_instruction.txt"
        for folder in (catalog.tasks_dir, tmp_path):
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    instruction = (catalog.tasks_dir / "halueval_prompts/qa_evaluation_instruction.txt").read_text()
    assert utils.paper_prompt("qa", " Who? ", "Me") == (
        instruction + "\n\n#Question#:  Who? \n#Answer#: Me\n#Your Judgement#:"
    )


def test_free_generation_judgments_parse_as_halueval_does(scored: Lab) -> None:
    """By the book: dots dropped, then "Yes" or "No" as case-sensitive substrings; both or
    neither fails, which scores as wrong and is counted in the unparseable rate of the run.
    The knowledge-grounded variant reads whole words in any case."""
    utils = task_utils()
    paper = [utils.parse_paper_judgment(t) for t in (" No.", "Yes", "Not really", "yes", "Y.e.s")]
    assert paper == [0, 1, 0, None, 1]
    assert utils.parse_paper_judgment("Yes. No.") is None
    assert [utils.parse_judgment(t) for t in (" No.", "The answer is YES", " [Human]: no")] == [
        0,
        1,
        0,
    ]
    assert utils.parse_judgment(" I'm not sure") is None
    assert utils.parse_judgment("Yes and no") is None
    assert utils.process_results_paper({"label": 1}, [" A) No"]) == {
        "acc": 0.0,
        "unparseable": 0.0,
        "answered_yes": 0.0,
        "truth_yes": 1.0,
    }
    assert utils.process_results_paper({"label": 0}, ["1."])["unparseable"] == 1.0
    assert utils.process_results_choice({"label": 1}, [(-2.0, False), (-1.0, True)]) == {
        "acc": 1.0,
        "answered_yes": 1.0,
        "truth_yes": 1.0,
    }
    scores = pl.read_parquet(scored.root / "runs" / "ev-a" / "scores.parquet")
    gen = scores.filter(pl.col("task") == "winnow_halueval_qa_gen")
    metrics = ["acc", "answered_yes", "truth_yes", "unparseable"]
    assert sorted(gen["metric"]) == metrics and set(gen["samples"]) == {8}
    samples = scored.root / "runs" / "ev-a" / "samples" / "winnow_halueval_qa_gen.jsonl"
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    verdicts = [utils.parse_paper_judgment(r["filtered_resps"][0]) for r in rows]
    value = dict(zip(gen["metric"], gen["value"], strict=True))
    assert value["unparseable"] == pytest.approx(sum(v is None for v in verdicts) / 8)
    assert value["answered_yes"] == pytest.approx(sum(v == 1 for v in verdicts) / 8)


def arc_values(run: Path, metric: str) -> dict[str, float]:
    """doc_hash -> one metric of a run's ARC-Easy samples."""
    lines = (run / "samples" / "winnow_arc_easy.jsonl").read_text().splitlines()
    return {row["doc_hash"]: row["metrics"][metric] for row in map(json.loads, lines)}


def test_compare_marks_settings_and_flips(scored: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    """Different few-shot counts are reported, --strict refuses, and the table, the paired
    tests and the flips of each 0/1 metric print, counted from the samples files."""
    code, out = run_cli(capsys, "evaluate", "compare", "ev-a", "ev-b", "-w", str(scored.root))
    assert code == 0, out
    assert "differs: num_fewshot: ev-a None, ev-b 1" in out
    assert "ev-b vs ev-a: paired tests on the documents both scored" in out
    assert re.search(r"arc_easy\W+acc\W+mcnemar\W+8\W", out)
    assert re.search(r"truthfulqa_mc2\W+acc\W+bootstrap\W+8\W", out)
    assert "per-document flips of each 0/1 metric (joined on doc hash)" in out
    for metric in ("acc", "acc_norm"):
        a, b = (arc_values(scored.root / "runs" / r, metric) for r in ("ev-a", "ev-b"))
        gained = sum(b[d] > a[d] for d in a)
        lost = sum(b[d] < a[d] for d in a)
        assert re.search(rf"ev-b\W+winnow_arc_easy\W+{metric}\W+8\W+{gained}\W+{lost}\W", out)
    assert "ev-a [limit 8], ev-b [limit 8]: scored on a subset of each task" in out
    code, out = run_cli(
        capsys, "evaluate", "compare", "ev-a", "ev-b", "--strict", "-w", str(scored.root)
    )
    assert code == 2 and "--strict: the runs are not comparable (num_fewshot" in out


def test_compare_stars_deltas_the_paired_test_finds(scored: Lab, tmp_path: Path) -> None:
    """Two copies of a real eval run, one with every ARC-Easy document wrong and one with every
    one right: that delta is starred (McNemar p = 2/256, 6 tests after Holm: 0.047) and the
    unchanged ones are not; at alpha 0.01 only the uncorrected test passes."""
    from winnow.evals.compare import EvalRun, delta_table

    runs = []
    for name, value in (("worse", 0.0), ("better", 1.0)):
        folder = tmp_path / name
        shutil.copytree(scored.root / "runs" / "ev-a", folder)
        samples = folder / "samples" / "winnow_arc_easy.jsonl"
        rows = [json.loads(line) for line in samples.read_text().splitlines()]
        for row in rows:
            row["metrics"]["acc"] = value
        samples.write_text("".join(json.dumps(row) + "\n" for row in rows))
        scores = pl.read_parquet(folder / "scores.parquet").with_columns(
            pl.when((pl.col("task") == "winnow_arc_easy") & (pl.col("metric") == "acc"))
            .then(value)
            .otherwise(pl.col("value"))
            .alias("value")
        )
        runs.append(EvalRun(folder, read_json(folder / "run.json"), scores))
    table = delta_table(runs)
    starred = table.filter(pl.col("significant:better"))
    assert starred.select("task", "metric").rows() == [("winnow_arc_easy", "acc")]
    assert starred["p:better"][0] == pytest.approx(2 / 256)
    assert starred["p_adjusted:better"][0] == pytest.approx(6 * 2 / 256)
    tested = table.filter(~pl.col("metric").is_in(["answered_yes", "truth_yes"]))
    assert tested["test:better"].null_count() == 0 and table["significant:better"].sum() == 1
    assert not delta_table(runs, alpha=0.01)["significant:better"].any()
    assert delta_table(runs, alpha=0.01, correction="none")["significant:better"].sum() == 1


def test_contamination_found_on_planted_overlap_and_absent_otherwise(
    lab: Lab, shared_data: Path, tmp_path: Path
) -> None:
    """An instruction set holding ARC-Easy questions is flagged for arc_easy; the c4 text is
    clean for every set."""
    questions = [
        json.loads(line) for line in (shared_data / "evals" / "mc" / "arc_easy.jsonl").open()
    ][:20]
    planted = tmp_path / "planted.json"
    rows = [
        {
            "instruction": q["query"] + " " + " ".join(q["choices"]),
            "input": "",
            "output": q["choices"][q["gold"]],
        }
        for q in questions
    ]
    planted.write_text(json.dumps(rows))
    files = [(planted, planted.name)]
    settings = {"map": None, "max_tokens": None, "tokenizer": None}
    curate_instruct(
        lab.ws,
        load_recipe("demo-instruct"),
        files,
        import_files(files),
        "planted",
        RunOptions(),
        settings,
    )
    sets = {"winnow_arc_easy": "arc_easy", "winnow_piqa": "piqa"}
    ref = lab.ws.dataset("planted").ref
    dirty = contamination(lab.ws, {"inputs": [{"name": "planted", "ref": ref}]}, sets)
    assert dirty["eval_sets"]["arc_easy"]["documents"] >= 15
    assert dirty["eval_sets"]["piqa"]["documents"] == 0
    web = lab.ws.dataset(lab.text).ref
    clean = contamination(lab.ws, {"inputs": [{"name": lab.text, "ref": web}]}, sets)
    assert all(entry["documents"] == 0 for entry in clean["eval_sets"].values())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--tasks", "no_such_task"], "--tasks no_such_task: no such lm-eval task or group"),
        (["--suite", "nope"], "--suite nope: no such suite; known suites: core, hallucination"),
        (["--suite", "core", "--tasks", "x"], "give either --suite NAME or --tasks a,b"),
        (["--tasks", "winnow_piqa", "--batch-size", "big"], "--batch-size big: use a whole number"),
        (["--tasks", "winnow_piqa", "--backend", "fast"], "--backend fast: use one of winnow, hf"),
        (["--tasks", "winnow_piqa", "--backend", "vllm"], "--backend vllm needs a CUDA GPU"),
        (
            ["--tasks", "winnow_halueval_summarization"],
            "--tasks winnow_halueval_summarization: its data is not here; put ",
        ),
    ],
)
def test_bad_task_input_is_one_line(
    lab: Lab, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    """Unknown tasks and suites and bad settings stop with one line."""
    code, out = run_cli(capsys, "evaluate", "--model", lab.base, *args, "-w", str(lab.root))
    assert code == 2 and expected in out, out


def test_bad_model_and_missing_data_are_one_line(
    lab: Lab, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing model path, a hub id offline and a missing data file each get one line."""
    ws = ["-w", str(lab.root)]
    code, out = run_cli(
        capsys, "evaluate", "--model", str(tmp_path / "none.gguf"), "--suite", "core", *ws
    )
    assert code == 2 and "no such GGUF file" in out
    code, out = run_cli(capsys, "evaluate", "--model", "nobody/nothing", "--suite", "core", *ws)
    assert code == 2 and "the hub is off (HF_HUB_OFFLINE=1)" in out
    monkeypatch.setenv("WINNOW_DATA_ROOT", str(tmp_path))
    code, out = run_cli(
        capsys, "evaluate", "--model", lab.base, "--suite", "core", "--output", "nodata", *ws
    )
    assert code == 2 and "eval data file missing" in out and "WINNOW_DATA_ROOT" in out


def test_results_from_another_lm_eval_version_are_refused_with_strict(
    scored: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy of an eval run marked as written by lm-eval 0.3.0: compare names the version
    difference, and --strict refuses it."""
    old = scored.root / "runs" / "ev-old"
    shutil.copytree(scored.root / "runs" / "ev-a", old)
    record = read_json(old / "run.json")
    record["versions"]["lm_eval"] = "0.3.0"
    write_json(record, old / "run.json")
    ws = ["-w", str(scored.root)]
    code, out = run_cli(capsys, "evaluate", "compare", "ev-a", "ev-old", *ws)
    assert code == 0 and "lm-eval version: ev-a" in out and "ev-old 0.3.0" in out
    code, out = run_cli(capsys, "evaluate", "compare", "ev-a", "ev-old", "--strict", *ws)
    assert code == 2 and "--strict: the runs are not comparable (lm-eval version" in out


def test_gguf_chat_facts_come_from_its_metadata(tmp_path: Path) -> None:
    """The chat template and EOS token are read from a GGUF's metadata."""
    import gguf

    from winnow.evals.model import gguf_chat_facts

    template = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}<|end|>{% endfor %}"
    path = tmp_path / "meta.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_chat_template(template)
    writer.add_token_list(["<unk>", "<s>", "<|end|>", "hello"])
    writer.add_eos_token_id(2)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    assert gguf_chat_facts(path) == (template, "<|end|>")


def test_preference_sets_are_read_as_message_text(lab: Lab) -> None:
    """Chat-message columns become their contents, so a DPO model's pairs are checked too."""
    from tests.train.conftest import REFUSAL
    from winnow.evals.contamination import dataset_text

    text = dataset_text(lab.ws, lab.pairs)["text"]
    assert text.len() == lab.ws.dataset(lab.pairs).manifest["counts"]["kept"]
    assert all(REFUSAL in t and "'role'" not in t for t in text)


SUMMARIES = [
    {
        "document": "The town library opened a new reading room on Monday. It has forty seats "
        "and stays open until nine in the evening.",
        "right_summary": "The library opened a forty-seat reading room open until nine.",
        "hallucinated_summary": "The library closed its reading room after a flood on Monday.",
    },
    {
        "document": "Rain is expected across the region on Friday, with dry weather returning "
        "on Saturday afternoon.",
        "right_summary": "Rain on Friday, dry again by Saturday afternoon.",
        "hallucinated_summary": "Snow is expected all weekend across the country.",
    },
    {
        "document": "The bakery on Main Street now sells rye bread every Tuesday and Thursday.",
        "right_summary": "The Main Street bakery sells rye bread on Tuesdays and Thursdays.",
        "hallucinated_summary": "The bakery on Main Street stopped selling bread.",
    },
]
"""HaluEval-style summarization rows written for this test (the real file is not shipped)."""


def test_halueval_summarization_runs_by_the_book_once_its_data_is_there(
    lab: Lab, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With summarization_data.json under the data root, the task renders, takes the
    script's prompt and the seeded pick, and scores in both variants."""
    root = tmp_path / "data"
    (root / "evals" / "halueval").mkdir(parents=True)
    for folder in (shared_data / "evals").iterdir():
        if folder.name != "halueval":
            (root / "evals" / folder.name).symlink_to(folder)
    for file in (shared_data / "evals" / "halueval").iterdir():
        (root / "evals" / "halueval" / file.name).symlink_to(file)
    lines = "".join(json.dumps(row) + "\n" for row in SUMMARIES)
    (root / "evals" / "halueval" / "summarization_data.json").write_text(lines)
    monkeypatch.setenv("WINNOW_DATA_ROOT", str(root))
    tasks = "winnow_halueval_summarization,winnow_halueval_summarization_gen"
    run = evaluate(lab.ws, EvalOptions(model=lab.base, tasks=tasks, output="summaries"))
    utils = task_utils()
    samples = run.path / "samples" / "winnow_halueval_summarization.jsonl"
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    assert [r["target"] for r in rows] == [int(utils._pick_hallucinated(i)) for i in range(3)]
    lm_samples = next((run.path / "lm_eval").rglob("samples_winnow_halueval_summarization_2*"))
    first = json.loads(lm_samples.read_text().splitlines()[0])
    shown = SUMMARIES[0]["hallucinated_summary" if rows[0]["target"] else "right_summary"]
    prompt = first["arguments"]["gen_args_0"]["arg_0"]
    assert prompt.startswith("I want you act as a summary judge.")
    assert prompt.endswith(f"#Summary#: {shown}\n#Your Judgement#:")
    results = read_json(run.path / "run.json")["results"]
    got = {(r["task"], r["metric"]) for r in results}
    assert ("winnow_halueval_summarization_gen", "unparseable") in got
    assert ("winnow_halueval_summarization", "truth_yes") in got


def test_best_run_follows_the_metric_direction_and_names_ties() -> None:
    """Three runs: the highest acc wins, the lowest perplexity wins, equal values tie, and
    descriptive metrics name no winner."""
    from types import SimpleNamespace

    from winnow.evals.compare import best_run

    runs = [SimpleNamespace(name=n) for n in ("a", "b", "c")]
    better = {("t", "acc"): True, ("t", "word_perplexity"): False}

    def row(metric: str, *values: float | None) -> dict:
        return {"task": "t", "metric": metric} | {
            f"value:{n}": v for n, v in zip("abc", values, strict=True)
        }

    assert best_run(row("acc", 0.2, 0.5, 0.4), runs, better) == "b"
    assert best_run(row("word_perplexity", 9.0, 12.0, 7.5), runs, better) == "c"
    assert best_run(row("acc", 0.5, 0.5, None), runs, better) == "tie"
    assert best_run(row("answered_yes", 0.1, 0.9, 0.5), runs, better) == ""


def test_task_listing_marks_optional_tasks_whose_data_is_missing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The summarization tasks are listed as missing, with where to get their data."""
    code, out = run_cli(capsys, "evaluate", "tasks")
    assert code == 0, out
    assert re.search(r"winnow_halueval_summarization\s*│\s*task\s*│\s*│\s*missing", out)
    assert re.search(r"winnow_arc_easy\s*│\s*task\s*│\s*arc_easy\s*│\s*│", out)
    assert "github.com/RUCAIBox/HaluEval" in out
