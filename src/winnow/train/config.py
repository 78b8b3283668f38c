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

from winnow.catalogs import find_entry, list_entries, load_yaml
from winnow.errors import WinnowError
from winnow.train.defaults import LR_HELP

ALL_LINEAR = "all-linear"
"""peft's name for every linear layer but the output head, whatever the architecture."""

LORA_MODES = ("none", "lora", "qlora")
"""Adapter modes: full fine-tuning, LoRA through peft, or LoRA on a 4-bit base (QLoRA)."""


@dataclass
class JobConfig:
    """Settings every trained method shares (TrainingArguments underneath); each field's help
    (and choices) is what the command line and the job form say about it."""

    method: ClassVar[str] = ""
    base: str = field(
        default="tiny",
        metadata={
            "help": "tiny (tokenizer + small Llama built on --data), a run name, a model folder, "
            "a .gguf file, or a hub id (online)."
        },
    )
    data: str = field(default="", metadata={"help": "Dataset NAME or NAME@vN."})
    output: str = field(default="", metadata={"help": "Run name: runs/NAME."})
    max_rows: int | None = field(
        default=None, metadata={"help": "Train on at most the first N rows."}
    )
    max_steps: int | None = field(
        default=None, metadata={"help": "Optimizer steps; when given, it wins over --epochs."}
    )
    epochs: float = field(
        default=1.0,
        metadata={
            "help": "Passes over the training rows (blocks when pretraining) when --max-steps "
            "is left out; fractions allowed."
        },
    )
    learning_rate: float | None = field(default=None, metadata={"help": LR_HELP})
    batch_size: int = field(
        default=8,
        metadata={"help": "Rows per step in each process (per device under a launcher)."},
    )
    grad_accum: int = field(
        default=1, metadata={"help": "Batches whose gradients add up to one optimizer step."}
    )
    max_length: int = field(
        default=512, metadata={"help": "Tokens per sequence (longer ones are cut)."}
    )
    warmup_ratio: float = field(
        default=0.0, metadata={"help": "Share of the steps that warm the learning rate up."}
    )
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})
    scheduler: str = field(
        default="linear",
        metadata={
            "help": "Learning-rate schedule: linear, cosine, constant, ... any transformers offers."
        },
    )
    seed: int = field(
        default=0, metadata={"help": "Seeds the held-out split, the data order and a tiny base."}
    )
    eval_fraction: float = field(
        default=0.0, metadata={"help": "Share of the rows held out for eval loss, in [0, 1)."}
    )
    logging_steps: int = field(
        default=5, metadata={"help": "Steps between lines of metrics.jsonl."}
    )
    save_steps: int = field(
        default=25, metadata={"help": "Steps between checkpoints (and held-out evals)."}
    )
    chat_template: str | None = field(
        default=None,
        metadata={"help": "chatml or a Jinja file; needed when the base's tokenizer has none."},
    )
    lora: str = field(
        default="none",
        metadata={
            "help": "none, lora (peft adapters, merged at the end) or qlora (4-bit, CUDA).",
            "choices": LORA_MODES,
        },
    )
    merge: bool = field(
        default=True,
        metadata={
            "help": "With lora or qlora: merge the adapters into run/model at the end; "
            "--no-merge keeps only run/adapter (merge later with winnow train merge RUN)."
        },
    )
    lora_r: int | None = field(
        default=None,
        metadata={
            "help": "Rank of the LoRA adapters; left out, by model size: 8 under 1B parameters, "
            "16 under 10B, 64 above (QLoRA's rank for large models)."
        },
    )
    lora_alpha: int | None = field(
        default=None, metadata={"help": "LoRA scaling (alpha); left out, twice the rank."}
    )
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA adapters."})
    lora_targets: list[str] = field(
        default_factory=lambda: [ALL_LINEAR],
        metadata={
            "help": "Modules that get adapters: all-linear (every linear layer but the output "
            "head, as QLoRA does, for any architecture) or names such as q_proj,v_proj."
        },
    )
    gradient_checkpointing: bool | None = field(
        default=None,
        metadata={
            "help": "Recompute activations in the backward pass to save GPU memory; left out: "
            "on for QLoRA and for models of 1B+ parameters on a GPU, off on the CPU."
        },
    )
    tiny_params: int = field(
        default=1_000_000, metadata={"help": "Parameter budget of a tiny base."}
    )
    tiny_vocab: int = field(
        default=2_048, metadata={"help": "Vocabulary size of a tiny base's tokenizer."}
    )

    def check(self) -> None:
        """Refuse settings no run could use, before anything is loaded."""
        if not self.data:
            raise WinnowError(f"train {self.method}: no --data; give a dataset NAME or NAME@vN.")
        if not self.output:
            raise WinnowError(f"train {self.method}: no --output; give a run name.")
        for key in ("batch_size", "grad_accum", "max_length", "logging_steps"):
            if getattr(self, key) < 1:
                raise WinnowError(f"{key} {getattr(self, key)}: must be 1 or more.")
        for key in ("max_rows", "max_steps", "lora_r", "lora_alpha"):
            if getattr(self, key) is not None and getattr(self, key) < 1:
                raise WinnowError(f"{key} {getattr(self, key)}: must be 1 or more, or left out.")
        if self.epochs <= 0:
            raise WinnowError(f"epochs {self.epochs}: must be above 0.")
        if self.learning_rate is not None and self.learning_rate <= 0:
            raise WinnowError(
                f"learning_rate {self.learning_rate}: must be above 0, or left out for the "
                "default by method and model size."
            )
        if not 0.0 <= self.eval_fraction < 1.0:
            raise WinnowError(f"eval_fraction {self.eval_fraction}: must be in [0, 1).")
        for found in dataclasses.fields(self):
            choices = found.metadata.get("choices")
            value = getattr(self, found.name)
            if choices and value not in choices:
                raise WinnowError(f"{found.name} '{value}': use one of {', '.join(choices)}.")


def redefault(name: str, default: Any) -> Any:
    """A JobConfig field with another default for one method, its help and choices kept."""
    return field(default=default, metadata=JobConfig.__dataclass_fields__[name].metadata)


@dataclass
class PretrainConfig(JobConfig):
    """Causal-LM pretraining on a text dataset, packed into max_length blocks."""

    method: ClassVar[str] = "pretrain"
    max_length: int = redefault("max_length", 256)
    eval_fraction: float = redefault("eval_fraction", 0.05)
    workers: int = field(
        default=1,
        metadata={
            "help": "Processes that tokenize the text into the token cache (done once per "
            "dataset and tokenizer, then reused by every run)."
        },
    )

    def check(self) -> None:
        """The shared checks, and at least one tokenizing process."""
        super().check()
        if self.workers < 1:
            raise WinnowError(f"workers {self.workers}: must be 1 or more.")


@dataclass
class SftConfig(JobConfig):
    """Supervised fine-tuning on an instruction set, loss on answer tokens only."""

    method: ClassVar[str] = "sft"
    packing: bool | None = field(
        default=None,
        metadata={
            "help": "Pack rows into max-length bins (best fit); each bin's rows stay masked "
            "from each other. Left out: on when the median row (chat template applied, the "
            "first 256 rows) is at most half of --max-length, so bins hold two rows or more."
        },
    )
    preview_rows: int = field(
        default=2, metadata={"help": "Rows whose loss mask is shown before training."}
    )


@dataclass
class DpoConfig(JobConfig):
    """Direct preference optimisation on a preference set."""

    method: ClassVar[str] = "dpo"
    beta: float = field(default=0.1, metadata={"help": "Strength of the pull to the reference."})
    loss_type: str = field(
        default="sigmoid",
        metadata={"help": "sigmoid (DPO), ipo, hinge, robust, ... any TRL offers."},
    )
    reuse_ref_logps: bool = field(
        default=True,
        metadata={
            "help": "Compute the reference log-probs once per data and base and reuse them in "
            "later runs."
        },
    )


@dataclass
class KtoConfig(JobConfig):
    """KTO: preference-tune on answers labelled desirable or undesirable, no pairs needed."""

    method: ClassVar[str] = "kto"
    beta: float = field(default=0.1, metadata={"help": "Strength of the pull to the reference."})
    desirable_weight: float = field(
        default=1.0, metadata={"help": "Weight of the desirable answers' losses."}
    )
    undesirable_weight: float = field(
        default=1.0,
        metadata={
            "help": "Weight of the undesirable answers' losses; the KTO paper keeps desirable "
            "weight x desirable rows / (undesirable weight x undesirable rows) in [1, 4/3]."
        },
    )

    def check(self) -> None:
        """The shared checks, and a batch of two or more (KTO's KL estimate needs one)."""
        super().check()
        if self.batch_size < 2:
            raise WinnowError(
                f"batch_size {self.batch_size}: KTO estimates its KL term across a batch, so it "
                "needs 2 or more rows per batch."
            )


@dataclass
class OrpoConfig(JobConfig):
    """ORPO: supervised loss on the chosen answer plus an odds-ratio penalty on the rejected
    one, in one stage and without a reference model."""

    method: ClassVar[str] = "orpo"
    beta: float = field(
        default=0.1, metadata={"help": "Weight of the odds-ratio term (the paper's lambda)."}
    )


@dataclass
class RewardConfig(JobConfig):
    """A reward model (sequence score) trained on chosen/rejected pairs."""

    method: ClassVar[str] = "reward"
    eval_fraction: float = redefault("eval_fraction", 0.1)


def field_help(kind: type[JobConfig], name: str) -> str:
    """What the command line and the job form say about a field."""
    return kind.__dataclass_fields__[name].metadata["help"]


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
    import yaml

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
    kind: type[JobConfig],
    config: str | None,
    options: dict[str, Any],
    sets: list[str],
    start: dict[str, Any] | None = None,
) -> tuple[JobConfig, str | None]:
    """The method's config from defaults (or a resumed run's `start`), the job YAML, options
    (None = not given) and --set."""
    job, method = kind(), kind.method
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
