"""The `winnow` lm-eval backend against lm-eval's own HF model on the lab's base model: the
same log-likelihoods (within 1e-4), greedy flags, choices and metrics, on real tasks and on
the hard cases (shared few-shot prefixes, a context that is a prefix of another, a tokenizer
merging across the context/continuation boundary, contexts longer than the window)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from lm_eval import simple_evaluate
from lm_eval.api.instance import Instance
from lm_eval.models.huggingface import HFLM

from tests.train.conftest import Lab
from winnow.evals import shared_context
from winnow.evals.catalog import load_catalog, render_tasks
from winnow.evals.run import task_manager
from winnow.evals.shared_context import (
    MIN_SHARED,
    Group,
    SharedContextLM,
    families,
    lay_out,
    shared_groups,
)

TASKS = ["winnow_arc_easy", "winnow_piqa", "winnow_truthfulqa_mc1", "winnow_halueval_qa"]
"""Real tasks: short and long contexts, 2 to 13 choices, one- and many-token choices."""


@pytest.fixture(scope="module")
def models(lab: Lab) -> tuple[HFLM, SharedContextLM]:
    """lm-eval's HF model and the winnow one on the lab's base model, batch 4."""
    folder = str(lab.ws.root / "runs" / lab.base / "model")
    args = {"pretrained": folder, "dtype": "float32", "batch_size": 4, "device": "cpu"}
    return HFLM(**args), SharedContextLM(**args)


def run_tasks(lm: HFLM, names: list[str], limit: int, fewshot: int | None) -> dict[str, Any]:
    """lm-eval's simple_evaluate on the rendered catalog tasks."""
    catalog = load_catalog()
    with tempfile.TemporaryDirectory() as folder:
        render_tasks(catalog, {"data_root": str(catalog.data_root)}, Path(folder))
        return simple_evaluate(
            model=lm,
            tasks=names,
            task_manager=task_manager([folder], names),
            limit=limit,
            num_fewshot=fewshot,
            log_samples=True,
            verbosity="ERROR",
        )


def assert_same_answers(ours: list[Any], theirs: list[Any]) -> None:
    """Log-likelihoods within 1e-4 and identical greedy flags, request by request."""
    assert len(ours) == len(theirs)
    for (mine, greedy), (other, other_greedy) in zip(ours, theirs, strict=True):
        assert mine == pytest.approx(other, abs=1e-4)
        assert greedy == other_greedy


@pytest.mark.parametrize("fewshot", [None, 2])
def test_real_tasks_score_as_lm_eval_scores_them(
    models: tuple[HFLM, SharedContextLM], fewshot: int | None
) -> None:
    hf, ours = models
    theirs = run_tasks(hf, TASKS, 12, fewshot)
    mine = run_tasks(ours, TASKS, 12, fewshot)
    for task in TASKS:
        assert mine["results"][task] == theirs["results"][task]
        for a, b in zip(mine["samples"][task], theirs["samples"][task], strict=True):
            assert a["doc_id"] == b["doc_id"]
            assert_same_answers([r[0] for r in a["resps"]], [r[0] for r in b["resps"]])


def requests(lm: HFLM, pairs: list[tuple[str, str]]) -> list[Instance]:
    """lm-eval loglikelihood instances for (context, continuation) strings."""
    return [
        Instance("loglikelihood", {}, pair, index, ("task", index, 1))
        for index, pair in enumerate(pairs)
    ]


def test_shared_prefixes_nested_contexts_and_long_contexts_score_as_lm_eval(
    models: tuple[HFLM, SharedContextLM], shared_data: Path
) -> None:
    hf, ours = models
    text = (shared_data / "web" / "c4_demo.jsonl").read_text(encoding="utf-8")[:4000]
    shots = "Question: what is the capital of France?\nAnswer: Paris\n\n" * 3
    pairs = [
        (shots + "Question: what is two and two?\nAnswer:", " four"),
        (shots + "Question: what is two and two?\nAnswer:", " five or six"),
        (shots + "Question: which colour is the sky?\nAnswer:", " blue"),
        (shots + "Question: which colour is the sky?\nAnswer:", " a deep green at noon"),
        (shots, "Question:"),
        (shots, "Answer: none"),
        ("The wea", "ther was fine"),
        ("The wea", "k link"),
        (text, " the end"),
        (text, " and more"),
        ("", "A lone continuation"),
    ]
    batch = requests(hf, pairs)
    theirs = hf.loglikelihood(batch)
    mine = ours.loglikelihood(batch)
    assert_same_answers(mine, theirs)
    encoded = [(r.args, *hf._encode_pair(*r.args)) for r in batch[:-1]]
    groups, rest = shared_groups(encoded, ours.window())
    rows = families(groups, encoded)
    assert any(len(f.groups) > 1 for f in rows), "the few-shot prefix was not shared"
    assert [i for i, (_, c, k) in enumerate(encoded) if len(c) + len(k) > hf.max_length + 1] == [
        8,
        9,
    ]
    assert {8, 9} <= set(rest)
    whole = hf.tok_encode("The weather was fine")
    assert whole[: len(hf.tok_encode("The wea"))] != hf.tok_encode("The wea"), (
        "the tokenizer did not merge across the boundary; pick another word"
    )


def test_a_token_sees_its_own_request_only() -> None:
    stem = tuple(range(100, 100 + MIN_SHARED))
    encoded = [
        (None, [*stem, 1, 2], [7, 8, 9]),
        (None, [*stem, 1, 2], [5]),
        (None, [*stem, 3], [6, 4]),
    ]
    groups = [Group((*stem, 1, 2), [0, 1]), Group((*stem, 3), [2])]
    (family,) = families(groups, encoded)
    assert family.stem == stem
    rows = lay_out([family], encoded)
    ids, positions, mask = rows.ids[0].tolist(), rows.positions[0].tolist(), rows.mask[0, 0]
    where = {(t, p): c for c, (t, p) in enumerate(zip(ids, positions, strict=True))}
    seven, eight = where[(7, MIN_SHARED + 2)], where[(8, MIN_SHARED + 3)]
    three, two = where[(3, MIN_SHARED)], where[(2, MIN_SHARED + 1)]
    assert mask[eight, seven] and mask[eight, two] and mask[eight, where[(100, 0)]]
    assert not mask[eight, three] and not mask[three, two] and not mask[seven, eight]
    last = rows.ids.shape[1] - rows.keep
    assert [ids[last + c] for c in rows.columns[0]] == [2, 7, 8]
    assert [ids[last + c] for c in rows.columns[2]] == [3, 6]


def test_contexts_sharing_too_little_get_rows_of_their_own() -> None:
    encoded = [(None, [1] * (MIN_SHARED - 1) + [2], [3]), (None, [1] * (MIN_SHARED - 1) + [4], [3])]
    groups, rest = shared_groups(encoded, 1000)
    assert rest == [] and len(families(groups, encoded)) == 2
    assert shared_context.common_prefix((1, 2, 3), (1, 2)) == 2


def outcome(lm: HFLM, folder: Path) -> Any:
    """The results of the empty-choice task, or the error lm-eval raised."""
    try:
        found = simple_evaluate(
            model=lm,
            tasks=["empty_choices"],
            task_manager=task_manager([str(folder)], ["empty_choices"]),
            log_samples=True,
            verbosity="ERROR",
        )
    except Exception as exc:  # noqa: BLE001  (the error itself is what is compared)
        return type(exc).__name__, str(exc)
    return found["results"]["empty_choices"], [
        s["resps"] for s in found["samples"]["empty_choices"]
    ]


def test_an_empty_choice_list_ends_as_it_ends_in_lm_eval(
    models: tuple[HFLM, SharedContextLM], tmp_path: Path
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        '{"query": "Which is a colour?", "choices": ["red", "loud"], "gold": 0}\n'
        '{"query": "Which is empty?", "choices": [], "gold": 0}\n',
        encoding="utf-8",
    )
    (tmp_path / "empty.yaml").write_text(
        "task: empty_choices\ndataset_path: json\noutput_type: multiple_choice\n"
        f'test_split: test\ndataset_kwargs:\n  data_files:\n    test: "{rows}"\n'
        'doc_to_text: "{{query}}\\nAnswer:"\ndoc_to_choice: choices\ndoc_to_target: gold\n'
        "metric_list:\n  - metric: acc\n",
        encoding="utf-8",
    )
    hf, ours = models
    found = outcome(ours, tmp_path)
    assert found == outcome(hf, tmp_path)
    assert found[0] == "ValueError", "lm-eval no longer refuses an empty choice list"


def test_eager_attention_takes_the_mask_as_added_values(
    models: tuple[HFLM, SharedContextLM],
) -> None:
    hf, ours = models
    shots = "Question: what is the capital of France?\nAnswer: Paris\n\n" * 2
    batch = requests(hf, [(shots + "Question: and Spain?\nAnswer:", c) for c in (" Madrid", " no")])
    config = ours.model.config
    kept = config._attn_implementation
    try:
        config._attn_implementation = "eager"
        assert ours.shares()
        assert_same_answers(ours.loglikelihood(batch), hf.loglikelihood(batch))
    finally:
        config._attn_implementation = kept


def test_rows_that_save_little_go_to_lm_evals_own_path() -> None:
    """Two long choices after a short question (PIQA) save under a fifth of the tokens and go
    to lm-eval's path; four short choices after a longer question (ARC) stay."""
    piqa = [(None, list(range(13)), list(range(50, 105))) for _ in range(2)]
    arc = [(None, list(range(25)), [7, 8, 9, 10]) for _ in range(4)]
    for encoded, expected in ((piqa, False), (arc, True)):
        groups, _ = shared_groups(encoded, 1000)
        (family,) = families(groups, encoded)
        assert shared_context.pays(family, encoded) is expected
