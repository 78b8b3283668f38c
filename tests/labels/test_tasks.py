"""The label task catalog: the shipped tasks, and one clear error per broken file."""

from pathlib import Path

import pytest

from winnow.errors import WinnowError
from winnow.labels.tasks import load_task, load_tasks


def test_the_catalog_has_the_four_tasks_with_keys_and_guidelines():
    tasks = load_tasks()
    assert {"quality-keep-drop", "quality-1to5", "answer-rating", "pairwise"} <= set(tasks)
    keep_drop = tasks["quality-keep-drop"]
    assert (keep_drop.kind, keep_drop.scale, keep_drop.applies_to) == (
        "quality",
        "nominal",
        ("pretraining", "mix"),
    )
    assert keep_drop.keys == {"1": "keep", "2": "drop"}
    assert tasks["quality-1to5"].values == ["1", "2", "3", "4", "5"]
    assert tasks["quality-1to5"].scale == "ordinal"
    assert tasks["answer-rating"].applies_to == ("instruct",)
    assert tasks["pairwise"].keys == {"1": "A", "2": "B", "3": "tie"}
    assert tasks["pairwise"].applies_to == ("preference",)
    for task in tasks.values():
        assert len(task.guidelines.split()) > 80, task.name
        assert all(choice.caption for choice in task.choices)


def test_a_value_outside_the_choices_is_refused():
    task = load_task("quality-1to5")
    assert task.check_value(4) == "4"
    with pytest.raises(WinnowError, match="'6' is not a choice of label task 'quality-1to5'"):
        task.check_value(6)
    with pytest.raises(WinnowError, match="no label task 'nope'; tasks: answer-rating"):
        load_task("nope")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title: [unclosed", "is not valid YAML"),
        ("title: T\nkind: vibes\nchoices: []\nguidelines: g", "key 'kind' is 'vibes'"),
        (
            "title: T\nkind: quality\nguidelines: g\nchoices:\n"
            "  - {value: keep, caption: K, key: '1'}\n  - {value: drop, caption: D, key: '1'}",
            "key 'choices' repeats a key",
        ),
        (
            "title: T\nkind: pairwise\nguidelines: g\nchoices:\n"
            "  - {value: left, caption: L, key: '1'}\n  - {value: right, caption: R, key: '2'}",
            "key 'choices' of a pairwise task must be the values A, B, tie",
        ),
        (
            "kind: quality\nguidelines: g\nchoices:\n"
            "  - {value: keep, caption: K, key: '1'}\n  - {value: drop, caption: D, key: '2'}",
            "key 'title' should be a non-empty str",
        ),
    ],
)
def test_a_broken_task_file_is_named_with_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
):
    (tmp_path / "labels").mkdir()
    broken = tmp_path / "labels" / "broken.yaml"
    broken.write_text(text, encoding="utf-8")
    monkeypatch.setenv("WINNOW_CATALOGS", str(tmp_path))
    with pytest.raises(WinnowError, match=message) as error:
        load_tasks()
    assert str(error.value).startswith(f"{broken}:")
