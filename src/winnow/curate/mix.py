"""Data mixing: draw a budget of documents or tokens from several inputs in set proportions.

Each input gets `weight / sum(weights)` of the budget. An input smaller than its share is
repeated in whole epochs plus a seeded sample of its rows for the rest, at most `max_epochs`
copies of a row (the rest is recorded as a shortfall); a larger one is downsampled by a
seeded sample. Drawn rows keep their fields and gain `source_id` (the input's id),
`mix_source` (the input's name) and `mix_epoch` (0 for a row's first copy, N for its N-th
repeat, whose `id` becomes `ID#N`). The rows are shuffled by seeded keys with DuckDB's
out-of-core sort, so the same inputs and seed give the same rows in the same order.
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from time import perf_counter
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow.parquet as pq
import xxhash

from winnow.catalogs import find_entry
from winnow.curate.sources import SourceSpec, iter_documents, resolve_source
from winnow.errors import WinnowError
from winnow.files import write_json, write_parquet
from winnow.manifest import build_mix_manifest
from winnow.workspace import DatasetVersion, Workspace, check_name

CHARS_RULE = "tokens estimated as characters/4 (rounded up per document); pass --tokenizer to count"
"""How tokens are counted when no tokenizer is given, stated in every manifest that uses it."""

SHARD_ROWS = 50_000
"""Rows per Parquet shard of a mix's kept split."""

READ_ROWS = 10_000
"""Rows per batch read from a file input."""

ENCODE_ROWS = 1_000
"""Texts a tokenizer encodes at once: its encodings of a whole shard would not fit in memory."""

BUDGET = re.compile(
    r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmb]?)\s*(docs?|documents?|tokens?)\s*$", re.IGNORECASE
)
"""A budget: a number, an optional k/M/B multiplier and a unit, e.g. '5k docs', '2M tokens'."""

MULTIPLIERS = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
"""What a budget's k/M/B suffix multiplies by (any case)."""

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
"""SplitMix64's increment, 2^64 divided by the golden ratio."""

ID_RULE = "a repeated row's id is ID#N for its N-th repeat (mix_epoch N); source_id keeps ID"
"""How ids of repeated rows are derived, recorded in the manifest."""


@dataclass(frozen=True)
class Budget:
    """How much the mix holds: a whole number of documents or of tokens."""

    amount: int
    unit: str
    text: str


@dataclass(frozen=True)
class MixInput:
    """One --input argument: what to read and its weight."""

    arg: str
    weight: float
    text: str


def parse_budget(text: str) -> Budget:
    """Read '1000docs', '5k docs', '2M tokens' or '2000000tokens' into a budget."""
    match = BUDGET.match(text)
    if match is None:
        raise WinnowError(
            f"--budget '{text}' is not a budget; write a number with an optional k/M/B suffix "
            "and a unit, e.g. '1000docs', '5k docs' or '2M tokens'."
        )
    number, suffix, unit = match.groups()
    amount = Decimal(number) * MULTIPLIERS[suffix.lower()]
    if amount < 1 or amount != amount.to_integral_value():
        raise WinnowError(
            f"--budget '{text}' is {amount} {unit}; a budget must be a whole number of at "
            "least 1, e.g. '1000docs'."
        )
    kind = "tokens" if unit.lower().startswith("token") else "docs"
    return Budget(int(amount), kind, text)


def parse_input(text: str) -> MixInput:
    """Read 'NAME:WEIGHT' (a dataset, file or glob and a non-negative number); no ':' means 1."""
    arg, sep, tail = text.rpartition(":")
    if not sep:
        return MixInput(text, 1.0, text)
    if not arg:
        raise WinnowError(f"--input '{text}' names nothing before ':'; write NAME:WEIGHT.")
    try:
        weight = float(tail)
    except ValueError:
        raise WinnowError(
            f"--input '{text}': weight '{tail}' is not a number; write NAME:WEIGHT with a "
            f"non-negative number, e.g. '{arg}:0.5'."
        ) from None
    if not math.isfinite(weight) or weight < 0:
        raise WinnowError(
            f"--input '{text}': weight {tail} is not allowed; use a finite number of 0 or more, "
            f"e.g. '{arg}:0.5'."
        )
    return MixInput(arg, weight, text)


def shares_of(inputs: list[MixInput]) -> list[float]:
    """Weights normalised to proportions that sum to 1."""
    if not inputs:
        raise WinnowError(
            "no --input given; pass --input NAME:WEIGHT once per input, e.g. "
            "--input web:0.7 --input ko:0.3."
        )
    total = sum(item.weight for item in inputs)
    if total <= 0:
        raise WinnowError(
            "--input: every weight is 0; give at least one input a positive weight, e.g. 'web:1'."
        )
    return [item.weight / total for item in inputs]


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


@dataclass
class MixSource:
    """One input of a mix: its rows as Parquet shards, and each row's token count."""

    item: MixInput
    name: str
    shards: list[Path]
    tokens: np.ndarray
    parent: dict[str, Any]
    licence: str | None
    quarantined: int = 0

    @property
    def rows(self) -> int:
        """Rows the input holds."""
        return int(self.tokens.size)


def _count_shards(shards: list[Path], counter: TokenCounter) -> np.ndarray:
    """Token counts of every row of Parquet shards, reading only the text column."""
    parts = [counter.count(pl.read_parquet(p, columns=["text"])["text"]) for p in shards]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _from_dataset(item: MixInput, dataset: DatasetVersion, counter: TokenCounter) -> MixSource:
    """An input read straight from a workspace dataset's kept shards."""
    manifest = dataset.manifest
    shards = sorted((dataset.path / "kept").glob("*.parquet"))
    parent = {
        "name": dataset.name,
        "version": dataset.version,
        "fingerprint": manifest["fingerprint"],
    }
    licence = manifest.get("source", {}).get("licence")
    return MixSource(item, dataset.ref, shards, _count_shards(shards, counter), parent, licence)


@dataclass(frozen=True)
class Staging:
    """Where one mix works: a folder per input, the drawn rows, and the version to publish."""

    root: Path

    def input_dir(self, index: int) -> Path:
        """Staged Parquet shards of a file input."""
        return self.root / f"in-{index}"

    @property
    def rows(self) -> Path:
        """Drawn rows with their shuffle keys, before sorting."""
        return self.root / "rows"

    @property
    def final(self) -> Path:
        """The dataset version being assembled, renamed into place when done."""
        return self.root / "final"


def _from_files(
    item: MixInput,
    spec: SourceSpec,
    counter: TokenCounter,
    shards_dir: Path,
    quarantine_dir: Path,
    notes: list[str],
) -> MixSource:
    """An input read with the source readers once, staged as Parquet, bad rows quarantined."""
    shards, tokens, quarantined = [], [], 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for number, batch in enumerate(iter_documents(spec, batch_rows=READ_ROWS)):
            if batch.quarantine.height:
                name = f"part-{shards_dir.name}-{number:05d}.parquet"
                write_parquet(batch.quarantine, quarantine_dir / name)
                quarantined += batch.quarantine.height
            if batch.docs.height:
                path = shards_dir / f"{number:05d}.parquet"
                write_parquet(batch.docs, path)
                shards.append(path)
                tokens.append(counter.count(batch.docs["text"]))
    notes.extend(f"--input {item.text}: {w.message}" for w in caught)
    parent = {
        "name": spec.name,
        "version": None,
        "fingerprint": spec.fingerprint(),
        "files": spec.files(),
    }
    counts = np.concatenate(tokens) if tokens else np.zeros(0, dtype=np.int64)
    return MixSource(item, spec.name, shards, counts, parent, spec.licence, quarantined)


def _unknown_input(ws: Workspace, item: MixInput) -> WinnowError:
    """The error for an input that is neither a dataset nor a file, glob or catalog source."""
    known = ", ".join(ws.names()) or "none yet"
    return WinnowError(
        f"--input '{item.text}': no dataset '{item.arg.partition('@')[0]}' in "
        f"{ws.datasets_dir} (datasets here: {known}) and no such file, glob or catalog source; "
        "curate it first with 'winnow curate run' or fix the name."
    )


def open_input(
    ws: Workspace,
    index: int,
    item: MixInput,
    counter: TokenCounter,
    staging: Staging,
    notes: list[str],
) -> MixSource:
    """Read one input (a workspace dataset, else a file, glob or catalog source) and count it."""
    exists = Path(item.arg).exists()
    if not exists and ws.versions(item.arg.partition("@")[0]):
        try:
            dataset = ws.dataset(item.arg)
        except WinnowError as exc:
            raise WinnowError(f"--input '{item.text}': {exc}") from exc
        source = _from_dataset(item, dataset, counter)
    elif exists or glob.has_magic(item.arg) or find_entry("sources", item.arg) is not None:
        try:
            spec = resolve_source(item.arg, workspace=ws)
            quarantine_dir = staging.final / "quarantine"
            shards_dir = staging.input_dir(index)
            source = _from_files(item, spec, counter, shards_dir, quarantine_dir, notes)
        except WinnowError as exc:
            raise WinnowError(f"--input '{item.text}': {exc}") from exc
    else:
        raise _unknown_input(ws, item)
    if not source.rows:
        raise WinnowError(
            f"--input '{item.text}' has no rows to draw from ({source.quarantined} unreadable); "
            "check that it is the input you meant, or leave it out."
        )
    return source


@dataclass
class Draw:
    """How often each row of one input is drawn: whole epochs plus a seeded partial epoch."""

    target: float
    full_epochs: int
    copies: np.ndarray
    shortfall: float = 0.0

    @property
    def capped(self) -> bool:
        """Whether the input ran out at --max-epochs before reaching its share."""
        return self.shortfall > 0


def plan_draw(units: np.ndarray, target: float, max_epochs: int, order: np.ndarray) -> Draw:
    """Draw `target` units (1 per doc, or each doc's tokens): whole epochs, then a seeded sample.

    The sample is the longest prefix of `order` (a seeded permutation) within the rest, plus
    the one remaining row that best fills the gap when that brings the total closer; with
    unit costs it is exactly the rest. At most `max_epochs` copies of a row are drawn.
    """
    total = float(units.sum())
    if total <= 0:
        return Draw(target, 0, np.zeros(units.size, dtype=np.int64), target)
    full = min(int(target // total), max_epochs)
    copies = np.full(units.size, full, dtype=np.int64)
    rest = target - full * total
    if full == max_epochs:
        return Draw(target, full, copies, max(rest, 0.0))
    reach = np.concatenate(([0], np.cumsum(units[order])))
    take = int(np.searchsorted(reach, rest, side="right")) - 1
    copies[order[:take]] += 1
    gap = rest - reach[take]
    if gap > 0 and take < units.size:
        left = order[take:]
        misses = np.abs(gap - units[left])
        best = int(np.argmin(misses))
        if misses[best] < gap:
            copies[left[best]] += 1
    return Draw(target, full, copies)


def units_of(source: MixSource, unit: str) -> np.ndarray:
    """What each row of an input costs in the budget's unit: 1 per doc, or its tokens."""
    return source.tokens if unit == "tokens" else np.ones(source.rows, dtype=np.int64)


def targets_for(budget: Budget, shares: list[float]) -> list[float]:
    """Each input's part of the budget; documents are split by largest remainder to sum exactly."""
    exact = [share * budget.amount for share in shares]
    if budget.unit == "tokens":
        return exact
    whole = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (whole[i] - exact[i], i))
    for i in by_remainder[: budget.amount - sum(whole)]:
        whole[i] += 1
    return [float(w) for w in whole]


def scramble(values: np.ndarray, seed: int, name: str, stream: int) -> np.ndarray:
    """Well-mixed uint64 keys for integers, salted by seed, input name and purpose (SplitMix64):
    the same on every machine and NumPy version, and independent of the --input order."""
    salt = np.uint64(xxhash.xxh64_intdigest(f"{seed}\x1f{name}\x1f{stream}".encode()))
    z = values.astype(np.uint64) * GOLDEN + salt
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def seeded_order(size: int, seed: int, name: str) -> np.ndarray:
    """A seeded permutation of an input's row indices, for its sample."""
    return np.argsort(scramble(np.arange(size), seed, name, 0), kind="stable")


def shuffle_keys(rows: np.ndarray, epochs: np.ndarray, seed: int, name: str) -> np.ndarray:
    """The sort key of each drawn copy, from its row, its epoch, the seed and the input."""
    return scramble(scramble(rows, seed, name, 1) + epochs.astype(np.uint64), seed, name, 2)


def draw_rows(source: MixSource, index: int, draw: Draw, seed: int, folder: Path) -> None:
    """Write the drawn copies of one input's rows, with lineage columns and shuffle keys."""
    offset = 0
    for number, shard in enumerate(source.shards):
        frame = pl.read_parquet(shard)
        counts = draw.copies[offset : offset + frame.height]
        picks = np.repeat(np.arange(frame.height), counts)
        if picks.size:
            epochs = np.arange(picks.size) - np.repeat(np.cumsum(counts) - counts, counts)
            lineage = ["id", "text", "source_id", "mix_source", "mix_epoch"]
            drawn = frame[picks].with_columns(
                pl.col("id").alias("source_id"),
                pl.lit(source.name, dtype=pl.Utf8).alias("mix_source"),
                pl.Series("mix_epoch", epochs, dtype=pl.Int64),
            )
            drawn = drawn.select(*lineage, pl.exclude(lineage))
            repeat = pl.col("mix_epoch") > 0
            drawn = drawn.with_columns(
                pl.when(repeat).then(pl.format("{}#{}", "id", "mix_epoch")).otherwise("id"),
                pl.Series("__key", shuffle_keys(picks + offset, epochs, seed, source.name)),
                pl.lit(index, dtype=pl.Int64).alias("__src"),
                pl.Series("__row", picks + offset, dtype=pl.Int64),
            )
            write_parquet(drawn, folder / f"{index:04d}-{number:05d}.parquet")
        offset += frame.height


def shuffle_into(rows: Path, kept: Path, temp: Path) -> int:
    """Sort the drawn rows by their seeded keys (out of core), cut them into kept shards, and
    return how many rows share an id with an earlier row (inputs that share ids)."""
    ordered = temp / "ordered.parquet"
    con = duckdb.connect(":memory:")
    con.execute(f"SET temp_directory = '{temp}'")
    con.execute(
        f"COPY (SELECT * EXCLUDE (__key, __src, __row) FROM "
        f"read_parquet('{rows}/*.parquet', union_by_name = true) "
        f"ORDER BY __key, __src, __row, mix_epoch) TO '{ordered}' (FORMAT PARQUET, "
        "COMPRESSION ZSTD)"
    )
    query = f"SELECT count(*) - count(DISTINCT id) FROM read_parquet('{ordered}')"
    repeated = con.execute(query).fetchall()[0][0]
    con.close()
    total = pq.ParquetFile(ordered).metadata.num_rows
    scan = pl.scan_parquet(ordered)
    for number, start in enumerate(range(0, total, SHARD_ROWS)):
        write_parquet(scan.slice(start, SHARD_ROWS).collect(), kept / f"part-{number:05d}.parquet")
    return int(repeated)


def describe_draw(
    source: MixSource, draw: Draw, share: float, unit: str, totals: dict[str, int]
) -> dict[str, Any]:
    """The realised part of one input in the mix, for the manifest and the table."""
    docs = int(draw.copies.sum())
    tokens = int((draw.copies * source.tokens).sum())
    available = {"docs": source.rows, "tokens": int(source.tokens.sum())}
    realised = {"docs": docs, "tokens": tokens}
    epochs = realised[unit] / available[unit] if available[unit] else 0.0
    if draw.full_epochs == 0 and docs < source.rows:
        sampling = "down"
    elif epochs > 1:
        sampling = "up"
    else:
        sampling = "all"
    return {
        "input": source.item.text,
        "name": source.name,
        "weight": source.item.weight,
        "requested_share": share,
        "target": draw.target,
        "available_docs": available["docs"],
        "available_tokens": available["tokens"],
        "quarantined": source.quarantined,
        "docs": docs,
        "tokens": tokens,
        "share_of_docs": docs / totals["docs"],
        "share_of_tokens": tokens / totals["tokens"] if totals["tokens"] else 0.0,
        "share": realised[unit] / totals[unit] if totals[unit] else 0.0,
        "epochs": round(epochs, 4),
        "full_epochs": draw.full_epochs,
        "sampling": sampling,
        "capped": draw.capped,
        "shortfall": draw.shortfall,
    }


@dataclass
class MixOptions:
    """What a mix draws, and how."""

    inputs: list[MixInput]
    budget: Budget
    seed: int = 0
    max_epochs: int = 4
    tokenizer: str | None = None
    warnings: list[str] = field(default_factory=list)


def _mix_hash(sources: list[MixSource], options: MixOptions, rule: str) -> str:
    """A stable hash of what was asked: inputs with fingerprints, weights, budget, seed, rule."""
    asked = {
        "inputs": [[s.name, s.parent["fingerprint"], s.item.weight] for s in sources],
        "budget": [options.budget.amount, options.budget.unit],
        "seed": options.seed,
        "max_epochs": options.max_epochs,
        "tokens": rule,
    }
    return xxhash.xxh64_hexdigest(json.dumps(asked, sort_keys=True).encode())


def _check_names(sources: list[MixSource]) -> None:
    """Refuse two inputs with the same name, which `mix_source` could not tell apart."""
    seen: dict[str, str] = {}
    for source in sources:
        if source.name in seen:
            raise WinnowError(
                f"--input '{source.item.text}' and '{seen[source.name]}' are both named "
                f"'{source.name}'; give each input once (add their weights)."
            )
        seen[source.name] = source.item.text


def plan_mix(sources: list[MixSource], options: MixOptions, shares: list[float]) -> list[Draw]:
    """Each input's draw for its share of the budget, warning about inputs that ran short."""
    unit = options.budget.unit
    draws = []
    for source, target in zip(sources, targets_for(options.budget, shares), strict=True):
        order = seeded_order(source.rows, options.seed, source.name)
        draw = plan_draw(units_of(source, unit), target, options.max_epochs, order)
        draws.append(draw)
        if draw.capped:
            options.warnings.append(
                f"{source.name}: its share is {draw.target:,.0f} {unit} but it holds "
                f"{units_of(source, unit).sum():,} {unit}; capped at --max-epochs "
                f"{options.max_epochs}, {draw.shortfall:,.0f} {unit} short (raise --max-epochs "
                "or lower its weight)."
            )
    if not any(d.copies.any() for d in draws):
        raise WinnowError(
            f"--budget '{options.budget.text}' draws no document at all (every document is "
            "larger than an input's share); raise the budget."
        )
    return draws


def mix_datasets(ws: Workspace, output: str, options: MixOptions) -> DatasetVersion:
    """Draw the budget from the inputs into a new version of `output`, published atomically."""
    started = perf_counter()
    check_name(output)
    if options.max_epochs < 1:
        raise WinnowError(f"--max-epochs {options.max_epochs}: use 1 or more.")
    shares = shares_of(options.inputs)
    counter = load_counter(options.tokenizer)
    home = ws.datasets_dir / output
    home.mkdir(parents=True, exist_ok=True)
    staging = Staging(Path(tempfile.mkdtemp(prefix=".staging-mix-", dir=home)))
    try:
        for split in ("kept", "rejected", "quarantine"):
            (staging.final / split).mkdir(parents=True)
        sources = [
            open_input(ws, index, item, counter, staging, options.warnings)
            for index, item in enumerate(options.inputs)
        ]
        _check_names(sources)
        draws = plan_mix(sources, options, shares)
        for index, (source, draw) in enumerate(zip(sources, draws, strict=True)):
            draw_rows(source, index, draw, options.seed, staging.rows)
        repeated = shuffle_into(staging.rows, staging.final / "kept", staging.root)
        if repeated:
            options.warnings.append(
                f"{repeated:,} rows share an id with another row (inputs with the same ids); "
                "tell them apart by mix_source and source_id."
            )
        mix = describe_mix(sources, draws, shares, options, counter.rule)
        return publish(ws, output, mix, sources, staging, perf_counter() - started, options)
    finally:
        shutil.rmtree(staging.root, ignore_errors=True)
        with contextlib.suppress(OSError):
            home.rmdir()  # only when empty: a failed first mix leaves no dataset folder


def describe_mix(
    sources: list[MixSource],
    draws: list[Draw],
    shares: list[float],
    options: MixOptions,
    rule: str,
) -> dict[str, Any]:
    """The manifest's `mix` block: what was asked and what each input realised."""
    unit = options.budget.unit
    totals = {
        "docs": sum(int(d.copies.sum()) for d in draws),
        "tokens": sum(
            int((d.copies * s.tokens).sum()) for d, s in zip(draws, sources, strict=True)
        ),
    }
    return {
        "budget": {"amount": options.budget.amount, "unit": unit, "text": options.budget.text},
        "seed": options.seed,
        "max_epochs": options.max_epochs,
        "token_rule": rule,
        "ids": ID_RULE,
        "hash": _mix_hash(sources, options, rule),
        "realised": {**totals, "shortfall": sum(d.shortfall for d in draws)},
        "sources": [
            describe_draw(s, d, share, unit, totals)
            for s, d, share in zip(sources, draws, shares, strict=True)
        ],
    }


def publish(
    ws: Workspace,
    output: str,
    mix: dict[str, Any],
    sources: list[MixSource],
    staging: Staging,
    seconds: float,
    options: MixOptions,
) -> DatasetVersion:
    """Write the manifest into the staged version and rename it into place as the next one."""
    licences = "; ".join(f"{s.name}: {s.licence or 'not declared'}" for s in sources)
    version = ws.next_version(output)
    manifest = build_mix_manifest(
        staging.final,
        name=output,
        version=version,
        mix=mix,
        parents=[s.parent for s in sources],
        source={"name": " + ".join(s.name for s in sources), "licence": licences},
        seconds=seconds,
        warnings=options.warnings,
    )
    write_json(manifest, staging.final / "manifest.json")
    target = ws.datasets_dir / output / version
    os.rename(staging.final, target)
    return DatasetVersion(output, version, target)
