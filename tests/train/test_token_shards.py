"""Packed token shards on real web text: each document's ids then EOS, the same bytes with
worker processes, reused by later runs, resumed after an interruption without trusting a
half-written file; blocks that cover each document once and never split one across the
training and held-out parts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.train.conftest import Lab
from winnow.curate.recipes import recipe_from_entries
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.train import token_shards
from winnow.train.blocks import split_blocks
from winnow.train.token_shards import build_shards
from winnow.workspace import DatasetVersion, Workspace


@pytest.fixture(scope="module")
def tokenizer(lab: Lab):  # noqa: ANN201
    """The lab base's tokenizer (a byte-level BPE trained on the same text)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(lab.root / "runs" / lab.base / "model")


def web_version(root: Path, shared_data: Path) -> DatasetVersion:
    """The real C4 sample curated into kept files of 50 rows each."""
    ws = Workspace(root)
    recipe = recipe_from_entries("text", [{"step": "normalize"}], "token shard tests")
    source = resolve_source(str(shared_data / "web" / "c4_demo.jsonl"))
    return run_recipe(ws, recipe, source, "web", RunOptions(batch_rows=50))


def expected_stream(version: DatasetVersion, tokenizer) -> list[list[int]]:  # noqa: ANN001
    """Each kept document's ids straight from the tokenizer, EOS added when it has none."""
    files = sorted((version.path / "kept").glob("*.parquet"))
    out = []
    for path in files:
        for text in pl.read_parquet(path)["text"]:
            ids = tokenizer(text)["input_ids"]
            out.append(ids if ids[-1] == tokenizer.eos_token_id else [*ids, tokenizer.eos_token_id])
    return out


def shard_bytes(folder: Path) -> dict[str, bytes]:
    """Every finished shard file's bytes, by name."""
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.bin"))}


def test_shards_hold_every_document_then_eos_and_workers_agree(
    tmp_path: Path, shared_data: Path, tokenizer
) -> None:  # noqa: ANN001
    version = web_version(tmp_path / "one", shared_data)
    shards, reused = build_shards(Workspace(tmp_path / "one"), version, tokenizer)
    assert not reused and shards.dtype == "uint16"
    truth = expected_stream(version, tokenizer)
    assert shards.documents == len(truth) == version.manifest["counts"]["kept"]
    assert len(shards.shards) == len(list((version.path / "kept").glob("*.parquet"))) > 1
    stream = np.concatenate(
        [np.fromfile(shards.folder / s["name"], np.uint16) for s in shards.shards]
    )
    assert stream.tolist() == [t for doc in truth for t in doc]
    assert shards.tokens == len(stream)
    lengths = np.concatenate(
        [np.load(shards.folder / s["name"].replace(".bin", ".idx.npy")) for s in shards.shards]
    )
    assert lengths.tolist() == [len(doc) for doc in truth]

    again, reused = build_shards(Workspace(tmp_path / "one"), version, tokenizer)
    assert reused and again.shards == shards.shards

    pooled_version = web_version(tmp_path / "two", shared_data)
    pooled, _ = build_shards(Workspace(tmp_path / "two"), pooled_version, tokenizer, workers=2)
    assert pooled.folder.name == shards.folder.name
    assert shard_bytes(pooled.folder) == shard_bytes(shards.folder)


def test_an_interrupted_tokenization_resumes_and_nothing_half_written_is_trusted(
    tmp_path: Path, shared_data: Path, tokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    clean_version = web_version(tmp_path / "clean", shared_data)
    clean, _ = build_shards(Workspace(tmp_path / "clean"), clean_version, tokenizer)
    version = web_version(tmp_path / "crash", shared_data)
    real = token_shards.document_ids
    calls = {"n": 0}

    def failing(tok, texts, eos):  # noqa: ANN001, ANN202
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk went away")
        return real(tok, texts, eos)

    monkeypatch.setattr(token_shards, "document_ids", failing)
    ws = Workspace(tmp_path / "crash")
    with pytest.raises(OSError, match="disk went away"):
        build_shards(ws, version, tokenizer)
    folder = token_shards.cache_folder(ws, version, tokenizer)
    assert not (folder / "index.json").exists()
    assert sorted(p.name for p in folder.glob("*.json")) == ["00000.json", "00001.json"]
    assert not list(folder.glob("*partial*")) and not (folder / "00002.bin").exists()
    finished = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.bin")}
    monkeypatch.setattr(token_shards, "document_ids", real)
    resumed, reused = build_shards(ws, version, tokenizer)
    assert not reused
    assert {p: (folder / p).stat().st_mtime_ns for p in finished} == finished
    assert shard_bytes(resumed.folder) == shard_bytes(clean.folder)
    assert resumed.shards == clean.shards


def test_blocks_cover_each_document_once_split_by_document(
    tmp_path: Path, shared_data: Path, tokenizer
) -> None:  # noqa: ANN001
    version = web_version(tmp_path, shared_data)
    shards, _ = build_shards(Workspace(tmp_path), version, tokenizer)
    truth = expected_stream(version, tokenizer)
    train, held = split_blocks(shards, 64, 0.1, seed=3)
    assert held is not None
    assert held.documents == round(len(truth) * 0.1)
    assert train.documents + held.documents == len(truth)
    train_docs = {(int(s), int(b)) for s, b in zip(train.shard, train.start, strict=True)}
    held_docs = {(int(s), int(b)) for s, b in zip(held.shard, held.start, strict=True)}
    assert not train_docs & held_docs
    starts = []
    for n, meta in enumerate(shards.shards):
        lengths = np.load(shards.folder / meta["name"].replace(".bin", ".idx.npy"))
        starts += [(n, int(b)) for b in np.concatenate(([0], np.cumsum(lengths)[:-1]))]
    for part in (train, held):
        mine = {(int(s), int(b)) for s, b in zip(part.shard, part.start, strict=True)}
        chosen = [doc for doc, key in zip(truth, starts, strict=True) if key in mine]
        stream = [t for doc in chosen for t in doc]
        assert len(part) == len(stream) // 64
        blocks = [part[i]["input_ids"].tolist() for i in range(len(part))]
        assert [t for block in blocks for t in block] == stream[: len(part) * 64]
        assert part[0]["labels"].tolist() == blocks[0]
    other, _ = split_blocks(shards, 64, 0.1, seed=4)
    assert other.documents == train.documents and not np.array_equal(other.start, train.start)
    first, none = split_blocks(shards, 64, 0.0, seed=3, max_documents=20)
    assert none is None and first.documents == 20
    assert first.tokens == sum(len(doc) for doc in truth[:20])
    with pytest.raises(IndexError):
        first[len(first)]


def test_the_perplexity_eval_holds_out_what_pretraining_held_out(
    lab: Lab, tmp_path: Path, tokenizer
) -> None:  # noqa: ANN001
    """The perplexity eval's held-out documents are those the base's pretraining run held out:
    as many as its run.json counts, and token for token the held-out documents of the token
    shards as `split_blocks` chooses them."""
    from winnow.evals.heldout import heldout_values
    from winnow.files import read_json
    from winnow.train.models import resolve_base

    values = heldout_values(lab.ws, lab.text, resolve_base(lab.base, lab.ws), tmp_path)
    lines = Path(values["heldout_files"]).read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines]
    record = read_json(lab.root / "runs" / lab.base / "run.json")
    assert len(texts) == record["data"]["eval_documents"] == 15
    shards, _ = build_shards(lab.ws, lab.ws.dataset(lab.text), tokenizer)
    _, held = split_blocks(shards, 128, record["config"]["eval_fraction"], record["config"]["seed"])
    assert held is not None and held.documents == len(texts)
    starts = np.concatenate(([0], held.end[:-1]))
    stored = [
        np.frombuffer(held.read(n, 0, int(held.end[n] - starts[n])), held.dtype).tolist()
        for n in range(held.documents)
    ]
    eos = tokenizer.eos_token_id
    assert stored == [[*tokenizer(text)["input_ids"], eos] for text in texts]
