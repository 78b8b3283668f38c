"""A GGUF file turned once into a model folder in winnow's cache: transformers parses and
de-quantizes a GGUF on every load (about 40 s for SmolLM2-135M on a laptop CPU), while the
folder it makes loads in under a second with the very same float32 weights, config and
tokenizer, so every eval after the first skips that cost and scores the same."""

from __future__ import annotations

from pathlib import Path

from winnow.files import save_model_folder
from winnow.numba_cache import cache_root
from winnow.train.models import Base


def gguf_cache(fingerprint: str) -> Path:
    """Where the folder of the GGUF with this fingerprint lives ($WINNOW_CACHE/gguf/...)."""
    return Path(cache_root()) / "gguf" / fingerprint


def loadable(base: Base, fingerprint: str) -> Base:
    """The base lm-eval loads: a GGUF's cached folder (made on first use); others as given."""
    if not base.gguf_file:
        return base
    folder = gguf_cache(fingerprint)
    if not folder.is_dir():
        convert(Path(base.path) / base.gguf_file, folder)
    return Base("folder", base.ref, str(folder), run=base.run)


def convert(gguf: Path, folder: Path) -> None:
    """Load the GGUF as lm-eval would (float32, its own tokenizer) and save both into a
    temporary folder that is renamed into place whole, so a crash or a second process
    never leaves a half-written folder behind."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    model.hf_quantizer = None  # the weights are de-quantized already: save them as they are
    del model.config.quantization_config
    save_model_folder(model, tokenizer, folder)
