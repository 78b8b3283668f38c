"""Recipe loading: every mistake names the file, the entry and the fix."""

from pathlib import Path

import pytest

from tests.curate.samples import WEB_EN_ORDER
from winnow.curate.recipes import load_recipe
from winnow.errors import WinnowError


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
