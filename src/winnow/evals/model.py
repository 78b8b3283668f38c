"""The model an eval run scores: where it is, how lm-eval loads it, its fingerprint, lineage
and chat template, so that two scores can be traced to exactly what was scored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xxhash

from winnow.errors import WinnowError
from winnow.records import file_hash
from winnow.train.models import (
    Base,
    chat_template_hash,
    load_tokenizer,
    offline,
    resolve_base,
)
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


def gguf_chat_facts(path: Path) -> tuple[str | None, str | None]:
    """A GGUF's chat template and EOS token read from its metadata: the same values as the
    tokenizer transformers converts from it, in a fifth of the time."""
    from gguf import GGUFReader

    fields = GGUFReader(path).fields

    def text(field: Any, index: int = 0) -> str:
        return bytes(field.parts[field.data[index]]).decode("utf-8")

    template = (
        text(fields["tokenizer.chat_template"]) if "tokenizer.chat_template" in fields else None
    )
    eos = None
    if "tokenizer.ggml.eos_token_id" in fields and "tokenizer.ggml.tokens" in fields:
        eos_id = int(fields["tokenizer.ggml.eos_token_id"].parts[-1][0])
        eos = text(fields["tokenizer.ggml.tokens"], eos_id)
    return template, eos


def model_record(base: Base) -> dict[str, Any]:
    """What an eval run records about its model: the base record (with a run's lineage), its
    fingerprint, and the tokenizer's chat-template hash and EOS."""
    if base.gguf_file:
        template, eos = gguf_chat_facts(Path(base.path) / base.gguf_file)
    else:
        tokenizer = load_tokenizer(base)
        template, eos = tokenizer.chat_template, tokenizer.eos_token
    return {
        **base.record(),
        "fingerprint": fingerprint(base),
        "chat_template_hash": chat_template_hash(template),
        "eos_token": eos,
    }
