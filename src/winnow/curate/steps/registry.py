"""The step registry: every built-in step's name and the module that defines it.

A step's module (and with it the libraries it needs: numba's kernels, kiwipiepy, fastText,
the classifiers' models) is imported when something first asks `STEPS` for that step, so a
recipe loads its own steps and no others, and a missing optional library breaks only the
steps that need it. Listing every step (`winnow curate steps`, `STEPS.items()`) imports them
all. This module imports nothing heavy, so `from winnow.curate.steps import STEPS` is cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping

BUILTIN: dict[str, str] = {
    "exact_dedup": "winnow.curate.dedup.exact.exact_dedup",
    "minhash_dedup": "winnow.curate.dedup.minhash.minhash_dedup",
    "semantic_dedup": "winnow.curate.dedup.semantic.semantic_dedup",
    "badwords": "winnow.curate.steps.badwords",
    "c4": "winnow.curate.steps.c4",
    "decontaminate": "winnow.curate.steps.decontaminate",
    "embed_classifier": "winnow.curate.steps.embed_classifier",
    "fineweb": "winnow.curate.steps.fineweb",
    "gopher_quality": "winnow.curate.steps.gopher_quality",
    "gopher_repetition": "winnow.curate.steps.gopher_repetition",
    "hf_classifier": "winnow.curate.steps.hf_classifier",
    "language": "winnow.curate.steps.language",
    "normalize": "winnow.curate.steps.normalize",
    "pii": "winnow.curate.steps.pii",
    "quality_classifier": "winnow.curate.steps.quality_classifier",
    "select_diverse": "winnow.curate.steps.select_diverse",
    "short_text": "winnow.curate.steps.short_text",
    "answer_repetition": "winnow.curate.steps.instruct.answer_repetition",
    "instruct_length": "winnow.curate.steps.instruct.instruct_length",
    "language_mismatch": "winnow.curate.steps.instruct.language_mismatch",
    "refusal": "winnow.curate.steps.instruct.refusal",
    "template_leftovers": "winnow.curate.steps.instruct.template_leftovers",
}
"""Step name -> the module whose import registers it (with `@register`). A new built-in step
gets a line here; the tests check that each module registers exactly the names listed."""


class StepRegistry(MutableMapping[str, type]):
    """Step classes (subclasses of `base.Step`) by name, importing a built-in step's module on
    first access.

    Membership, iteration and length need no import (names come from the module table and
    from the classes registered so far); reading a step (`STEPS[name]`, `.get`, `.items()`,
    `.values()`) imports its module once. `register` (in the step's module) stores the class.
    """

    def __init__(self, modules: dict[str, str]) -> None:
        self.modules = dict(modules)
        self.loaded: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        if name not in self.loaded and name in self.modules:
            module = self.modules[name]
            importlib.import_module(module)
            if name not in self.loaded:
                raise RuntimeError(f"importing {module} did not register the step '{name}'")
        return self.loaded[name]

    def __setitem__(self, name: str, cls: type) -> None:
        self.loaded[name] = cls

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self.loaded.pop(name, None)
        self.modules.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self.loaded or name in self.modules

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self.modules, *self.loaded]))

    def __len__(self) -> int:
        return len(self.modules.keys() | self.loaded.keys())

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}: {'loaded' if name in self.loaded else 'not imported'}" for name in self
        )
        return f"StepRegistry({{{shown}}})"

    def is_loaded(self, name: str) -> bool:
        """Whether the step's class is in memory already (its module imported)."""
        return name in self.loaded


STEPS = StepRegistry(BUILTIN)
"""Every step a recipe can name, by name; see StepRegistry."""
