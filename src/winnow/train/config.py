"""Job configs: one dataclass per training method, filled from a catalogs/jobs YAML and overrides.

Precedence, lowest first: the dataclass defaults, the job YAML (`--config NAME|PATH`), then
command-line options and `--set KEY=VALUE`. Every key is checked against the method's fields
and converted to the field's type, so a typo or a wrong type is one clear line.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from winnow.catalogs import find_entry, list_entries, load_yaml
from winnow.errors import WinnowError

LORA_MODES = ("none", "lora", "qlora")
"""Adapter modes: full fine-tuning, LoRA through peft, or LoRA on a 4-bit base (QLoRA)."""


@dataclass
class JobConfig:
    """Settings every trained method shares (TrainingArguments underneath)."""

    method: ClassVar[str] = ""
    base: str = "tiny"
    data: str = ""
    output: str = ""
    max_rows: int | None = None
    max_steps: int = 50
    learning_rate: float = 5e-4
    batch_size: int = 8
    grad_accum: int = 1
    max_length: int = 512
    warmup_ratio: float = 0.0
    weight_decay: float = 0.0
    scheduler: str = "linear"
    seed: int = 0
    eval_fraction: float = 0.0
    logging_steps: int = 5
    save_steps: int = 25
    chat_template: str | None = None
    lora: str = "none"
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])
    tiny_params: int = 1_000_000
    tiny_vocab: int = 2_048

    def check(self) -> None:
        """Refuse settings no run could use, before anything is loaded."""
        if not self.data:
            raise WinnowError(f"train {self.method}: no --data; give a dataset NAME or NAME@vN.")
        if not self.output:
            raise WinnowError(f"train {self.method}: no --output; give a run name.")
        for key in ("max_steps", "batch_size", "grad_accum", "max_length", "logging_steps"):
            if getattr(self, key) < 1:
                raise WinnowError(f"{key} {getattr(self, key)}: must be 1 or more.")
        if self.max_rows is not None and self.max_rows < 1:
            raise WinnowError(f"max_rows {self.max_rows}: must be 1 or more, or left out.")
        if not 0.0 <= self.eval_fraction < 1.0:
            raise WinnowError(f"eval_fraction {self.eval_fraction}: must be in [0, 1).")
        if self.lora not in LORA_MODES:
            raise WinnowError(f"lora '{self.lora}': use one of {', '.join(LORA_MODES)}.")


@dataclass
class PretrainConfig(JobConfig):
    """Causal-LM pretraining on a text dataset, packed into max_length blocks."""

    method: ClassVar[str] = "pretrain"
    max_length: int = 256
    eval_fraction: float = 0.05


@dataclass
class SftConfig(JobConfig):
    """Supervised fine-tuning on an instruction set, loss on answer tokens only."""

    method: ClassVar[str] = "sft"
    packing: bool = False
    preview_rows: int = 2


@dataclass
class DpoConfig(JobConfig):
    """Direct preference optimisation on a preference set."""

    method: ClassVar[str] = "dpo"
    learning_rate: float = 5e-5
    beta: float = 0.1
    loss_type: str = "sigmoid"
    reuse_ref_logps: bool = True


@dataclass
class RewardConfig(JobConfig):
    """A reward model (sequence score) trained on chosen/rejected pairs."""

    method: ClassVar[str] = "reward"
    eval_fraction: float = 0.1


METHODS: dict[str, type[JobConfig]] = {
    c.method: c for c in (PretrainConfig, SftConfig, DpoConfig, RewardConfig)
}
"""The config class of each `winnow train` method."""


def field_types(cls: type[JobConfig]) -> dict[str, Any]:
    """Each settable field's resolved type."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def convert(key: str, value: Any, kind: Any, where: str) -> Any:
    """A YAML or command-line value as the field's type, or one clear error."""
    args = typing.get_args(kind)
    if isinstance(kind, types.UnionType) and type(None) in args:
        if value is None:
            return None
        kind = next(a for a in args if a is not type(None))
    if typing.get_origin(kind) is list:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            raise WinnowError(f"{where}: {key} should be a list; write a,b or [a, b].")
        return [str(item).strip() for item in items if str(item).strip()]
    if kind is bool and isinstance(value, bool):
        return value
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise WinnowError(
        f"{where}: {key} is {value!r}, expected {getattr(kind, '__name__', kind)}; fix the value."
    )


def apply(config: JobConfig, values: dict[str, Any], where: str) -> None:
    """Set checked, converted values on a config."""
    kinds = field_types(type(config))
    for key, value in values.items():
        name = key.replace("-", "_")
        if name not in kinds:
            raise WinnowError(
                f"{where}: unknown key '{key}' for train {config.method}; expected one of: "
                f"{', '.join(sorted(kinds))}."
            )
        setattr(config, name, convert(name, value, kinds[name], where))


def parse_sets(pairs: list[str]) -> dict[str, Any]:
    """`--set KEY=VALUE` pairs, each value read as YAML (numbers, true/false, lists)."""
    values = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise WinnowError(f"--set '{pair}': write KEY=VALUE, e.g. --set warmup_ratio=0.1.")
        values[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
    return values


def job_file(name: str) -> Path:
    """The YAML of a job: a path, or a name in catalogs/jobs/."""
    entry = find_entry("jobs", name)
    if entry is None:
        known = ", ".join(list_entries("jobs")) or "none"
        raise WinnowError(f"--config '{name}': no such file or job; catalog jobs: {known}.")
    return entry


def load_config(
    method: str,
    config: str | None,
    options: dict[str, Any],
    sets: list[str],
    start: dict[str, Any] | None = None,
) -> tuple[JobConfig, str | None]:
    """The method's config from defaults (or a resumed run's `start`), the job YAML, options
    (None = not given) and --set."""
    job = METHODS[method]()
    if start:
        apply(job, start, "the resumed run's run.json")
    path = None
    if config:
        entry = job_file(config)
        path = str(entry)
        values = dict(load_yaml(entry))
        declared = values.pop("method", method)
        if declared != method:
            raise WinnowError(
                f"{entry}: is a '{declared}' job, not '{method}'; run winnow train {declared}."
            )
        apply(job, values, str(entry))
    apply(job, {k: v for k, v in options.items() if v is not None}, "command line")
    apply(job, parse_sets(sets), "--set")
    job.check()
    return job, path
