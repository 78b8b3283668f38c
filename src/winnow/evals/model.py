"""The model an eval run scores: where it is, how lm-eval loads it, its fingerprint, lineage
and chat template, so that two scores can be traced to exactly what was scored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xxhash

from winnow.errors import WinnowError
from winnow.records import file_hash
from winnow.train.models import Base, load_tokenizer, offline, resolve_base, template_hash
from winnow.workspace import Workspace

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".json", ".jinja", ".model")
"""Files of a model folder whose bytes make up its fingerprint."""


def resolve_model(arg: str, ws: Workspace) -> Base:
    """--model as a run, folder, .gguf file or hub id; offline hub ids must be cached."""
    if arg == "tiny":
        raise WinnowError("--model tiny: tiny is untrained; train it first and pass the run name.")
    base = resolve_base(arg, ws, option="--model")
    if base.kind == "hub" and offline() and not hub_cached(arg):
        raise WinnowError(
            f"--model {arg}: a hub id, but the hub is off (HF_HUB_OFFLINE=1) and it is not in "
            "the local cache; download it once online, or give a run, a folder or a .gguf file."
        )
    return base


def hub_cached(repo: str) -> bool:
    """Whether a hub model's config is in the local cache."""
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo, "config.json"), str)


def model_args(base: Base, dtype: str) -> str:
    """lm-eval's `model_args` string for the hf model type."""
    args = f"pretrained={base.path},dtype={dtype}"
    return f"{args},gguf_file={base.gguf_file}" if base.gguf_file else args


def fingerprint(base: Base) -> str:
    """xxh3 over the model's files (a GGUF's bytes, a folder's weights and configs); a hub
    id's cached revision, else the id itself."""
    if base.gguf_file:
        return file_hash(Path(base.path) / base.gguf_file)
    folder = Path(base.path)
    if base.kind == "hub":
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(base.path, "config.json")
        return Path(found).parent.name if isinstance(found, str) else base.path
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
    parts = "|".join(f"{p.name}:{file_hash(p)}" for p in files)
    return xxhash.xxh3_64_hexdigest(parts.encode())


def model_record(base: Base) -> dict[str, Any]:
    """What an eval run records about its model: the base record (with a run's lineage), its
    fingerprint, and the tokenizer's chat-template hash and EOS."""
    tokenizer = load_tokenizer(base)
    return {
        **base.record(),
        "fingerprint": fingerprint(base),
        "chat_template_hash": template_hash(tokenizer),
        "eos_token": tokenizer.eos_token,
    }
