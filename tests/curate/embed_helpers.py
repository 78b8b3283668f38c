"""Shared by the embedding-classifier tests: real text slices, an annotation dataset written as
`winnow curate annotate` writes one, and an encoder that embeds each distinct text once."""

from __future__ import annotations

import json
import platform
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from winnow.embed.encoder import Encoder, load_encoder
from winnow.files import write_json, write_parquet
from winnow.manifest import kept_content, package_versions, split_summary
from winnow.workspace import SPLITS, DatasetVersion, Workspace

C4 = "web/c4_demo.jsonl"
WIKI = "web/wiki_demo.txt"
CC = "web/CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"


@contextmanager
def memoized_encoder() -> Iterator[Encoder]:
    """The process's minilm encoder, embedding each distinct text once while the block runs
    (many trainings on the same documents then cost one embedding each); restored after."""
    encoder = load_encoder("minilm", "auto")
    original = encoder.encode
    memo: dict[str, np.ndarray] = {}

    def encode(texts: list[str], batch_size: int = 64) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in memo))
        if missing:
            for text, vector in zip(missing, original(missing, batch_size), strict=True):
                memo[text] = vector
        if not texts:
            return np.zeros((0, encoder.dim), dtype=np.float32)
        return np.stack([memo[t] for t in texts])

    encoder.encode = encode  # type: ignore[method-assign]
    try:
        yield encoder
    finally:
        del encoder.encode


def wiki_paragraphs(shared_data: Path) -> list[str]:
    """The paragraphs (over 300 characters) of the Wikipedia articles in wiki_demo.txt, whose
    lines are whole articles with paragraphs run together ("...socialism.Humans lived...")."""
    lines = (shared_data / WIKI).read_text(encoding="utf-8").splitlines()
    split = (re.split(r"(?<=[a-z]\.)(?=[A-Z])", line) for line in lines)
    return [p for parts in split for p in parts if len(p) > 300]


def real_texts(shared_data: Path, per_side: int) -> tuple[list[str], list[str]]:
    """`per_side` Wikipedia paragraphs (spread over the articles) and the first `per_side`
    non-empty Common Crawl pages (raw, boilerplate-heavy web text)."""
    paragraphs = wiki_paragraphs(shared_data)
    wiki = paragraphs[:: max(1, len(paragraphs) // per_side)][:per_side]
    cc = pl.read_ndjson(shared_data / CC)["text"]
    cc = cc.filter(cc.str.strip_chars().str.len_chars() > 0).head(per_side).to_list()
    return wiki, cc


def write_annotations(ws: Workspace, name: str, good: list[str], bad: list[str]) -> DatasetVersion:
    """A dataset with an annotation dataset's kept columns (id, text, score Int64, reply,
    prompt, prompt_hash, annotator): `good` texts score 3-5, `bad` ones 0-2 (planted)."""
    texts = good + bad
    scores = [3 + i % 3 for i in range(len(good))] + [i % 3 for i in range(len(bad))]
    frame = pl.DataFrame(
        {
            "id": [f"doc-{i}" for i in range(len(texts))],
            "text": texts,
            "score": pl.Series(scores, dtype=pl.Int64),
            "reply": [f"Educational score: {s}" for s in scores],
            "prompt": ["fineweb-edu"] * len(texts),
            "prompt_hash": ["0" * 16] * len(texts),
            "annotator": ["planted"] * len(texts),
        }
    )

    def write(staging: Path, version: str) -> None:
        for split in SPLITS:
            (staging / split).mkdir(parents=True)
        write_parquet(frame, staging / "kept" / "part-00000.parquet")
        fingerprint, text_bytes = kept_content(sorted((staging / "kept").glob("*.parquet")))
        manifest = {
            "name": name,
            "version": version,
            "kind": "annotations",
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "counts": {
                "input": frame.height,
                "kept": frame.height,
                "rejected": 0,
                "quarantined": 0,
                "kept_text_bytes": text_bytes,
            },
            "splits": {split: split_summary(staging / split) for split in SPLITS},
            "fingerprint": fingerprint,
            "parents": [],
            "source": {"name": "planted scores", "files": [], "hub_id": None, "licence": None},
            "recipe": {"name": "annotate", "path": None, "hash": "0", "steps": []},
            "steps": [],
            "warnings": [],
            "versions": package_versions(),
            "platform": {"python": sys.version.split()[0], "machine": platform.machine()},
            "timings": {"total_seconds": 0.0},
        }
        write_json(manifest, staging / "manifest.json")

    return ws.publish(name, write)


def read_card(folder: Path) -> dict:
    """A model folder's card."""
    return json.loads((folder / "card.json").read_text())
