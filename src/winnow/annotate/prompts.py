"""Annotation prompts from `catalogs/prompts/*.yaml` (or a YAML file): the template, the score
scale and the rule that reads the score out of a reply."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import xxhash

from winnow.catalogs import find_entry, list_entries, load_yaml
from winnow.errors import WinnowError

REQUIRED = ("title", "scale", "pattern", "template")
"""Keys every prompt file has."""


@dataclass(frozen=True)
class AnnotationPrompt:
    """A prompt, its 0-5 (or other) scale, and how a reply's score is found.

    The score is the last match of `pattern` (case-insensitive) in the reply, read as a whole
    number, which must lie within `scale`; the document is cut to `max_chars` characters
    before it is put into `template` at `{text}`.
    """

    name: str
    title: str
    language: str
    scale: tuple[int, int]
    pattern: str
    template: str
    max_chars: int
    max_new_tokens: int
    path: str

    @property
    def hash(self) -> str:
        """What identifies the prompt in caches and lineage: everything but its name and path."""
        fields = {k: v for k, v in asdict(self).items() if k not in ("name", "path")}
        return xxhash.xxh64_hexdigest(json.dumps(fields, sort_keys=True).encode())

    def render(self, text: str) -> str:
        """The prompt for one document (cut to max_chars)."""
        return self.template.replace("{text}", text[: self.max_chars])

    def record(self) -> dict[str, Any]:
        """What a manifest says about the prompt."""
        return {"name": self.name, "path": self.path, "hash": self.hash, **asdict(self)}


def _scale(value: Any, path: Path) -> tuple[int, int]:
    """The [low, high] scale of a prompt file, checked."""
    ok = isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)
    if not ok or value[0] >= value[1]:
        raise WinnowError(f"{path}: key 'scale' must be [low, high] whole numbers, e.g. [0, 5].")
    return value[0], value[1]


def parse_prompt(name: str, path: Path) -> AnnotationPrompt:
    """Read and check one prompt file."""
    data = load_yaml(path)
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise WinnowError(
            f"{path}: missing key {', '.join(missing)}; a prompt needs {', '.join(REQUIRED)}."
        )
    try:
        compiled = re.compile(str(data["pattern"]), re.IGNORECASE)
    except re.error as exc:
        raise WinnowError(f"{path}: key 'pattern' is not a regular expression ({exc}).") from exc
    if compiled.groups != 1:
        raise WinnowError(f"{path}: key 'pattern' must have one group that captures the score.")
    if "{text}" not in str(data["template"]):
        raise WinnowError(f"{path}: key 'template' must contain {{text}} where the document goes.")
    limits = {
        "max_chars": data.get("max_chars", 3000),
        "max_new_tokens": data.get("max_new_tokens", 160),
    }
    for key, value in limits.items():
        if type(value) is not int or value < 1:
            raise WinnowError(f"{path}: key '{key}' must be a whole number of at least 1.")
    return AnnotationPrompt(
        name=name,
        title=str(data["title"]),
        language=str(data.get("language", "en")),
        scale=_scale(data["scale"], path),
        pattern=str(data["pattern"]),
        template=str(data["template"]),
        max_chars=limits["max_chars"],
        max_new_tokens=limits["max_new_tokens"],
        path=str(path),
    )


def load_prompt(arg: str) -> AnnotationPrompt:
    """A prompt by catalog name or YAML path; one sentence listing the names when unknown."""
    path = find_entry("prompts", arg)
    if path is None:
        known = ", ".join(sorted(list_entries("prompts"))) or "none"
        raise WinnowError(
            f"--prompt {arg}: no such prompt file or catalog entry; use one of: {known}, or a "
            "YAML file with title, scale, pattern and template."
        )
    name = path.stem if Path(arg).suffix in (".yaml", ".yml") else arg
    return parse_prompt(name, path)
