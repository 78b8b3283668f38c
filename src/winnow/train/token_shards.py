"""Pretraining text as packed token shards: a dataset version is tokenized once per tokenizer
into flat binary files of token ids (one per kept Parquet file, each document followed by EOS)
with an index of document lengths, as nanoGPT and Megatron store theirs; every later run on
the same data and tokenizer reads them. Training streams fixed-length blocks from the files
with positioned reads, so memory does not grow with the corpus.

The cache lives in WORKSPACE/cache/token-shards/FINGERPRINT-TOKENIZERHASH/. A shard counts as
done only once its `.json` is written (after its `.bin` and `.idx.npy` were renamed into
place), and the whole set only once `index.json` is: an interrupted tokenization resumes at
the first shard without one, and no later run trusts a half-written file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from winnow.files import read_json, remove, write_json, writing
from winnow.workspace import DatasetVersion, Workspace

INDEX_SUFFIX = ".idx.npy"
"""A shard's document-length index: STEM.bin's lengths in STEM.idx.npy."""

BATCH_ROWS = 1_000
"""Documents tokenized per call: large enough for the fast tokenizer's batching, small
enough that a batch of long web pages stays a few megabytes."""


@dataclass
class ShardSet:
    """A finished token cache: its folder, the token dtype and its shards' meta records."""

    folder: Path
    dtype: str
    shards: list[dict[str, Any]]

    @property
    def tokens(self) -> int:
        """Tokens over all shards."""
        return sum(s["tokens"] for s in self.shards)

    @property
    def documents(self) -> int:
        """Documents over all shards."""
        return sum(s["documents"] for s in self.shards)

    def lengths(self, n: int) -> np.ndarray:
        """Shard n's document lengths in tokens (its STEM.idx.npy)."""
        return np.load(self.folder / self.shards[n]["name"].replace(".bin", INDEX_SUFFIX))


def tokenizer_hash(tokenizer: Any) -> str:
    """xxh64 of what decides the ids: the fast tokenizer's full definition and its EOS id."""
    text = tokenizer.backend_tokenizer.to_str() + f"\neos={tokenizer.eos_token_id}"
    return xxhash.xxh64_hexdigest(text.encode())


def token_dtype(tokenizer: Any) -> str:
    """uint16 when every id fits (vocabularies under 65,536), else uint32."""
    return "uint16" if len(tokenizer) <= 2**16 else "uint32"


def cache_folder(ws: Workspace, version: DatasetVersion, tokenizer: Any) -> Path:
    """Where this dataset version's tokens under this tokenizer are kept."""
    name = f"{version.manifest['fingerprint']}-{tokenizer_hash(tokenizer)}"
    return ws.root / "cache" / "token-shards" / name


def document_ids(tokenizer: Any, texts: list[str], eos: int) -> list[list[int]]:
    """Each text's ids as the fast tokenizer makes them with its special tokens (its BOS
    included), ending in EOS."""
    ids = [e.ids for e in tokenizer.encode_batch_fast(texts, add_special_tokens=True)]
    return [row if row and row[-1] == eos else [*row, eos] for row in ids]


def tokenize_file(
    tokenizer_file: str, eos: int, parquet: str, stem: str, dtype: str
) -> dict[str, Any]:
    """Tokenize one kept Parquet file into STEM.bin and STEM.idx.npy, then STEM.json (which
    marks it done); return that record. A file done before is not tokenized again."""
    import pyarrow.parquet as pq
    from tokenizers import Tokenizer

    meta_path = Path(f"{stem}.json")
    if meta_path.is_file():
        return read_json(meta_path)
    tokenizer = Tokenizer.from_file(tokenizer_file)
    target, index = Path(f"{stem}.bin"), Path(f"{stem}{INDEX_SUFFIX}")
    partial, partial_index = Path(f"{stem}.bin.partial"), Path(f"{stem}.idx.partial.npy")
    lengths: list[int] = []
    empty = 0
    with writing(target, partial), partial.open("wb") as out:
        for batch in pq.ParquetFile(parquet).iter_batches(BATCH_ROWS, columns=["text"]):
            texts = [t for t in batch.column(0).to_pylist() if t]
            empty += batch.num_rows - len(texts)
            for row in document_ids(tokenizer, texts, eos) if texts else []:
                out.write(np.asarray(row, dtype=dtype).tobytes())
                lengths.append(len(row))
    with writing(index, partial_index):
        np.save(partial_index, np.asarray(lengths, dtype=np.uint32))
    os.replace(partial, target)
    os.replace(partial_index, index)
    meta = {
        "name": target.name,
        "source": Path(parquet).name,
        "documents": len(lengths),
        "empty": empty,
        "tokens": int(sum(lengths)),
    }
    write_json(meta, meta_path)
    return meta


def build_shards(
    ws: Workspace,
    version: DatasetVersion,
    tokenizer: Any,
    workers: int = 1,
    on_shard: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[ShardSet, bool]:
    """The version's token shards under this tokenizer, tokenizing what is not cached yet in
    `workers` processes; returns them and whether all were there already."""
    folder = cache_folder(ws, version, tokenizer)
    if (folder / "index.json").is_file():
        done = read_json(folder / "index.json")
        return ShardSet(folder, done["dtype"], done["shards"]), True
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer_dir = folder / "tokenizer"
    if not (tokenizer_dir / "tokenizer.json").is_file():
        staged = folder / f".tokenizer.{os.getpid()}"
        remove(staged)
        tokenizer.save_pretrained(str(staged))
        remove(tokenizer_dir)
        os.replace(staged, tokenizer_dir)
    dtype = token_dtype(tokenizer)
    files = sorted((version.path / "kept").glob("*.parquet"))
    eos = tokenizer.eos_token_id
    tokenizer_file = str(tokenizer_dir / "tokenizer.json")
    jobs = [
        (tokenizer_file, eos, str(path), str(folder / f"{n:05d}"), dtype)
        for n, path in enumerate(files)
    ]
    shards = []
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=get_context("spawn")) as pool:
            for meta in pool.map(tokenize_file, *zip(*jobs, strict=True)):
                shards.append(meta)
                if on_shard:
                    on_shard(meta)
    else:
        for job in jobs:
            shards.append(tokenize_file(*job))
            if on_shard:
                on_shard(shards[-1])
    index = {
        "dataset": version.ref,
        "fingerprint": version.manifest["fingerprint"],
        "tokenizer_hash": tokenizer_hash(tokenizer),
        "dtype": dtype,
        "shards": shards,
    }
    write_json(index, folder / "index.json")
    return ShardSet(folder, dtype, shards), False
