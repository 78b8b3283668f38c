"""`winnow train merge RUN`: a LoRA or QLoRA run trained with --no-merge gets its adapters
merged into its base, as the run would have done at the end, and run/model written."""

from __future__ import annotations

from pathlib import Path

from winnow.devices import device_info
from winnow.errors import WinnowError
from winnow.files import read_json
from winnow.train.config import load_config
from winnow.train.methods import METHODS
from winnow.train.models import resolve_base
from winnow.train.runner import Context, compute_dtype, merge_adapters
from winnow.train.runs import RunFolder
from winnow.workspace import Workspace


def merge_run(ws: Workspace, name: str) -> Path:
    """Merge run NAME's saved adapters into its recorded base; the model folder written."""
    from transformers import AutoTokenizer

    folder = RunFolder(ws.root / "runs" / name, {})
    if not (folder.path / "run.json").is_file():
        raise WinnowError(f"run '{name}': no such run in {ws.root / 'runs'}.")
    folder.record = read_json(folder.path / "run.json")
    if not (folder.adapter_dir / "adapter_config.json").is_file():
        raise WinnowError(
            f"run '{name}': no adapters in {folder.adapter_dir}; only a finished --lora or "
            "--lora qlora run has some to merge."
        )
    if (folder.model_dir / "config.json").is_file():
        raise WinnowError(f"run '{name}': already merged into {folder.model_dir}.")
    method = METHODS[folder.record["method"]]
    job, _ = load_config(method.config, None, {}, [], start=folder.record["config"])
    device = device_info()
    folder.record["device"] = device
    base = resolve_base(folder.record["base"]["ref"], ws)
    ctx = Context(job, folder, base, None, ws, head=method.head)
    ctx.tokenizer = AutoTokenizer.from_pretrained(folder.adapter_dir)
    dtype = compute_dtype(device) if device["type"] == "cuda" else None
    merge_adapters(ctx, dtype).save_pretrained(str(folder.model_dir))
    ctx.tokenizer.save_pretrained(str(folder.model_dir))
    record = read_json(folder.path / "run.json")
    RunFolder(folder.path, {**record, "merged": True}).save()
    return folder.model_dir
