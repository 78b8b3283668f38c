"""Decontamination: real eval n-grams planted in real web documents, found by the 13-gram rule."""

import json
from pathlib import Path

import polars as pl
import pytest

from tests.cli_helpers import run_cli
from tests.curate.samples import read_texts
from winnow.curate.evalsets import list_evalsets, read_items, resolve_eval
from winnow.curate.steps import build_step
from winnow.curate.steps.decontaminate import Decontaminate, normalized
from winnow.errors import WinnowError

COLUMNS = [
    "decontaminate_matches",
    "decontaminate_benchmark",
    "decontaminate_item",
    "decontaminate_ngram",
    "decontaminate_benchmarks",
]


@pytest.fixture(scope="module")
def web_texts(shared_data: Path) -> list[str]:
    """Real C4 web documents of 150 words or more."""
    texts = read_texts(shared_data / "web" / "c4_demo.jsonl")
    return [t for t in texts if len(t.split()) >= 150][:30]


def item_text(name: str, item: str) -> str:
    """The raw text (fields joined) of one real eval item."""
    items = read_items(resolve_eval(name))
    return items.filter(pl.col("item") == item)["text"].item()


def item_words(name: str, item: str) -> list[str]:
    """The normalized words of one real eval item."""
    text = pl.select(normalized(pl.lit(item_text(name, item)))).item()
    return text.split(" ")


def planted(doc: str, words: list[str] | str) -> str:
    """A web document with a passage put in the middle, between two of its words."""
    passage = words if isinstance(words, str) else " ".join(words)
    cut = doc.index(" ", len(doc) // 2)
    return f"{doc[:cut]} {passage} {doc[cut + 1 :]}"


def scored(step: Decontaminate, texts: list[str]) -> pl.DataFrame:
    """Score texts as one shard and add the step's reason."""
    df = pl.DataFrame({"id": [str(i) for i in range(len(texts))], "text": texts})
    return step.score(df).with_columns(reason=step.reason())


def test_planted_13gram_of_a_real_mmlu_item_is_found(web_texts: list[str]) -> None:
    words = item_words("mmlu", "astronomy_dev:2")
    out = scored(Decontaminate(evals=["mmlu"]), [planted(web_texts[0], words[:13]), web_texts[0]])
    assert out.columns[2:] == [*COLUMNS, "reason"]
    first = out.row(0, named=True)
    assert first["decontaminate_matches"] == 1
    assert first["decontaminate_benchmark"] == "mmlu"
    assert first["decontaminate_item"] == "astronomy_dev:2"
    assert (
        first["decontaminate_ngram"] == "you are pushing a truck along a road would it be easier to"
    )
    assert first["decontaminate_benchmarks"] == ["mmlu"]
    clean = out.row(1, named=True)
    assert clean["decontaminate_matches"] == 0 and clean["decontaminate_item"] is None
    assert clean["decontaminate_benchmarks"] == []


def test_twelve_shared_words_are_not_enough(web_texts: list[str]) -> None:
    words = item_words("mmlu", "astronomy_dev:2")
    texts = [planted(web_texts[1], words[:12]), planted(web_texts[1], words[:20])]
    out = scored(Decontaminate(evals=["mmlu"]), texts)
    assert out["decontaminate_matches"].to_list() == [0, 8]
    assert scored(Decontaminate(evals=["mmlu"], n=12), texts)["decontaminate_matches"][0] == 1


def test_case_punctuation_and_spacing_do_not_hide_a_match(web_texts: list[str]) -> None:
    raw = item_text("mmlu", "college_biology_dev:3")
    assert "Hardy-Weinberg equilibrium, which" in raw
    disguised = (
        "ASSUMING  the “Population” is in HARDY–WEINBERG\nequilibrium... which of the "
        "FOLLOWING is the (expected) proportion"
    )
    out = scored(Decontaminate(evals=["mmlu"]), [planted(web_texts[2], disguised)])
    assert out["decontaminate_matches"].to_list() == [3]
    assert out["decontaminate_item"].to_list() == ["college_biology_dev:3"]
    assert out["decontaminate_ngram"].to_list() == [
        "assuming the population is in hardyweinberg equilibrium which of the following is the"
    ]


def test_flag_keeps_rows_and_drop_removes_them(web_texts: list[str]) -> None:
    words = item_words("truthfulqa", "TruthfulQA:2")
    texts = [planted(web_texts[3], words[:13]), web_texts[4], planted(web_texts[5], words[:14])]
    flag = scored(Decontaminate(evals=["truthfulqa"]), texts)
    assert flag["decontaminate_matches"].to_list() == [1, 0, 2]
    assert flag["reason"].to_list() == [None, None, None]
    drop = scored(Decontaminate(evals=["truthfulqa"], mode="drop"), texts)
    assert drop["reason"].to_list() == ["contaminated", None, "contaminated"]
    strict = Decontaminate(evals=["truthfulqa"], mode="drop", min_matches=2)
    assert scored(strict, texts)["reason"].to_list() == [None, None, "contaminated"]


def test_tally_counts_every_benchmark_a_row_matches(web_texts: list[str]) -> None:
    mmlu = " ".join(item_words("mmlu", "astronomy_dev:2")[:13])
    truthful = " ".join(item_words("truthfulqa", "TruthfulQA:2")[:13])
    texts = [f"{truthful} {planted(web_texts[6], mmlu)}", planted(web_texts[7], mmlu)]
    texts.append(web_texts[8])
    step = Decontaminate(evals=["mmlu", "truthfulqa"])
    out = scored(step, texts)
    assert out["decontaminate_benchmarks"].to_list() == [["mmlu", "truthfulqa"], ["mmlu"], []]
    assert step.tally(out) == {"flagged": 2, "flagged:mmlu": 2, "flagged:truthfulqa": 1}
    assert step.tally(out.filter(pl.col("decontaminate_matches") == 0)) == {}


def test_every_ngram_of_a_real_document_matches_itself(shared_data: Path) -> None:
    """The compiled word cutting agrees with the documented rule on real web text."""
    path = shared_data / "web" / "c4_demo.jsonl"
    texts = read_texts(path)[:120]
    out = scored(Decontaminate(evals=[str(path)]), texts)
    words = pl.Series(texts).to_frame("t").select(normalized(pl.col("t"))).to_series()
    expected = [max(len([w for w in t.split(" ") if w]) - 12, 0) for t in words]
    assert out["decontaminate_matches"].to_list() == expected
    first = [
        " ".join(t.split(" ")[:13]) if n else None for t, n in zip(words, expected, strict=True)
    ]
    assert out["decontaminate_ngram"].to_list() == first
    assert set(out["decontaminate_benchmark"].drop_nulls()) == {"c4_demo"}


def test_eval_file_with_chosen_fields_and_short_items(tmp_path: Path) -> None:
    evals = tmp_path / "quiz.jsonl"
    rows = [
        {"question": "Which river flows through the city of Vienna and Budapest", "choices": []},
        {"question": "Name a colour", "choices": ["red"]},
        {"question": "What is a well-known fact?", "choices": ["water boils at one hundred"]},
    ]
    evals.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    step = Decontaminate(evals=[str(evals)], fields={str(evals): ["question", "choices"]}, n=5)
    docs = [
        "They asked: which river flows through the city?",
        "name a colour red green",
        "A wellknown fact: water boils at one hundred degrees.",
    ]
    out = scored(step, docs)
    assert out["decontaminate_matches"].to_list() == [2, 0, 4]
    assert out["decontaminate_item"].to_list() == ["quiz:1", None, "quiz:3"]
    assert out["decontaminate_ngram"].to_list()[::2] == [
        "which river flows through the",
        "a wellknown fact water boils",
    ]
    assert step.describe()["items under 5 words, never matched"] == "quiz 1"


def test_fields_override_and_entry_files(tmp_path: Path, shared_data: Path) -> None:
    knowledge = read_items(resolve_eval("halueval_qa", ["knowledge"]))["text"][0]
    passage = " ".join(knowledge.split()[:13])
    assert passage.startswith("Arthur's Magazine (1844–1846) was an American literary")
    plain = scored(Decontaminate(evals=["halueval_qa"]), [passage])
    assert plain["decontaminate_matches"].to_list() == [0]
    with_knowledge = Decontaminate(evals=["halueval_qa"], fields={"halueval_qa": ["knowledge"]})
    assert scored(with_knowledge, [passage])["decontaminate_item"].to_list() == ["qa_data:1"]
    entry = tmp_path / "my_arc.yaml"
    arc = shared_data / "evals" / "mc" / "arc_challenge.jsonl"
    entry.write_text(f"path: {arc}\nfields: [query]\n", encoding="utf-8")
    question = json.loads(arc.read_text(encoding="utf-8").splitlines()[0])["query"]
    out = scored(Decontaminate(evals=[str(entry)]), [question])
    assert out["decontaminate_benchmark"].to_list() == ["my_arc"]
    assert out["decontaminate_item"].to_list() == ["arc_challenge:1"]


def test_index_is_built_once_per_process() -> None:
    first, second = Decontaminate(evals=["mmlu"]), Decontaminate(evals=["mmlu"], mode="drop")
    assert first.index() is second.index()
    assert first.index() is not Decontaminate(evals=["mmlu"], n=8).index()


def test_catalog_entries_resolve_from_the_checkout() -> None:
    sets = list_evalsets()
    sizes = {name: read_items(s).height for name, s in sets.items()}
    assert sizes == {
        "arc_challenge": 1172,
        "arc_easy": 2376,
        "boolq": 3270,
        "halueval_dialogue": 10000,
        "halueval_general": 4507,
        "halueval_qa": 10000,
        "mmlu": 285,
        "piqa": 1838,
        "truthfulqa": 790,
    }
    assert len(sets["mmlu"].paths) == 57
    assert all("shared/data/evals" in p.as_posix() for s in sets.values() for p in s.paths)
    general = read_items(sets["halueval_general"])
    assert general["item"][:2].to_list() == ["general_data:1", "general_data:2"]


def test_recipe_run_reports_flagged_rows_per_benchmark(
    tmp_path: Path, workspace: Path, web_texts: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    mmlu = item_words("mmlu", "astronomy_dev:2")[:13]
    truthful = item_words("truthfulqa", "TruthfulQA:2")[:13]
    texts = list(web_texts[:12])
    texts[2], texts[5] = planted(texts[2], mmlu), planted(texts[5], mmlu)
    texts[9] = planted(texts[9], truthful)
    source = tmp_path / "docs.jsonl"
    rows = [{"id": f"d{i}", "text": t} for i, t in enumerate(texts)]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for mode in ("flag", "drop"):
        recipe = tmp_path / f"{mode}.yaml"
        recipe.write_text(
            "steps:\n  - step: decontaminate\n    evals: [mmlu, truthfulqa, arc_easy]\n"
            f"    mode: {mode}\n",
            encoding="utf-8",
        )
        args = ["curate", "run", str(recipe), "--source", str(source), "--output", mode]
        code, out = run_cli(capsys, *args)
        assert code == 0, out
        manifest = json.loads((workspace / "datasets" / mode / "v1" / "manifest.json").read_text())
        step = manifest["steps"][0]
        if mode == "flag":
            assert step["tally"] == {"flagged": 3, "flagged:mmlu": 2, "flagged:truthfulqa": 1}
            assert "flagged:mmlu │ 2" in out and "flagged:truthfulqa │ 1" in out
            assert step["removed"] == {} and manifest["counts"]["kept"] == 12
            kept = pl.read_parquet(workspace / "datasets" / mode / "v1" / "kept" / "*.parquet")
            flagged = kept.filter(pl.col("decontaminate_matches") > 0).sort("id")
            assert flagged["id"].to_list() == ["d2", "d5", "d9"]
            assert flagged["decontaminate_item"].to_list()[2] == "TruthfulQA:2"
        else:
            assert step["removed"] == {"contaminated": 3} and manifest["counts"]["kept"] == 9
            assert "contaminated │ 3" in out
            rejected = pl.read_parquet(
                workspace / "datasets" / mode / "v1" / "rejected" / "*.parquet"
            ).sort("id")
            assert rejected["decontaminate_benchmark"].to_list() == ["mmlu", "mmlu", "truthfulqa"]
        assert "items under 13 words, never matched: mmlu 4, arc_easy 45" in out


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"evals": ["{tmp}/missing.jsonl"]}, "missing.jsonl' (resolved to"),
        ({"evals": ["mmlu_pro"]}, "evals names 'mmlu_pro', which is no eval set in"),
        ({"evals": ["mmlu"], "mode": "remove"}, "mode 'remove' is not known; use 'flag'"),
        ({"evals": ["mmlu"], "n": 0}, "n is 0; use a whole number of at least 1"),
        ({"evals": ["mmlu"], "min_matches": 0}, "min_matches is 0"),
        ({"evals": []}, "evals should list catalogs/evals names"),
        ({"evals": ["mmlu"], "fields": {"mmlu.csv": ["q"]}}, "fields names 'mmlu.csv'"),
    ],
)
def test_bad_parameters_name_the_key(tmp_path: Path, params: dict, words: str) -> None:
    params = json.loads(json.dumps(params).replace("{tmp}", str(tmp_path)))
    with pytest.raises(WinnowError, match=words.replace("(", r"\(")):
        build_step({"step": "decontaminate", **params}, "r.yaml")


def test_bad_eval_files_and_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "one two three"}\n{"text": oops}\n', encoding="utf-8")
    with pytest.raises(WinnowError, match=r"broken.jsonl: line 2: .*fix the file"):
        Decontaminate(evals=[str(broken)]).index()
    fieldless = tmp_path / "fieldless.jsonl"
    fieldless.write_text('{"question": "one two three"}\n', encoding="utf-8")
    with pytest.raises(WinnowError, match=r"has no field 'text' \(fields: question\)"):
        Decontaminate(evals=[str(fieldless)]).index()
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "gone.yaml").write_text(
        "path: ../nowhere/gone.jsonl\nfields: [question]\n", encoding="utf-8"
    )
    monkeypatch.setenv("WINNOW_CATALOGS", str(tmp_path))
    with pytest.raises(WinnowError, match=r"gone.yaml: eval set path '../nowhere/gone.jsonl'"):
        Decontaminate(evals=["gone"])


def test_unknown_eval_in_a_recipe_is_one_line(
    tmp_path: Path, workspace: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("steps:\n  - step: decontaminate\n    evals: [mmlu, gsm8k]\n")
    source = shared_data / "web" / "c4_demo.jsonl"
    code, out = run_cli(
        capsys, "curate", "run", str(recipe), "--source", str(source), "--output", "x"
    )
    assert code == 2
    assert "evals names 'gsm8k'" in out and "known: arc_challenge, arc_easy" in out


def test_evals_command_lists_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(capsys, "curate", "evals")
    assert code == 0
    assert "halueval_general" in out and "user_query, chatgpt_response" in out
