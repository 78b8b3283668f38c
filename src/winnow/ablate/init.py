"""The models every arm starts from: one tokenizer for the whole ablation and one initial
model per seed, saved once, so that two recipes trained with the same seed start from the
very same weights and differ only in their data."""

from __future__ import annotations

import shutil
from pathlib import Path

from winnow.errors import WinnowError
from winnow.files import save_model_folder
from winnow.workspace import Workspace

TOKENIZER_DOCS = 20_000
"""Documents of the first arm's dataset the shared tiny tokenizer is trained on."""


def shared_tokenizer(ws: Workspace, folder: Path, dataset: str, vocab: int) -> Path:
    """A byte-level BPE tokenizer trained once on the first arm's dataset (every arm reads
    text through it; bits per byte do not depend on it)."""
    from winnow.train.models import TINY_SPECIALS
    from winnow.train.tokenizer import TokenizerConfig, train_tokenizer

    target = folder / "tokenizer"
    if not (target / "tokenizer.json").is_file():
        shutil.rmtree(target, ignore_errors=True)
        config = TokenizerConfig(
            "bpe", vocab, special_tokens=list(TINY_SPECIALS), max_docs=TOKENIZER_DOCS
        )
        train_tokenizer(dataset, config, target, ws)
    return target


def initial_model(
    model: str, folder: Path, tokenizer: Path | None, seed: int, params: int, max_length: int
) -> Path:
    """The folder every arm of this seed starts from: a fresh tiny Llama, or a model folder's
    architecture freshly initialised (its own weights, when it has them, for every seed)."""
    import torch

    target = folder / "init" / f"seed-{seed}"
    if (target / "config.json").is_file():
        return target
    if model != "tiny" and has_weights(Path(model)):
        return Path(model).resolve()
    if model == "tiny":
        from winnow.train.models import build_tiny

        network, tok = build_tiny(tokenizer or folder, params, max_length, seed)
    else:
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(model)
        torch.manual_seed(seed)
        network = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(model))
    save_model_folder(network, tok, target)
    return target


def has_weights(folder: Path) -> bool:
    """Whether a model folder holds weights (else only its architecture is used)."""
    return any(folder.glob("*.safetensors")) or any(folder.glob("*.bin"))


def check_model(model: str) -> None:
    """--model is tiny or a folder with config.json and tokenizer files."""
    if model == "tiny":
        return
    folder = Path(model)
    if not (folder / "config.json").is_file() or not (folder / "tokenizer.json").is_file():
        raise WinnowError(
            f"--model {model}: not tiny nor a model folder with config.json and tokenizer.json; "
            "give tiny, or a folder (its architecture, and its weights when it has them)."
        )
