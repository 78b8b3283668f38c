"""The step registry imports a step's module only when a recipe names the step: a recipe of two
numba-free steps loads neither numba nor the other steps, while every listing still shows
every step. Each check runs in a fresh interpreter, since this one has imported them all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from winnow.curate.steps import STEPS, StepRegistry
from winnow.curate.steps.registry import BUILTIN

HEAVY = ("polars", "numpy", "numba", "pyarrow", "duckdb", "kiwipiepy", "fasttext", "py3langid")
"""Libraries whose import costs a tenth of a second or more."""


def fresh(*snippets: str) -> dict:
    """Run code snippets (each dedented) in a new interpreter; the last prints one JSON value,
    returned here."""
    code = "\n".join(textwrap.dedent(snippet) for snippet in snippets)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


IMPORTED = f"""
    import json, sys
    from winnow.curate.steps.registry import BUILTIN
    print(json.dumps(dict(
        steps=sorted(n for n, m in BUILTIN.items() if m in sys.modules),
        heavy=sorted(m for m in {HEAVY!r} if m in sys.modules),
    )))
"""
"""Code that prints which step modules and heavy libraries the interpreter has imported."""


def test_package_imports_no_step() -> None:
    """Importing the package, asking whether a step exists, counting and listing the names
    import no step module and no heavy library."""
    found = fresh(
        """
        from winnow.curate.steps import STEPS
        assert "normalize" in STEPS and "no_such_step" not in STEPS
        assert len(STEPS) == len(list(STEPS)) > 10
        """,
        IMPORTED,
    )
    assert found == {"steps": [], "heavy": []}


@pytest.mark.parametrize(
    "steps",
    [("normalize", "exact_dedup"), ("language", "pii"), ("normalize", "badwords")],
)
def test_recipe_loads_only_its_steps(tmp_path: Path, steps: tuple[str, str]) -> None:
    """Loading a recipe of two numba-free steps imports those two step modules and not numba
    (nor kiwipiepy, fastText or the language model, which load when a row needs them)."""
    recipe = tmp_path / "two.yaml"
    recipe.write_text(
        "name: two\nsteps:\n" + "".join(f"  - step: {step}\n" for step in steps),
        encoding="utf-8",
    )
    found = fresh(
        f"""
        from winnow.curate.recipes import load_recipe
        recipe = load_recipe({str(recipe)!r})
        assert [s.name for s in recipe.steps] == {list(steps)!r}
        """,
        IMPORTED,
    )
    assert found["steps"] == sorted(steps)
    assert not {"numba", "kiwipiepy", "fasttext", "py3langid"} & set(found["heavy"])


def test_steps_command_lists_every_step() -> None:
    """`winnow curate steps` still lists every built-in step, with its version."""
    done = subprocess.run(
        [sys.executable, "-m", "winnow", "curate", "steps"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    for name in BUILTIN:
        assert f"{name} v{STEPS[name].version}" in done.stdout


def test_table_names_each_module_and_its_steps() -> None:
    """Each table entry's module registers that step under that name, and importing every
    module of the step packages registers no built-in step the table lacks."""
    found = fresh(
        """
        import importlib, json, pkgutil
        import winnow.curate.dedup, winnow.curate.steps
        from winnow.curate.steps import STEPS
        for package in (winnow.curate.steps, winnow.curate.dedup):
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                importlib.import_module(info.name)
        print(json.dumps({name: STEPS.loaded[name].__module__ for name in STEPS.loaded}))
        """
    )
    assert found == BUILTIN
    for name, cls in STEPS.items():
        assert cls.name == name
        assert cls.__module__ == BUILTIN[name]


def test_registry_mapping() -> None:
    """The registry behaves as a mapping: unknown names are missing, registered classes join
    the table's names, and a table entry whose module registers nothing says so."""
    registry = StepRegistry({"broken": "winnow.errors", "other": "winnow.errors"})
    assert list(registry) == ["broken", "other"] and len(registry) == 2
    assert registry.get("no_such_step") is None
    assert "no_such_step" not in registry and "broken" in registry
    assert not registry.is_loaded("broken")
    with pytest.raises(RuntimeError, match="did not register the step 'broken'"):
        registry["broken"]
    registry["extra"] = STEPS["pii"]
    assert registry.is_loaded("extra") and registry["extra"] is STEPS["pii"]
    assert list(registry) == ["broken", "other", "extra"] and len(registry) == 3
    del registry["broken"]
    assert "broken" not in registry and len(registry) == 2
    with pytest.raises(KeyError):
        del registry["broken"]


def test_core_modules_import_nothing_heavy() -> None:
    """The modules nearly every command imports (workspace, catalogs, files, errors, records,
    console, the readers, the step registry) load no data-frame, SQL or kernel library."""
    found = fresh(
        """
        import winnow.workspace, winnow.catalogs, winnow.files, winnow.errors
        import winnow.records, winnow.console, winnow.curate.steps
        """,
        IMPORTED,
    )
    assert found == {"steps": [], "heavy": []}


def test_readers_load_their_libraries_when_reading() -> None:
    """Importing the readers loads neither trafilatura and warcio (WARC) nor Arrow (Parquet)."""
    found = fresh(
        """
        import json, sys
        import winnow.curate.readers
        print(json.dumps(sorted(
            m for m in ("trafilatura", "warcio", "pyarrow", "numpy", "datasets")
            if m in sys.modules
        )))
        """
    )
    assert found == []
