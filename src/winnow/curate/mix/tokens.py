"""Token counting for a mix's budget: a tokenizer when given, else characters/4."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from winnow.errors import WinnowError

CHARS_RULE = "tokens estimated as characters/4 (rounded up per document); pass --tokenizer to count"
"""How tokens are counted when no tokenizer is given, stated in every manifest that uses it."""

ENCODE_ROWS = 1_000
"""Texts a tokenizer encodes at once: its encodings of a whole shard would not fit in memory."""


@dataclass
class TokenCounter:
    """Counts each document's tokens with a tokenizer, or estimates them as characters/4."""

    rule: str
    encode: Callable[[list[str]], list[int]] | None = None

    def count(self, texts: pl.Series) -> np.ndarray:
        """Tokens of every text, as an int64 array."""
        if self.encode is None:
            return ((texts.str.len_chars() + 3) // 4).to_numpy().astype(np.int64)
        counts: list[int] = []
        for start in range(0, texts.len(), ENCODE_ROWS):
            counts += self.encode(texts.slice(start, ENCODE_ROWS).to_list())
        return np.asarray(counts, dtype=np.int64)


def _fast_encoder(tokenizer: Any) -> Callable[[list[str]], list[int]]:
    """Token counts from a `tokenizers.Tokenizer`, without truncation, padding or specials."""
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def encode(texts: list[str]) -> list[int]:
        encoded = tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        return [len(e.ids) for e in encoded]

    return encode


def _open_tokenizer(path: Path) -> tuple[Callable[[list[str]], list[int]], str]:
    """An encoder and a description for a tokenizer.json, a GPT-2 style folder or a HF folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    if path.is_dir() and (path / "tokenizer.json").is_file():
        path = path / "tokenizer.json"
    if path.is_file():
        tokenizer = Tokenizer.from_file(str(path))
        return _fast_encoder(tokenizer), f"tokenizers {path.name}"
    vocab = [path / n for n in ("vocab.json", "encoder.json") if (path / n).is_file()]
    merges = [path / n for n in ("merges.txt", "vocab.bpe") if (path / n).is_file()]
    if vocab and merges:
        bpe = Tokenizer(models.BPE.from_file(str(vocab[0]), str(merges[0])))
        bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        return _fast_encoder(bpe), f"byte-level BPE {vocab[0].name} + {merges[0].name}"
    from transformers import AutoTokenizer

    auto = AutoTokenizer.from_pretrained(str(path), local_files_only=True)

    def encode(texts: list[str]) -> list[int]:
        return [len(ids) for ids in auto(texts, add_special_tokens=False)["input_ids"]]

    return encode, f"transformers {type(auto).__name__}"


def load_counter(path: str | None) -> TokenCounter:
    """The token counter for --tokenizer PATH, or the characters/4 estimate without it."""
    if path is None:
        return TokenCounter(CHARS_RULE)
    target = Path(path).expanduser()
    if not target.exists():
        raise WinnowError(
            f"--tokenizer {path}: no such file or folder; give a tokenizer.json file or a "
            "folder holding one."
        )
    try:
        encode, what = _open_tokenizer(target)
        encode(["a check that the tokenizer runs"])
    except Exception as exc:  # tokenizers and transformers raise many kinds; all mean 'unusable'
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WinnowError(
            f"--tokenizer {path}: could not be loaded ({reason}); give a tokenizer.json, a "
            "folder with one, a GPT-2 folder (vocab.json/encoder.json + merges.txt/vocab.bpe) "
            "or a folder transformers' AutoTokenizer loads."
        ) from exc
    return TokenCounter(f"tokens counted with {what} from {target.resolve()}", encode)
