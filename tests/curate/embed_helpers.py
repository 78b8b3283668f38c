"""Shared by the embedding-classifier tests: real text slices, an annotation dataset made by
`winnow curate annotate`'s code with planted scores, and an encoder that embeds each distinct
text once."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from winnow.annotate.annotators import Reply
from winnow.annotate.prompts import load_prompt
from winnow.annotate.run import Plan, annotate_sample
from winnow.curate.recipes import load_recipe
from winnow.curate.runner import RunOptions, run_recipe
from winnow.curate.sources import resolve_source
from winnow.embed.encoder import Encoder, load_encoder
from winnow.workspace import DatasetVersion, Workspace

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


@dataclass
class Planted:
    """An annotator whose every reply carries the score the test planted for its document."""

    scores: dict[str, int]
    batch_size: int = 16

    def answer(self, prompts: list[str], max_new_tokens: int) -> list[Reply]:
        """'Educational score: N' for each prompt, N planted for the document inside it."""
        return [Reply(f"Educational score: {self.scores[p]}", None, 0.0) for p in prompts]

    def settings(self) -> dict[str, str]:
        """What the manifest names the annotator."""
        return {"kind": "planted", "model": "planted"}


def write_annotations(ws: Workspace, name: str, good: list[str], bad: list[str]) -> DatasetVersion:
    """An annotation dataset made by `winnow curate annotate`'s own code from a dataset of the
    texts, by an annotator that scores `good` texts 3-5 and `bad` ones 0-2 (planted)."""
    texts = good + bad
    scores = [3 + i % 3 for i in range(len(good))] + [i % 3 for i in range(len(bad))]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.jsonl"
        lines = (json.dumps({"id": f"doc-{i}", "text": t}) + "\n" for i, t in enumerate(texts))
        path.write_text("".join(lines), encoding="utf-8")
        source = run_recipe(
            ws, load_recipe("unfiltered"), resolve_source(str(path)), f"{name}-texts", RunOptions()
        )
    prompt = load_prompt("fineweb-edu")
    kept = pl.read_parquet(source.split_glob("kept"))
    planted = {
        prompt.render(text): scores[int(row_id.removeprefix("doc-"))]
        for row_id, text in kept.select("id", "text").iter_rows()
    }
    plan = Plan(source, len(texts), 0, name)
    return annotate_sample(ws, plan, prompt, Planted(planted), lambda done, total: None)


def read_card(folder: Path) -> dict:
    """A model folder's card."""
    return json.loads((folder / "card.json").read_text())
