"""Label tasks from `catalogs/labels/*.yaml`: what is asked, the choices, the guidelines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from winnow.catalogs import list_entries, load_yaml
from winnow.errors import WinnowError

KINDS = {"quality": ("pretraining", "mix"), "rating": ("instruct",), "pairwise": ("preference",)}
"""Task kinds and the dataset kinds (manifest `kind`) each can label by default."""

SCALES = ("nominal", "ordinal", "interval")
"""Measurement levels of a task's values, as Krippendorff's alpha uses them."""

PAIRWISE_VALUES = ("A", "B", "tie")
"""The values a pairwise task must offer, in this order."""


@dataclass(frozen=True)
class Choice:
    """One answer an annotator can give: the stored value, its caption, its shortcut key."""

    value: str
    caption: str
    key: str


@dataclass(frozen=True)
class LabelTask:
    """A catalog label task; `values` are strings in the catalog's order (low to high)."""

    name: str
    title: str
    kind: str
    applies_to: tuple[str, ...]
    choices: tuple[Choice, ...]
    scale: str
    guidelines: str
    path: Path

    @property
    def values(self) -> list[str]:
        """The choice values in catalog order."""
        return [choice.value for choice in self.choices]

    @property
    def keys(self) -> dict[str, str]:
        """Shortcut key to choice value."""
        return {choice.key: choice.value for choice in self.choices}

    def check_value(self, value: object) -> str:
        """The value as stored, or a one-sentence error listing the choices."""
        text = str(value)
        if text not in self.values:
            raise WinnowError(
                f"'{value}' is not a choice of label task '{self.name}'; "
                f"use one of: {', '.join(self.values)}."
            )
        return text


def _field(data: dict[str, Any], key: str, path: Path, kind: type) -> Any:
    """A required top-level key of the expected type."""
    value = data.get(key)
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise WinnowError(
            f"{path}: key '{key}' should be a non-empty {kind.__name__}; see catalogs/labels/."
        )
    return value


def _choices(raw: Any, path: Path) -> tuple[Choice, ...]:
    """Parse `choices: [{value, caption, key}]`, refusing repeated values or keys."""
    if not isinstance(raw, list) or len(raw) < 2:
        raise WinnowError(
            f"{path}: key 'choices' should list at least two {{value, caption, key}}."
        )
    choices = []
    for number, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict) or any(
            entry.get(k) is None or str(entry[k]) == "" for k in ("value", "caption", "key")
        ):
            raise WinnowError(
                f"{path}: key 'choices' entry {number} needs a value, a caption and a key."
            )
        choices.append(Choice(str(entry["value"]), str(entry["caption"]), str(entry["key"])))
    for attribute in ("value", "key"):
        seen = [getattr(choice, attribute) for choice in choices]
        if len(set(seen)) != len(seen):
            raise WinnowError(f"{path}: key 'choices' repeats a {attribute}; make each unique.")
    return tuple(choices)


def parse_task(name: str, path: Path) -> LabelTask:
    """Read and check one task file."""
    data = load_yaml(path)
    kind = _field(data, "kind", path, str)
    if kind not in KINDS:
        raise WinnowError(f"{path}: key 'kind' is '{kind}'; use one of: {', '.join(KINDS)}.")
    scale = data.get("scale", "nominal")
    if scale not in SCALES:
        raise WinnowError(f"{path}: key 'scale' is '{scale}'; use one of: {', '.join(SCALES)}.")
    applies_to = data.get("applies_to", list(KINDS[kind]))
    if not isinstance(applies_to, list) or not all(isinstance(k, str) for k in applies_to):
        raise WinnowError(f"{path}: key 'applies_to' should list dataset kinds, e.g. [instruct].")
    choices = _choices(data.get("choices"), path)
    if kind == "pairwise" and tuple(c.value for c in choices) != PAIRWISE_VALUES:
        raise WinnowError(f"{path}: key 'choices' of a pairwise task must be the values A, B, tie.")
    if scale == "interval":
        for choice in choices:
            try:
                float(choice.value)
            except ValueError:
                raise WinnowError(
                    f"{path}: key 'choices' value '{choice.value}' is not a number, "
                    "which scale interval needs; use ordinal or nominal."
                ) from None
    return LabelTask(
        name=name,
        title=_field(data, "title", path, str),
        kind=kind,
        applies_to=tuple(applies_to),
        choices=choices,
        scale=scale,
        guidelines=_field(data, "guidelines", path, str).strip(),
        path=path,
    )


def load_tasks() -> dict[str, LabelTask]:
    """Every label task in the catalog folders, by name."""
    return {name: parse_task(name, path) for name, path in list_entries("labels").items()}


def load_task(name: str) -> LabelTask:
    """One task by name, or an error listing the tasks there are."""
    tasks = load_tasks()
    if name not in tasks:
        known = ", ".join(tasks) or "none"
        raise WinnowError(
            f"no label task '{name}'; tasks: {known} (add one in catalogs/labels/{name}.yaml)."
        )
    return tasks[name]
