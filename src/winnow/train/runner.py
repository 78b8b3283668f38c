"""One training run from start to finish: check inputs, open the run, load the base, train
with TRL, save the model and record everything in run.json; each method's own steps come from
its Method (see methods.py).

Checks that need no compute (config, data columns, base, resume checkpoint, QLoRA device)
come first, so a bad input costs one line and no training time.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winnow.console import console
from winnow.devices import device_info, peak_gpu_memory, world_size
from winnow.errors import WinnowError
from winnow.train.config import ALL_LINEAR, JobConfig
from winnow.train.data import load_training_set, split
from winnow.train.defaults import (
    gradient_checkpointing,
    learning_rate,
    lora_rank,
    planned_steps,
)
from winnow.train.fits import check_fits, check_vocabulary
from winnow.train.launch.handoff import record_launch
from winnow.train.models import (
    TINY_SPECIALS,
    Base,
    build_tiny,
    dequantized,
    load_causal_lm,
    load_tokenizer,
    pin_chat_template,
    resolve_base,
    template_hash,
)
from winnow.train.ranks import is_main, local_rank, main_first
from winnow.train.runs import RunFolder, now, open_run
from winnow.workspace import Workspace

if TYPE_CHECKING:
    from winnow.train.methods import Method


TINY_TOKENIZER_DOCS = 20_000
"""Documents a tiny base's tokenizer learns from: plenty for its small vocabulary, and a large
corpus is not read twice."""


@dataclass
class Context:
    """What a method's trainer is built from."""

    job: JobConfig
    run: RunFolder
    base: Base
    dataset: Any
    ws: Workspace
    head: str = "causal"
    model: Any = None
    tokenizer: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Prepared:
    """A method's trainer and what it records before training (e.g. SFT's mask counts)."""

    trainer: Any
    data: dict[str, Any]


def trainer_args(job: JobConfig, run: RunFolder, has_eval: bool) -> dict[str, Any]:
    """TrainingArguments shared by every method, from the job and the device."""
    device = run.record["device"]
    return {
        "output_dir": str(run.checkpoints),
        "max_steps": job.max_steps or -1,
        "num_train_epochs": job.epochs,
        "learning_rate": job.learning_rate,
        "activation_checkpointing": bool(job.gradient_checkpointing),
        "per_device_train_batch_size": job.batch_size,
        "per_device_eval_batch_size": job.batch_size,
        "gradient_accumulation_steps": job.grad_accum,
        "warmup_steps": job.warmup_ratio,
        "weight_decay": job.weight_decay,
        "lr_scheduler_type": job.scheduler,
        "seed": job.seed,
        "logging_steps": job.logging_steps,
        "logging_first_step": True,
        "save_steps": job.save_steps,
        "save_total_limit": 2,
        "eval_strategy": "steps" if has_eval else "no",
        "eval_steps": job.save_steps,
        "report_to": "none",
        "disable_tqdm": True,
        "bf16": bool(device["bf16"]),
        "fp16": device["type"] == "cuda" and not device["bf16"],
        "use_cpu": device["type"] == "cpu",
    }


def lora_config(job: JobConfig, model: Any, task: str) -> Any:
    """peft's LoraConfig for the job: `all-linear` (every linear layer but the output head,
    whatever the architecture calls them) or named modules, checked to exist in the model."""
    from peft import LoraConfig

    targets: str | list[str] = list(job.lora_targets)
    if targets == [ALL_LINEAR]:
        targets = ALL_LINEAR
    else:
        names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
        missing = [t for t in targets if t not in names]
        if missing:
            linear = sorted(
                {
                    n.rsplit(".", 1)[-1]
                    for n, m in model.named_modules()
                    if type(m).__name__ in ("Linear", "Conv1D")
                }
            )
            raise WinnowError(
                f"lora_targets {', '.join(missing)}: no such module in {type(model).__name__}; "
                f"its linear layers are {', '.join(linear)} (or use {ALL_LINEAR})."
            )
    return LoraConfig(
        r=job.lora_r,
        lora_alpha=job.lora_alpha,
        lora_dropout=job.lora_dropout,
        target_modules=targets,
        task_type=task,
    )


def build_trainer(
    ctx: Context, trainer_cls: Any, config_cls: Any, task: str, **settings: Any
) -> tuple[Any, Any, Any]:
    """A TRL trainer on the job's data (eval_fraction held out), LoRA when asked for, and the
    (train, held-out) split it got."""
    job = ctx.job
    train, held = split(ctx.dataset, job.eval_fraction, job.seed)
    args = config_cls(
        **trainer_args(job, ctx.run, held is not None), max_length=job.max_length, **settings
    )
    peft = lora_config(job, ctx.model, task) if job.lora != "none" else None
    trainer = trainer_cls(
        model=ctx.model,
        args=args,
        train_dataset=train,
        eval_dataset=held,
        processing_class=ctx.tokenizer,
        peft_config=peft,
    )
    return trainer, train, held


def train_loss(trainer: Any) -> dict[str, Any]:
    """The final average training loss, as the trainer's last log reports it."""
    return {"train_loss": trainer.state.log_history[-1].get("train_loss")}


def last_logged(trainer: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    """The values of `keys` in the last training log that has the first of them."""
    logged = [row for row in trainer.state.log_history if keys[0] in row]
    last = logged[-1] if logged else {}
    return {key: last[key] for key in keys if key in last}


def check_qlora(job: JobConfig) -> None:
    """QLoRA needs CUDA and bitsandbytes; say so before loading anything."""
    if job.lora != "qlora":
        return
    import importlib.util

    import torch

    if not torch.cuda.is_available():
        raise WinnowError(
            "lora qlora: 4-bit loading needs a CUDA GPU and this machine has none; use "
            "--lora lora (or none) on the CPU."
        )
    if importlib.util.find_spec("bitsandbytes") is None:
        raise WinnowError("lora qlora: needs bitsandbytes; pip install bitsandbytes.")


def check_qlora_base(job: JobConfig, base: Base) -> None:
    """QLoRA quantizes a pretrained model's float weights: not a fresh tiny model, not GGUF."""
    if job.lora == "qlora" and base.kind in ("tiny", "gguf"):
        what = "a fresh tiny model" if base.kind == "tiny" else "GGUF weights"
        raise WinnowError(
            f"--base {base.ref}: lora qlora loads a pretrained model in 4 bits, not {what}; "
            "give a model folder, a run or a hub id, or use --lora lora."
        )


def compute_dtype(device: dict[str, Any]) -> Any:
    """bf16 on a GPU that has it, else fp16: QLoRA's compute and stored dtype."""
    import torch

    return torch.bfloat16 if device["bf16"] else torch.float16


def quantization(job: JobConfig, device: dict[str, Any]) -> dict[str, Any]:
    """from_pretrained's settings for QLoRA (4-bit NF4 with double quantization, as the paper
    has it, computing in `compute_dtype`, on this process's GPU), else nothing."""
    if job.lora != "qlora":
        return {}
    from transformers import BitsAndBytesConfig

    dtype = compute_dtype(device)
    config = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=dtype,
        bnb_4bit_use_double_quant=True,
        bnb_4bit_quant_storage=dtype,
    )
    return {"quantization_config": config, "dtype": dtype, "device_map": {"": local_rank()}}


def warn_unused(rows: int, used: int, max_length: int) -> None:
    """Say how many rows TRL left out for not fitting max_length (it says nothing itself)."""
    if used < rows:
        console.print(
            f"[yellow]{rows - used:,} of {rows:,} pairs do not fit max_length {max_length} and "
            "are left out; raise --max-length to keep them[/]"
        )


def tiny_base(ctx: Context, ws: Workspace) -> None:
    """Train a BPE tokenizer on the job's data and build a fresh tiny Llama."""
    from winnow.train.tokenizer import TokenizerConfig, train_tokenizer

    job = ctx.job
    folder = ctx.run.path / "tokenizer-trained"
    if not (folder / "tokenizer.json").is_file():
        config = TokenizerConfig(
            "bpe", job.tiny_vocab, special_tokens=list(TINY_SPECIALS), max_docs=TINY_TOKENIZER_DOCS
        )
        train_tokenizer(job.data, config, folder, ws)
    ctx.model, ctx.tokenizer = build_tiny(folder, job.tiny_params, job.max_length, job.seed)


def load_model(base: Base, head: str, **settings: Any) -> Any:
    """The base as a causal LM or a one-score classifier; `settings` go to from_pretrained."""
    if head == "causal":
        return load_causal_lm(base, **settings)
    from transformers import AutoModelForSequenceClassification

    return dequantized(
        AutoModelForSequenceClassification.from_pretrained(
            base.path, num_labels=1, **base.load_args(), **settings
        )
    )


def load_base(ctx: Context, ws: Workspace) -> None:
    """The model (causal LM or a one-score classifier) and tokenizer the job starts from."""
    if ctx.base.kind == "tiny":
        tiny_base(ctx, ws)
        return
    ctx.tokenizer = load_tokenizer(ctx.base)
    ctx.model = load_model(ctx.base, ctx.head, **quantization(ctx.job, ctx.run.record["device"]))
    check_vocabulary(ctx.tokenizer, ctx.model, ctx.base)
    if ctx.model.config.pad_token_id is None:
        ctx.model.config.pad_token_id = ctx.tokenizer.pad_token_id


def parameter_count(model: Any) -> int:
    """The model's parameters, counting each 4-bit packed pair (bitsandbytes) as two."""
    packed = ("Params4bit",)
    return sum(p.numel() * (2 if type(p).__name__ in packed else 1) for p in model.parameters())


def fill_defaults(ctx: Context) -> dict[str, str]:
    """Set the learning rate, gradient checkpointing and LoRA rank and alpha the job left out,
    from the method, adapters, model size and device; return the rule behind each."""
    job, device = ctx.job, ctx.run.record["device"]
    size = parameter_count(ctx.model)
    rules = {}
    if job.learning_rate is None:
        job.learning_rate, rules["learning_rate"] = learning_rate(job.method, job.lora, size)
    if job.gradient_checkpointing is None:
        job.gradient_checkpointing = gradient_checkpointing(job.lora, size, device)
        rules["gradient_checkpointing"] = f"{device['type']}, {job.lora}, {size:,} parameters"
    if job.lora_r is None:
        job.lora_r = lora_rank(size)
        rules["lora_r"] = f"{size:,} parameters"
    if job.lora_alpha is None:
        job.lora_alpha = 2 * job.lora_r
        rules["lora_alpha"] = "twice the rank"
    return rules


def model_record(model: Any) -> dict[str, Any]:
    """Architecture and parameter counts."""
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {
        "architecture": type(model).__name__,
        "parameters": params,
        "trainable_parameters": trainable,
        "config": {
            k: getattr(model.config, k, None)
            for k in ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size")
        },
    }


def tokenizer_record(tokenizer: Any) -> dict[str, Any]:
    """The pinned chat template (hash and text), EOS and pad tokens, vocabulary size."""
    return {
        "chat_template_hash": template_hash(tokenizer),
        "chat_template": tokenizer.chat_template,
        "eos_token": tokenizer.eos_token,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token": tokenizer.pad_token,
        "vocab_size": len(tokenizer),
    }


def merged(model: Any, ctx: Context) -> Any:
    """The LoRA adapters merged into their base: in place, or for QLoRA into the base reloaded
    in its compute dtype (merging into 4-bit weights would round the adapters away)."""
    if ctx.job.lora != "qlora":
        return model.merge_and_unload()
    return merge_adapters(ctx, compute_dtype(ctx.run.record["device"]))


def merge_adapters(ctx: Context, dtype: Any) -> Any:
    """The base loaded in `dtype` with the run's saved adapters merged into it."""
    from peft import PeftModel

    plain = load_model(ctx.base, ctx.head, dtype=dtype)
    if plain.config.pad_token_id is None:
        plain.config.pad_token_id = ctx.tokenizer.pad_token_id
    return PeftModel.from_pretrained(plain, str(ctx.run.adapter_dir)).merge_and_unload()


def save_model(trainer: Any, ctx: Context) -> None:
    """LoRA adapters on their own in run/adapter; the finished model (adapters merged in,
    unless the job keeps them apart) and the tokenizer in run/model (run/adapter then)."""
    model = trainer.model
    lora = ctx.job.lora != "none"
    apart = lora and not ctx.job.merge
    if lora and is_main():
        model.save_pretrained(str(ctx.run.adapter_dir))
    if getattr(trainer, "is_fsdp_enabled", False) and not apart:
        # every rank takes part: FSDP gathers the sharded weights before rank 0 writes them
        trainer.save_model(str(ctx.run.model_dir))
    elif is_main() and not apart:
        (merged(model, ctx) if lora else model).save_pretrained(str(ctx.run.model_dir))
    if is_main():
        target = ctx.run.adapter_dir if apart else ctx.run.model_dir
        ctx.tokenizer.save_pretrained(str(target))


def start(
    ws: Workspace, method: Method, job: JobConfig, job_file: str | None, resume: bool
) -> tuple[Context, Path | None]:
    """Checks, the run folder, the base and its pinned chat template; the checkpoint to resume."""
    check_qlora(job)
    with main_first():
        dataset, data_input = load_training_set(ws, job.data, method.data, job.max_rows)
        base = resolve_base(job.base, ws)
        check_qlora_base(job, base)
        device = device_info()
        check_fits(job.method, job.lora, base, device)
        if base.kind == "tiny" and not method.tiny:
            raise WinnowError(
                f"--base tiny: train {job.method} needs a trained base; run winnow train "
                "pretrain (or sft) first and pass --base RUN."
            )
        spec = {
            "config": dataclasses.asdict(job),
            "job_file": job_file,
            "inputs": [data_input],
            "base": base.record(),
            "device": device,
        }
        run, checkpoint = open_run(ws, job.output, job.method, spec, resume)
        ctx = Context(job, run, base, dataset, ws, head=method.head)
        try:
            load_base(ctx, ws)
            if job.method != "pretrain":
                pin_chat_template(ctx.tokenizer, job.chat_template, base)
            ctx.extra["defaults"] = fill_defaults(ctx)
        except BaseException as exc:
            run.fail(exc)
            raise
    return ctx, checkpoint


def execute(
    ws: Workspace, method: Method, job: JobConfig, job_file: str | None, resume: bool
) -> RunFolder:
    """Run one job: start it, build the trainer, train, save the model, record the results
    (and, on a rank of --launcher accelerate, the launch it runs under)."""
    from transformers import PrinterCallback

    from winnow.train.callbacks import MetricsLog

    ctx, checkpoint = start(ws, method, job, job_file, resume)
    run = ctx.run
    try:
        record_launch(run)
        steps = importlib.import_module(method.steps)
        prepared = steps.prepare(ctx)
        rows = len(prepared.trainer.train_dataset)
        run.update(
            config=dataclasses.asdict(job),
            defaults=ctx.extra["defaults"],
            planned_steps=planned_steps(job, rows, world_size()),
            tokenizer=tokenizer_record(ctx.tokenizer),
            model=model_record(prepared.trainer.model),
            data=prepared.data,
        )
        prepared.trainer.remove_callback(PrinterCallback)
        prepared.trainer.add_callback(MetricsLog(run.metrics_path))
        prepared.trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        results = steps.finish(ctx, prepared.trainer) | peak_gpu_memory()
        save_model(prepared.trainer, ctx)
        run.update(status="completed", finished_at=now(), results=results)
    except BaseException as exc:
        run.fail(exc)
        raise
    return run
