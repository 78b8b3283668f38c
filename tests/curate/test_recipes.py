"""Recipe loading: every mistake names the file, the entry and the fix; step versions in the
hash; the warning for a step that removes (nearly) everything."""

import dataclasses
import re
import typing
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console

from tests.curate.samples import WEB_EN_ORDER
from winnow.catalogs import list_entries
from winnow.curate.recipes import load_recipe, recipe_from_entries
from winnow.curate.report import print_report
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.curate.steps import STEPS, build_step
from winnow.curate.steps.base import check_parameter
from winnow.curate.steps.normalize import Normalize
from winnow.errors import WinnowError
from winnow.workspace import Workspace


def write(tmp_path: Path, body: str) -> str:
    path = tmp_path / "r.yaml"
    path.write_text(body)
    return str(path)


def test_shipped_recipes_load_with_expected_order() -> None:
    web = load_recipe("web-en")
    assert [s.name for s in web.steps] == list(WEB_EN_ORDER)
    assert load_recipe("web-ko").steps[1].languages == ["ko"]
    assert len(web.hash) == 16 and web.hash == load_recipe("web-en").hash


def test_unknown_step_names_entry_and_lists_steps(tmp_path: Path) -> None:
    path = write(tmp_path, "steps:\n  - step: normalize\n  - step: gopher\n")
    with pytest.raises(
        WinnowError, match=r"r\.yaml: steps\[2\]: unknown step 'gopher'; use one of:.*c4"
    ):
        load_recipe(path)


def test_unknown_parameter_names_key_and_lists_parameters(tmp_path: Path) -> None:
    path = write(tmp_path, "steps:\n  - step: exact_dedup\n    lowercased: true\n")
    with pytest.raises(
        WinnowError,
        match="steps\\[1\\]: step 'exact_dedup' has no parameter "
        "'lowercased'; its parameters are: column, lowercase",
    ):
        load_recipe(path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("steps: []\n", "non-empty list"),
        ("stepz: []\n", "unknown top-level key 'stepz'"),
        ("description: x\n", "has no 'steps' key"),
        ("steps:\n  - normalize\n", r"steps\[1\] should be a mapping"),
        ("steps: [\n", "not valid YAML"),
        ("steps:\n  - lowercase: true\n", "has no 'step' key"),
    ],
)
def test_malformed_recipes(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(WinnowError, match=message):
        load_recipe(write(tmp_path, body))


def test_missing_recipe_lists_known_ones() -> None:
    with pytest.raises(WinnowError, match="no recipe 'web-fr'.*known recipes:.*web-en"):
        load_recipe("web-fr")


def test_every_shipped_recipe_and_every_default_passes_validation() -> None:
    for name in list_entries("recipes"):
        assert load_recipe(name).description, f"{name} says in its description what it is for"
    for name, cls in STEPS.items():
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            if field.default is not dataclasses.MISSING:
                check_parameter(field.default, field, hints[field.name], name)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            "min_doc_words: fifty",
            "r.yaml: steps[2]: step 'gopher_quality': parameter 'min_doc_words' is 'fifty' "
            "(a string), but it must be a whole number or null; write e.g. 'min_doc_words: 50'.",
        ),
        (
            "min_doc_words: -5",
            "steps[2]: step 'gopher_quality': parameter 'min_doc_words' is -5, but it must be "
            "0 or more; write e.g. 'min_doc_words: 50'.",
        ),
        (
            "max_symbol_word_ratio: .nan",
            "parameter 'max_symbol_word_ratio' is NaN, which no row's score can be compared "
            "with; write e.g. 'max_symbol_word_ratio: 0.1'.",
        ),
        ("min_doc_words: 50.5", "'min_doc_words' is 50.5 (a number), but it must be a whole"),
        ("min_doc_words: true", "'min_doc_words' is True (true/false)"),
        ("min_stop_words: [2]", "'min_stop_words' is [2] (a list)"),
        ("stop_words: the", "must be a list of strings; write e.g. 'stop_words: [the]'"),
    ],
)
def test_wrong_types_and_ranges_fail_when_the_recipe_loads(
    tmp_path: Path, params: str, message: str
) -> None:
    """Issue 18: wrong-typed, negative and NaN parameters are caught at load, in one sentence
    naming the file, the entry and the key, with what was expected and what to write."""
    path = write(tmp_path, f"steps:\n  - step: normalize\n  - step: gopher_quality\n    {params}\n")
    with pytest.raises(WinnowError, match=re.escape(message)):
        load_recipe(path)


def test_nested_and_open_ranges() -> None:
    """Numbers inside lists are range-checked too; a field may declare negatives allowed."""
    with pytest.raises(WinnowError, match="'top_n_grams' is -0.2, but it must be 0 or more"):
        build_step({"step": "gopher_repetition", "top_n_grams": [[2, -0.2]]}, "r.yaml")
    with pytest.raises(WinnowError, match="must be a list of lists \\[a whole number, a number\\]"):
        build_step({"step": "gopher_repetition", "top_n_grams": [[2, 0.2, 3]]}, "r.yaml")
    step = build_step({"step": "gopher_repetition", "top_n_grams": [[2, 0.25]]}, "r.yaml")
    assert step.top_n_grams == [[2, 0.25]]
    open_range = {"step": "hf_classifier", "model": "any/model", "threshold": -1.5}
    assert build_step(open_range, "r.yaml").threshold == -1.5
    with pytest.raises(WinnowError, match="unknown step '\\['c4'\\]'"):
        build_step({"step": ["c4"]}, "r.yaml")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "steps:\n  - step: language\n    min_score: 0.5\n    languages: [en]\n"
            "    min_score: 0.9\n",
            r"r\.yaml: line 5: key 'min_score' appears twice in steps\[1\] \(first on line 3\)",
        ),
        (
            "name: a\nsteps:\n  - step: c4\nname: b\n",
            r"r\.yaml: line 4: key 'name' appears twice at the top level \(first on line 1\)",
        ),
        (
            "steps:\n  - step: badwords\n    lists: {en: a.txt, en: b.txt}\n",
            r"line 3: key 'en' appears twice in steps\[1\]\.lists",
        ),
    ],
)
def test_duplicate_keys_are_an_error(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(WinnowError, match=message):
        load_recipe(write(tmp_path, body))


@pytest.mark.parametrize("value", ["1.5", "-0.1", ".nan", "yes", "high"])
def test_warn_removed_share_is_checked(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f"warn_removed_share: {value}\nsteps:\n  - step: c4\n")
    with pytest.raises(WinnowError, match="warn_removed_share is .*, but it must be a number"):
        load_recipe(path)
    recipe = load_recipe(write(tmp_path, "warn_removed_share: 0.5\nsteps:\n  - step: c4\n"))
    assert recipe.warn_removed_share == 0.5 and load_recipe("web-en").warn_removed_share == 0.9


def test_step_versions_enter_the_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: a bumped step version changes the recipe hash, and only that recipe's."""
    web_ko, web_en = load_recipe("web-ko"), load_recipe("web-en")
    assert web_ko.versions["normalize"] == 2 and web_ko.versions["pii"] == 3
    before = (web_ko.hash, web_en.hash)
    monkeypatch.setattr(Normalize, "version", Normalize.version + 1)
    assert load_recipe("web-ko").hash != before[0]  # web-ko normalizes
    assert load_recipe("web-en").hash == before[1]  # web-en does not


CC_FILE = "web/CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"


def crash_then_rerun(
    ws: Workspace, source: Path, monkeypatch: pytest.MonkeyPatch, bump: bool
) -> tuple[dict, int]:
    """Run [normalize] over 7 shards, crash on the 4th, maybe bump normalize's version, run
    again; return the manifest and how many shards the second run scored."""
    calls = {"n": 0}
    original = Normalize.score

    def failing(self: Normalize, df: pl.DataFrame) -> pl.DataFrame:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("disk went away")
        return original(self, df)

    def run() -> dict:
        recipe = recipe_from_entries("norm", [{"step": "normalize"}], "inline")
        options = RunOptions(batch_rows=100)
        return run_recipe(ws, recipe, resolve_source(str(source)), "cc", options).manifest

    with monkeypatch.context() as patch:
        patch.setattr(Normalize, "score", failing)
        with pytest.raises(OSError, match="disk went away"):
            run()
        if bump:
            patch.setattr(Normalize, "version", Normalize.version + 1)
        calls["n"] = 100
        manifest = run()
    return manifest, calls["n"] - 100


def test_a_bumped_version_never_resumes_from_old_shards(
    workspace: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = shared_data / CC_FILE
    same, scored = crash_then_rerun(Workspace(workspace / "a"), source, monkeypatch, bump=False)
    assert scored == 4 and same["execution"]["resumed_shards"] == 3
    assert same["recipe"]["versions"] == {"normalize": Normalize.version}
    assert same["steps"][0]["version"] == Normalize.version
    bumped, scored = crash_then_rerun(Workspace(workspace / "b"), source, monkeypatch, bump=True)
    assert scored == 7 and bumped["execution"]["resumed_shards"] == 0
    assert bumped["recipe"]["versions"] == {"normalize": Normalize.version + 1}
    assert bumped["recipe"]["hash"] != same["recipe"]["hash"]
    assert bumped["counts"] == same["counts"]


def test_a_step_removing_nearly_everything_warns(
    workspace: Path, shared_data: Path, tmp_path: Path
) -> None:
    """Issue 18: the report, the manifest and its warnings name the step, its top reason and
    the share; warn_removed_share raises the bar."""
    body = "steps:\n  - step: normalize\n  - step: c4\n    min_num_sentences: 1000\n"
    source = resolve_source(str(shared_data / "web" / "c4_demo.jsonl"))
    ws = Workspace(workspace)
    dataset = run_recipe(ws, load_recipe(write(tmp_path, body)), source, "c4", RunOptions())
    manifest = dataset.manifest
    [warning] = manifest["removal_warnings"]
    assert warning["step"] == "c4" and warning["index"] == 1
    assert warning["reason"] == "too_few_sentences" and warning["share"] == 1.0
    assert warning["in"] == warning["removed"] == 300
    assert any(
        w.startswith("step 2 (c4) removed 100.0% of the 300 rows") for w in manifest["warnings"]
    )
    console = Console(record=True, width=400)
    print_report(console, dataset)
    shown = console.export_text()
    assert "warning step 2 (c4) removed 100.0% of the 300 rows that reached it" in shown
    assert "top reason too_few_sentences: 300 rows" in shown
    assert "winnow data head c4 --split rejected" in shown
    relaxed = "warn_removed_share: 1\n" + body
    quiet = run_recipe(ws, load_recipe(write(tmp_path, relaxed)), source, "c4", RunOptions())
    assert quiet.manifest["removal_warnings"] == [] and quiet.manifest["warnings"] == []
