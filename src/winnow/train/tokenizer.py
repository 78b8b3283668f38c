"""Train a tokenizer (byte-level BPE, WordPiece or Unigram) on a dataset's text, streamed.

The three pipelines, each a Hugging Face `tokenizers` model with the pieces its family uses:
- `bpe`: GPT-2's byte-level BPE. Text is split by GPT-2's regex and mapped to the 256 byte
  symbols, so every string encodes without an unknown token and decodes back exactly.
- `wordpiece`: BERT's. Lower-cased (accents kept: stripping them would decompose Hangul
  syllables into jamo), control characters removed, punctuation and CJK ideographs split
  off, words split at whitespace; decoding joins words with single spaces. The alphabet is
  capped at half the ordinary vocabulary so the requested size holds; a word with a character
  outside it becomes `[UNK]`. Encoding adds `[CLS]` ... `[SEP]` like BERT.
- `unigram`: SentencePiece's. NFKC-normalised, spaces marked with '▁' (Metaspace), so text
  decodes back to its NFKC form apart from leading spaces; every character of the data must
  fit in the vocabulary, and characters never seen become `<unk>`.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from tokenizers import (
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)

from winnow.curate.sources import SourceSpec, iter_documents, resolve_source
from winnow.errors import WinnowError
from winnow.files import write_json
from winnow.workspace import NAME_PATTERN, Workspace

ORDINARY_FLOOR = 256
"""Fewest ordinary tokens any algorithm gets: BPE's byte alphabet, or room for ordinary text."""

BATCH_ROWS = 2_000
"""Documents handed to the trainer at a time; memory holds one batch, not the dataset."""


@dataclass(frozen=True)
class Algo:
    """One algorithm's special tokens (in id order) and their roles for transformers."""

    specials: tuple[str, ...]
    roles: dict[str, str]
    clean_up_spaces: bool


ALGOS: dict[str, Algo] = {
    "bpe": Algo(
        specials=("<|endoftext|>", "<|pad|>"),
        roles={
            "bos_token": "<|endoftext|>",
            "eos_token": "<|endoftext|>",
            "unk_token": "<|endoftext|>",
            "pad_token": "<|pad|>",
        },
        clean_up_spaces=False,
    ),
    "wordpiece": Algo(
        specials=("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"),
        roles={
            "pad_token": "[PAD]",
            "unk_token": "[UNK]",
            "cls_token": "[CLS]",
            "sep_token": "[SEP]",
            "mask_token": "[MASK]",
        },
        clean_up_spaces=True,
    ),
    "unigram": Algo(
        specials=("<unk>", "<s>", "</s>", "<pad>"),
        roles={"unk_token": "<unk>", "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>"},
        clean_up_spaces=False,
    ),
}


@dataclass
class TokenizerConfig:
    """What to train: algorithm, vocabulary size and the trainer's options, checked up front."""

    algo: str
    vocab_size: int
    min_frequency: int = 2
    special_tokens: list[str] = field(default_factory=list)
    max_docs: int | None = None

    def __post_init__(self) -> None:
        """Refuse an unknown algorithm or sizes that cannot give a working tokenizer."""
        if self.algo not in ALGOS:
            raise WinnowError(f"algo '{self.algo}' is unknown; use one of: {', '.join(ALGOS)}.")
        if self.vocab_size < 1:
            raise WinnowError(
                f"vocab_size {self.vocab_size} is not a size; give a positive number of "
                "tokens such as 8000."
            )
        floor = ORDINARY_FLOOR + len(self.specials)
        if self.vocab_size < floor:
            room = "256 byte tokens" if self.algo == "bpe" else "256 tokens for ordinary text"
            raise WinnowError(
                f"vocab_size {self.vocab_size} is too small for {self.algo}: it needs {room} "
                f"plus {len(self.specials)} special tokens, so at least {floor}; typical sizes "
                "are 8000 to 64000."
            )
        if self.min_frequency < 1:
            raise WinnowError(f"min_frequency {self.min_frequency} must be 1 or more.")
        if self.max_docs is not None and self.max_docs < 1:
            raise WinnowError(f"max_docs {self.max_docs} must be 1 or more, or left out.")
        if any(not token.strip() for token in self.special_tokens):
            raise WinnowError("special_tokens holds an empty token; give non-empty strings.")

    @property
    def specials(self) -> list[str]:
        """The algorithm's own special tokens, then the user's extra ones, each once."""
        return list(dict.fromkeys([*ALGOS[self.algo].specials, *self.special_tokens]))


@dataclass
class Reading:
    """What the training stream read: documents, characters, distinct characters, bad rows."""

    documents: int = 0
    characters: int = 0
    quarantined: int = 0
    alphabet: set[str] = field(default_factory=set)


@dataclass
class TrainedTokenizer:
    """A trained tokenizer's folder and the record written into it as winnow.json."""

    path: Path
    record: dict[str, Any]


def build(config: TokenizerConfig) -> tuple[Tokenizer, trainers.Trainer]:
    """An untrained tokenizer pipeline and its trainer for the configured algorithm."""
    specials = config.specials
    if config.algo == "bpe":
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
        trainer: trainers.Trainer = trainers.BpeTrainer(
            vocab_size=config.vocab_size,
            min_frequency=config.min_frequency,
            special_tokens=specials,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
    elif config.algo == "wordpiece":
        tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=False)
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tokenizer.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(
            vocab_size=config.vocab_size,
            min_frequency=config.min_frequency,
            special_tokens=specials,
            limit_alphabet=(config.vocab_size - len(specials)) // 2,
            show_progress=False,
        )
    else:
        tokenizer = Tokenizer(models.Unigram())
        tokenizer.normalizer = normalizers.NFKC()
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
        tokenizer.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(
            vocab_size=config.vocab_size,
            special_tokens=specials,
            unk_token="<unk>",
            show_progress=False,
        )
    return tokenizer, trainer


def resolve_data(arg: str, ws: Workspace) -> SourceSpec:
    """The --data argument as a source; a missing NAME@VERSION gets the workspace's message,
    and a bare NAME that is both a dataset and a local path is refused rather than guessed."""
    if "@" in arg and not Path(arg).exists():
        ws.dataset(arg)
    name = arg.partition("@")[0]
    if NAME_PATTERN.match(name) and ws.versions(name) and Path(arg).exists():
        raise WinnowError(
            f"--data '{arg}' is both a dataset in {ws.root} and a local path; write "
            f"{ws.versions(name)[-1].ref} for the dataset or ./{arg} for the path."
        )
    return resolve_source(arg, workspace=ws)


def stream_texts(spec: SourceSpec, max_docs: int | None, reading: Reading) -> Iterator[list[str]]:
    """The source's texts batch by batch, stopping after `max_docs`; counts what it reads."""
    for batch in iter_documents(spec, batch_rows=BATCH_ROWS):
        reading.quarantined += batch.quarantine.height
        texts = batch.docs.get_column("text").to_list()
        if max_docs is not None:
            texts = texts[: max_docs - reading.documents]
        reading.documents += len(texts)
        for text in texts:
            reading.characters += len(text)
            reading.alphabet.update(text)
        if texts:
            yield texts
        if max_docs is not None and reading.documents >= max_docs:
            return


def describe_data(spec: SourceSpec) -> dict[str, Any]:
    """Which data trained the tokenizer: a dataset version's content fingerprint, else files'."""
    if spec.parents:
        parent = spec.parents[0]
        return {
            "ref": spec.name,
            "dataset": parent["name"],
            "version": parent["version"],
            "fingerprint": parent["fingerprint"],
            "fingerprint_of": "content",
        }
    return {
        "ref": spec.name,
        "dataset": None,
        "version": None,
        "fingerprint": spec.fingerprint(),
        "fingerprint_of": "files",
    }


def transformers_files(config: TokenizerConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """tokenizer_config.json and special_tokens_map.json, so AutoTokenizer loads the folder."""
    algo = ALGOS[config.algo]
    extra = [t for t in config.specials if t not in algo.specials]
    special_map: dict[str, Any] = dict(algo.roles)
    if extra:
        special_map["additional_special_tokens"] = extra
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "clean_up_tokenization_spaces": algo.clean_up_spaces,
        **special_map,
    }
    return tokenizer_config, special_map


def check_output(output: Path) -> None:
    """Refuse to write over a file or a folder that already holds something."""
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise WinnowError(
            f"--output {output} already exists and is not an empty folder; choose a new folder "
            "or remove it."
        )


def save(
    tokenizer: Tokenizer, config: TokenizerConfig, output: Path, record: dict[str, Any]
) -> None:
    """Write every file into a temporary sibling folder, then rename it to `output`."""
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tokenizer.save(str(tmp / "tokenizer.json"))
    if config.algo == "bpe":
        tokenizer.model.save(str(tmp))
    tokenizer_config, special_map = transformers_files(config)
    write_json(tokenizer_config, tmp / "tokenizer_config.json")
    write_json(special_map, tmp / "special_tokens_map.json")
    write_json(record, tmp / "winnow.json")
    if output.is_dir():
        output.rmdir()
    os.replace(tmp, output)


def train_tokenizer(
    data: str, config: TokenizerConfig, output: Path, ws: Workspace
) -> TrainedTokenizer:
    """Train on the texts of `data` (a dataset NAME[@VERSION] or any source) into `output`."""
    check_output(output)
    spec = resolve_data(data, ws)
    tokenizer, trainer = build(config)
    reading = Reading()
    started = time.perf_counter()
    try:
        tokenizer.train_from_iterator(stream_texts(spec, config.max_docs, reading), trainer)
    except Exception as exc:
        if "not large enough to contain all chars" not in str(exc):
            raise
        raise WinnowError(
            f"vocab_size {config.vocab_size} is too small for unigram on {spec.name}: Unigram "
            f"keeps every character of the data, and it has {len(reading.alphabet):,} distinct "
            f"characters; raise --vocab-size above {len(reading.alphabet) + len(config.specials)}"
            " or use bpe, whose alphabet is the 256 bytes."
        ) from exc
    seconds = time.perf_counter() - started
    if reading.documents == 0:
        raise WinnowError(f"{spec.name} holds no documents to train on; check --data.")
    if config.algo == "wordpiece":
        cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
        tokenizer.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
        )
    record = {
        "algo": config.algo,
        "vocab_size": tokenizer.get_vocab_size(with_added_tokens=True),
        "vocab_size_requested": config.vocab_size,
        "min_frequency": config.min_frequency if config.algo != "unigram" else None,
        "special_tokens": config.specials,
        "max_docs": config.max_docs,
        "data": {
            **describe_data(spec),
            "documents": reading.documents,
            "characters": reading.characters,
            "distinct_characters": len(reading.alphabet),
            "quarantined": reading.quarantined,
        },
        "train_seconds": round(seconds, 3),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {name: metadata.version(name) for name in ("winnow-llm", "tokenizers")},
    }
    save(tokenizer, config, output, record)
    return TrainedTokenizer(output, record)
