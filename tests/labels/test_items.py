"""Items shown to annotators, read from the kept rows of real datasets."""

import duckdb
import pytest

from winnow.errors import WinnowError
from winnow.labels.items import check_annotator, count_items, load_items
from winnow.labels.tasks import load_task
from winnow.workspace import Workspace


def test_quality_items_are_the_kept_documents_in_order(small):
    web = small.ws.dataset("web")
    items = load_items(web, load_task("quality-keep-drop"), "alice")
    assert len(items) == count_items(web, load_task("quality-keep-drop")) == 14
    assert items[0].id == "demo-river" and items[0].text.startswith("Rivers shape the land")
    assert items[-1].id == "demo-ko-contact" and "고객센터" in items[-1].text
    assert [i.id for i in load_items(web, load_task("quality-1to5"), "bob", limit=3)] == [
        "demo-river",
        "demo-bread",
        "demo-library",
    ]


def test_rating_items_show_the_instruction_and_its_answer(small):
    items = load_items(small.ws.dataset("instruct"), load_task("answer-rating"), "alice")
    assert len(items) == 10
    sky = items[0]
    assert sky.prompt == [
        {"role": "user", "content": "Explain why the sky looks blue on a clear day."}
    ]
    assert sky.answer.startswith("Sunlight holds every colour.")
    summary = next(i for i in items if i.prompt[0]["content"].startswith("Summarize"))
    instruction, _, given = summary.prompt[0]["content"].partition("\n")
    assert instruction == "Summarize the paragraph in one sentence."
    assert given.startswith("The town library opened a second floor"), "the input follows"


def test_pairwise_sides_are_shuffled_per_annotator_and_remembered(small):
    pairs = small.ws.dataset("pairs")
    task = load_task("pairwise")
    alice = load_items(pairs, task, "alice")
    bob = load_items(pairs, task, "bob")
    assert len(alice) == len(bob) == 295
    rows = duckdb.sql(f"SELECT id, chosen, rejected FROM {pairs.relation_sql()}").fetchall()
    by_id = {row[0]: row for row in rows}
    for item in alice + bob:
        _, chosen, rejected = by_id[item.id]
        sides = (chosen, rejected) if item.order == "chosen" else (rejected, chosen)
        assert (item.a, item.b) == tuple([dict(m) for m in side] for side in sides)
        assert item.prompt and item.prompt[-1]["role"] == "user"
    orders = [item.order for item in alice]
    assert 100 < orders.count("chosen") < 195, "about half the items show chosen as A"
    assert orders != [item.order for item in bob], "annotators see different orders"
    assert load_items(pairs, task, "alice") == alice, "the order is the same every time"


def test_a_dataset_of_the_wrong_kind_is_refused_in_one_sentence(small):
    ws: Workspace = small.ws
    with pytest.raises(WinnowError) as error:
        load_items(ws.dataset("web"), load_task("pairwise"), "alice")
    assert str(error.value) == (
        "web@v1 is a pretraining dataset but task 'pairwise' labels preference datasets; "
        "pick another dataset or task."
    )
    with pytest.raises(WinnowError, match="labels instruct datasets"):
        count_items(ws.dataset("pairs"), load_task("answer-rating"))


@pytest.mark.parametrize("name", ["", "  ", "a/b", "../x", "-lead", "x" * 65, "tab\there"])
def test_bad_annotator_names_are_refused(name: str):
    with pytest.raises(WinnowError, match="annotator name"):
        check_annotator(name)


def test_annotator_names_may_hold_spaces_dots_and_any_letters():
    assert check_annotator("  Ana María.B_2-x ") == "Ana María.B_2-x"
    assert check_annotator("김민수") == "김민수"
