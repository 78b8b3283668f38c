"""Token statistics of a dataset under one or more tokenizers: counts, lengths and fertility.

Definitions: words are whitespace-separated runs (`\\S+`; in Korean these are eojeol, a word
with its particles attached), characters are Unicode code points including whitespace, and
tokens are counted without special tokens (no BOS, CLS or SEP). Fertility is corpus-level:
a group's total tokens over its total words (or characters), not a mean of per-document
ratios. Percentiles interpolate linearly between documents, as numpy's default does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import xxhash
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

from winnow.errors import WinnowError
from winnow.workspace import DatasetVersion

HUB_ID = re.compile(r"^[\w.-]+(/[\w.-]+)?$")
"""A hub id: `name` or `org/name`."""

GPT2_FILE_PAIRS = (("encoder.json", "vocab.bpe"), ("vocab.json", "merges.txt"))
"""GPT-2's release files, and the names transformers gives the same two files."""

BATCH_ROWS = 1_000
"""Documents per encode_batch call: enough to keep every core busy, little memory."""

ALL = "(all)"
"""The group label of the row that sums every group."""

NULL_GROUP = "(null)"
"""The group label of documents whose group column is empty (no letters, for language)."""

DEFINITIONS = {
    "words": "whitespace-separated runs (\\S+); eojeol in Korean",
    "characters": "Unicode code points, whitespace included",
    "tokens": "encoded without special tokens",
    "fertility": "group total tokens / group total words (or characters)",
}
"""What each counted unit means, printed under the table and kept in the JSON."""


@dataclass
class NamedTokenizer:
    """A tokenizer loaded for counting, with the name its rows carry and where it came from."""

    name: str
    source: str
    tokenizer: Tokenizer


def from_file(path: Path) -> Tokenizer:
    """A tokenizer.json file, with a clear error for anything else."""
    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WinnowError(
            f"{path}: is not a Hugging Face tokenizer.json ({reason}); give a tokenizer.json "
            "file or a tokenizer folder."
        ) from exc


def gpt2_files(vocab: Path, merges: Path) -> Tokenizer:
    """GPT-2's byte-level BPE from its two files (encoder.json + vocab.bpe, or renamed)."""
    tokenizer = Tokenizer(models.BPE.from_file(str(vocab), str(merges)))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    if tokenizer.token_to_id("<|endoftext|>") is not None:
        tokenizer.add_special_tokens(["<|endoftext|>"])
    return tokenizer


def transformers_backend(name_or_path: str) -> Tokenizer:
    """The Rust tokenizer behind a transformers tokenizer (folder or hub id)."""
    from transformers import AutoTokenizer

    try:
        loaded = AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError) as exc:
        raise WinnowError(
            f"tokenizer '{name_or_path}': transformers could not load it "
            f"({str(exc).splitlines()[0]}); give a tokenizer.json file instead."
        ) from exc
    backend = getattr(loaded, "backend_tokenizer", None)
    if backend is None:
        raise WinnowError(
            f"tokenizer '{name_or_path}' loads only as a slow Python tokenizer; counting needs "
            "a fast one, so convert it to tokenizer.json first."
        )
    return backend


def from_folder(folder: Path) -> Tokenizer:
    """A tokenizer folder: tokenizer.json, a transformers folder, or GPT-2's release files."""
    if (folder / "tokenizer.json").is_file():
        return from_file(folder / "tokenizer.json")
    if (folder / "tokenizer_config.json").is_file():
        return transformers_backend(str(folder))
    for vocab, merges in GPT2_FILE_PAIRS:
        if (folder / vocab).is_file() and (folder / merges).is_file():
            return gpt2_files(folder / vocab, folder / merges)
    raise WinnowError(
        f"folder {folder} holds no tokenizer.json, tokenizer_config.json, nor GPT-2's "
        "encoder.json and vocab.bpe; point --tokenizer at a folder or file that has one."
    )


def from_hub(hub_id: str) -> Tokenizer:
    """A hub repository's tokenizer.json (cached or downloaded), else its transformers one."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    try:
        path = hf_hub_download(hub_id, "tokenizer.json")
    except LocalEntryNotFoundError as exc:
        raise WinnowError(
            f"tokenizer '{hub_id}' is not a local file or folder, and reading it as a hub id "
            "needs network access (offline now); pass a local tokenizer.json or tokenizer "
            "folder instead."
        ) from exc
    except RepositoryNotFoundError as exc:
        raise WinnowError(
            f"tokenizer '{hub_id}' is not a local file or folder, nor a hub repository you can "
            "read; check the name or pass a local path."
        ) from exc
    except EntryNotFoundError:
        return transformers_backend(hub_id)
    return from_file(Path(path))


def load_tokenizer(arg: str) -> NamedTokenizer:
    """Load --tokenizer: a tokenizer.json, a tokenizer folder, or a hub id (online)."""
    path = Path(arg).expanduser()
    if path.is_file():
        tokenizer = from_file(path)
        name = path.parent.name if path.name == "tokenizer.json" else path.stem
    elif path.is_dir():
        tokenizer, name = from_folder(path), path.resolve().name
    elif HUB_ID.match(arg) and not arg.endswith(".json"):
        tokenizer, name = from_hub(arg), arg
    else:
        raise WinnowError(
            f"tokenizer '{arg}' is not an existing file or folder; give a tokenizer.json, a "
            "tokenizer folder or a hub id."
        )
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return NamedTokenizer(name, arg, tokenizer)


def load_tokenizers(args: list[str]) -> list[NamedTokenizer]:
    """Load every --tokenizer, numbering repeated names so each row stays distinguishable."""
    loaded: list[NamedTokenizer] = []
    for arg in args:
        named = load_tokenizer(arg)
        taken = {t.name for t in loaded}
        base, number = named.name, 2
        while named.name in taken:
            named.name, number = f"{base}#{number}", number + 1
        loaded.append(named)
    return loaded


def kept_files(version: DatasetVersion) -> list[Path]:
    """The kept split's Parquet shards in order."""
    return sorted((version.path / "kept").glob("*.parquet"))


def kept_batches(
    version: DatasetVersion, columns: list[str], rows: np.ndarray | None = None
) -> Iterator[pl.DataFrame]:
    """The kept split's `columns` shard by shard (absent ones null); with `rows`, only those."""
    offset = 0
    for path in kept_files(version):
        handle = pq.ParquetFile(path)
        present = [c for c in columns if c in handle.schema_arrow.names]
        for batch in handle.iter_batches(columns=present, batch_size=BATCH_ROWS):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            missing = [pl.lit(None, pl.Utf8).alias(c) for c in columns if c not in present]
            frame = frame.with_columns(missing).select(columns)
            if rows is not None:
                index = np.arange(offset, offset + frame.height)
                frame = frame.filter(pl.Series(np.isin(index, rows)))
            offset += batch.num_rows
            if frame.height:
                yield frame


def sample_rows(version: DatasetVersion, size: int) -> np.ndarray | None:
    """Row numbers of the `size` documents whose ids hash lowest (xxh64): a uniform sample
    that is the same on every run and machine; None when the dataset is no larger."""
    keys = np.empty(0, dtype=np.uint64)
    rows = np.empty(0, dtype=np.int64)
    offset = 0
    for frame in kept_batches(version, ["id"]):
        ids = frame.get_column("id").cast(pl.Utf8).fill_null("").to_list()
        hashed = (xxhash.xxh64_intdigest(i.encode()) for i in ids)
        keys = np.concatenate([keys, np.fromiter(hashed, np.uint64, count=len(ids))])
        rows = np.concatenate([rows, np.arange(offset, offset + len(ids))])
        offset += len(ids)
        if len(keys) > size:
            lowest = np.argpartition(keys, size - 1)[:size]
            keys, rows = keys[lowest], rows[lowest]
    return np.sort(rows) if offset > size else None


def count_documents(
    version: DatasetVersion, tokenizers: list[NamedTokenizer], by: str | None, sample: int | None
) -> tuple[pl.DataFrame, list[float]]:
    """Per document: group, words, characters and each tokenizer's token count; and the
    seconds each tokenizer spent encoding."""
    rows = sample_rows(version, sample) if sample is not None else None
    seconds = [0.0] * len(tokenizers)
    parts = []
    for frame in kept_batches(version, ["text", by] if by else ["text"], rows):
        text = frame.get_column("text").fill_null("")
        texts = text.to_list()
        group = frame.get_column(by).cast(pl.Utf8).fill_null(NULL_GROUP) if by else ALL
        columns: dict[str, Any] = {
            "group": group,
            "words": text.str.count_matches(r"\S+").cast(pl.Int64),
            "characters": text.str.len_chars().cast(pl.Int64),
        }
        for index, named in enumerate(tokenizers):
            started = time.perf_counter()
            encodings = named.tokenizer.encode_batch_fast(texts, add_special_tokens=False)
            columns[f"tokens_{index}"] = pl.Series([len(e) for e in encodings], dtype=pl.Int64)
            seconds[index] += time.perf_counter() - started
        parts.append(pl.DataFrame(columns))
    if not parts:
        raise WinnowError(f"{version.ref} has no kept documents to count tokens in.")
    return pl.concat(parts), seconds


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def group_rows(
    frame: pl.DataFrame, group: str, tokenizers: list[NamedTokenizer]
) -> list[dict[str, Any]]:
    """One row per tokenizer for the documents of one group."""
    words, characters = int(frame["words"].sum()), int(frame["characters"].sum())
    found = []
    for index, named in enumerate(tokenizers):
        tokens = frame.get_column(f"tokens_{index}")
        total = int(tokens.sum())
        found.append(
            {
                "tokenizer": named.name,
                "group": group,
                "documents": frame.height,
                "words": words,
                "characters": characters,
                "tokens": total,
                "tokens_per_doc": {
                    "mean": total / frame.height,
                    "p50": tokens.quantile(0.5, interpolation="linear"),
                    "p90": tokens.quantile(0.9, interpolation="linear"),
                    "max": tokens.max(),
                },
                "tokens_per_word": ratio(total, words),
                "tokens_per_char": ratio(total, characters),
            }
        )
    return found


def default_by(version: DatasetVersion) -> str | None:
    """Group by `language` when the dataset has that column (the language step writes it)."""
    return "language" if "language" in version.manifest["splits"]["kept"]["schema"] else None


def token_stats(
    version: DatasetVersion,
    tokenizers: list[NamedTokenizer],
    by: str | None,
    sample: int | None = None,
) -> dict[str, Any]:
    """Count tokens of a dataset's kept text per tokenizer, per group of `by` and overall."""
    if sample is not None and sample < 1:
        raise WinnowError(f"--sample {sample} must be 1 or more, or left out to count everything.")
    schema = version.manifest["splits"]["kept"]["schema"]
    if by is not None and by not in schema:
        raise WinnowError(
            f"{version.ref} has no column '{by}' to group by; its columns: {', '.join(schema)} "
            "(the language step writes 'language')."
        )
    frame, seconds = count_documents(version, tokenizers, by, sample)
    rows = []
    if by is not None:
        sizes = frame.group_by("group").len().sort(["len", "group"], descending=[True, False])
        for group in sizes.get_column("group").to_list():
            rows += group_rows(frame.filter(pl.col("group") == group), group, tokenizers)
    rows += group_rows(frame, ALL, tokenizers)
    totals = [int(frame[f"tokens_{i}"].sum()) for i in range(len(tokenizers))]
    characters = int(frame["characters"].sum())
    return {
        "dataset": version.ref,
        "fingerprint": version.manifest["fingerprint"],
        "documents": frame.height,
        "documents_in_dataset": version.manifest["counts"]["kept"],
        "sample": sample,
        "by": by,
        "definitions": DEFINITIONS,
        "tokenizers": [
            {
                "name": named.name,
                "source": named.source,
                "vocab_size": named.tokenizer.get_vocab_size(with_added_tokens=True),
                "tokens": total,
                "seconds": round(spent, 4),
                "tokens_per_second": ratio(total, spent),
                "characters_per_second": ratio(characters, spent),
            }
            for named, total, spent in zip(tokenizers, totals, seconds, strict=True)
        ],
        "rows": rows,
    }
