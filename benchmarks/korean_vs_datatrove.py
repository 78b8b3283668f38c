"""Winnow's Gopher and FineWeb steps on Korean text, eojeol and Kiwi splits, beside datatrove.

Run from the project root as `.venv/bin/python benchmarks/korean_vs_datatrove.py
[--comments N] [--rounds N] [--show N]`. datatrove 0.10.1 runs in benchmarks/.venv-datatrove
(made from benchmarks/requirements-datatrove.txt if missing; its Korean word tokenizer is
Kiwi, kiwipiepy 0.21 "sbg") in a child process that re-runs this file in worker mode.

Agreement: keep/drop per document for each family (gopher_repetition, gopher_quality,
fineweb) and each Winnow split (`tokenizer: eojeol`, `tokenizer: kiwi`) on four Korean
inputs: the first N news comments, the constitution as one document per article (split
before each `제N조` heading), the KLUE STS dev `sentence1` fields and the first N
hate-speech comments. Both sides run default thresholds, except that datatrove's Gopher
quality gets the Korean stop words and word-length bounds (1 to 6) of fineweb-2's
kor_Hang config, as fineweb-2 runs it: with its English default every Korean document fails
its stop-word rule.

Speed, on all four inputs at once, in CPU seconds (`time.process_time` in-process; user plus
system time of the child processes for whole runs), Polars on one thread: the step alone
(web-ko's word-based steps, gopher_repetition then gopher_quality, on one shard with the
split warm and the token cache cold; datatrove's two filters on every document), and whole
runs including start-up (`winnow curate run` with web-ko, once with each split, and with
comments-ko, against datatrove's LocalPipelineExecutor reading JSONL, running its two filters
and writing JSONL).

First, what web-ko keeps of the constitution (one document per article, and one per line)
and of the KLUE sentences, with the shipped recipe (kiwi) and with `tokenizer: eojeol`.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("POLARS_MAX_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from heuristics_vs_datatrove import ROOT, SHARED  # noqa: E402
from whole_runs import (  # noqa: E402
    FilterSpec,
    child,
    datatrove_command,
    datatrove_env,
    datatrove_filter,
    ensure_datatrove_venv,
    winnow_command,
)

KOREAN = SHARED / "korean"
FAMILIES = ("gopher_repetition", "gopher_quality", "fineweb")
SPLITS = ("eojeol", "kiwi")
# fineweb-2's configs/kor_Hang.yml (huggingface/fineweb-2): stop words and word-length bounds
# of its Gopher quality filter for Korean, in Kiwi morphemes.
FINEWEB2_STOP_WORDS = (
    "의", "다", "이", "는", "에", "을", "한", "년", "하", "은", "를", "했", "고", "에서", "가",
    "있", "으로", "인", "월", "로", "되",
)  # fmt: skip
FINEWEB2_WORD_LENGTH = {"min_avg_word_length": 1, "max_avg_word_length": 6}
WARM_UP = 16
DATATROVE_FILTERS: dict[str, FilterSpec] = {
    "gopher_repetition": ("GopherRepetitionFilter", {"language": "ko"}),
    "gopher_quality": (
        "GopherQualityFilter",
        {"language": "ko", "stop_words": list(FINEWEB2_STOP_WORDS), **FINEWEB2_WORD_LENGTH},
    ),
    "fineweb": ("FineWebQualityFilter", {"language": "ko"}),
}
"""datatrove's three filters for Korean, configured as the module docstring says."""


def articles() -> list[str]:
    """The constitution, one document per article (the preamble and chapter heads dropped)."""
    text = (KOREAN / "constitution.txt").read_text(encoding="utf-8")
    parts = re.split(r"(?m)^\s*(?=제\d+조(?:의\d+)?\s)", text)
    return [p.strip() for p in parts[1:] if p.strip()]


def corpora(comments: int) -> dict[str, list[str]]:
    """The four Korean inputs, by name."""
    with gzip.open(KOREAN / "news_comments.txt.gz", "rt", encoding="utf-8") as handle:
        news = [line.strip() for line in handle if line.strip()][:comments]
    klue = json.loads((KOREAN / "klue-sts-v1.1_dev.json").read_text(encoding="utf-8"))
    with open(KOREAN / "hate_speech_train.tsv", encoding="utf-8", newline="") as handle:
        hate = [row["comments"] for row in csv.DictReader(handle, delimiter="\t")][:comments]
    return {
        f"news comments (first {len(news)})": news,
        "constitution articles": articles(),
        "KLUE STS dev sentence1": [row["sentence1"] for row in klue],
        f"hate-speech comments (first {len(hate)})": hate,
    }


def decisions_worker(docs_path: str, out_path: str, rounds: int) -> None:
    """Inside datatrove's virtualenv: each family's reasons per corpus, and the timed pair."""
    from datatrove.data import Document
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    load_word_tokenizer("ko").word_tokenize("토크나이저를 미리 불러 둔다.")
    filters = {family: datatrove_filter(*spec) for family, spec in DATATROVE_FILTERS.items()}
    named = json.loads(Path(docs_path).read_text(encoding="utf-8"))
    result: dict = {"reasons": {}}
    for name, texts in named.items():
        result["reasons"][name] = {}
        for family, step in filters.items():
            out = [step.filter(Document(text=t, id=str(i))) for i, t in enumerate(texts)]
            result["reasons"][name][family] = [
                None if d is True else (d[1] if isinstance(d, tuple) else "drop") for d in out
            ]
    texts = [t for batch in named.values() for t in batch]
    pair = (filters["gopher_repetition"], filters["gopher_quality"])
    times = []
    for _ in range(rounds):
        documents = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
        start = time.process_time()
        for doc in documents:
            for step in pair:
                if step.filter(doc) is not True:
                    break
        times.append(time.process_time() - start)
    result["pair_seconds"] = min(times)
    Path(out_path).write_text(json.dumps(result), encoding="utf-8")


def winnow_reasons(texts: list[str]) -> dict[str, dict[str, list[str | None]]]:
    """Each family's reasons with each split, on one shard."""
    import polars as pl

    from winnow.curate.steps import STEPS

    frame = pl.DataFrame({"text": texts}, schema={"text": pl.Utf8})
    return {
        split: {
            family: STEPS[family](tokenizer=split)
            .score(frame)
            .select(STEPS[family](tokenizer=split).reason())
            .to_series()
            .to_list()
            for family in FAMILIES
        }
        for split in SPLITS
    }


def winnow_pair_seconds(texts: list[str], split: str, rounds: int) -> float:
    """CPU seconds of web-ko's gopher_repetition then gopher_quality on one shard, split warm."""
    import polars as pl

    from winnow.curate.steps import STEPS
    from winnow.curate.text.stats import TOKEN_CACHE

    frame = pl.DataFrame({"text": texts}, schema={"text": pl.Utf8})
    steps = [STEPS[f](tokenizer=split) for f in ("gopher_repetition", "gopher_quality")]
    for step in steps:  # compile, load Kiwi: not timed
        step.score(frame.head(WARM_UP)).select(step.reason())
    times = []
    for _ in range(rounds):
        TOKEN_CACHE.clear()
        start = time.process_time()
        scored = frame
        for step in steps:
            scored = step.score(scored)
            scored = scored.filter(step.reason().is_null())
        times.append(time.process_time() - start)
    return min(times)


def agreement_table(named: dict[str, list[str]], theirs: dict, show: int) -> list[str]:
    """Agreement per input, family and split, with the drops on each side."""
    lines = [
        "| input | docs | family | datatrove drops | eojeol drops | eojeol agreement | "
        "kiwi drops | kiwi agreement |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    examples = []
    totals = {(f, s): [0, 0] for f in FAMILIES for s in SPLITS}
    for name, texts in named.items():
        ours = winnow_reasons(texts)
        for family in FAMILIES:
            a = theirs[name][family]
            row = [name, str(len(texts)), family, str(sum(r is not None for r in a))]
            for split in SPLITS:
                b = ours[split][family]
                agree = sum((x is None) == (y is None) for x, y in zip(a, b, strict=True))
                totals[family, split][0] += agree
                totals[family, split][1] += len(texts)
                row += [str(sum(r is not None for r in b)), f"{100 * agree / len(texts):.1f}%"]
                diff = [
                    i
                    for i, (x, y) in enumerate(zip(a, b, strict=True))
                    if (x is None) != (y is None)
                ]
                examples += [
                    f"{family} {split} {name} #{i}: datatrove={a[i]} winnow={b[i]} "
                    f"| {texts[i][:70]!r}"
                    for i in diff[:show]
                ]
            lines.append("| " + " | ".join(row) + " |")
    for family in FAMILIES:
        cells = []
        for split in SPLITS:
            agree, n = totals[family, split]
            cells.append(f"{100 * agree / n:.1f}%")
        lines.append(f"| all four | {n} | {family} | | | {cells[0]} | | {cells[1]} |")
    return [*lines, "", *examples]


def recipe_with(split: str, folder: Path) -> Path:
    """web-ko with every word-based step set to this split, as a YAML file."""
    import yaml

    recipe = yaml.safe_load((ROOT / "catalogs" / "recipes" / "web-ko.yaml").read_text())
    for entry in recipe["steps"]:
        if entry["step"] in FAMILIES:
            entry["tokenizer"] = split
    path = folder / f"web-ko-{split}.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    return path


def speed_table(texts: list[str], rounds: int, theirs: dict) -> list[str]:
    """Docs per CPU-second: the steps alone and whole runs, each split and datatrove."""
    n = len(texts)
    alone = {split: winnow_pair_seconds(texts, split, rounds) for split in SPLITS}
    alone["datatrove"] = theirs["pair_seconds"]
    whole = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        docs = folder / "docs.jsonl"
        docs.write_text(
            "".join(
                json.dumps({"id": str(i), "text": t}, ensure_ascii=False) + "\n"
                for i, t in enumerate(texts)
            ),
            encoding="utf-8",
        )
        for split in SPLITS:
            recipe = recipe_with(split, folder)
            command = winnow_command(recipe, docs, f"ko-{split}", folder / f"ws-{split}")
            whole[split] = child(command)[1]
        command = winnow_command("comments-ko", docs, "ko-comments", folder / "ws-comments")
        whole["comments-ko"] = child(command)[1]
        pair = [DATATROVE_FILTERS["gopher_repetition"], DATATROVE_FILTERS["gopher_quality"]]
        command = datatrove_command(docs, folder / "dt-run", pair)
        whole["datatrove"] = child(command, datatrove_env())[1]
    lines = [
        "| side | steps alone: CPU s | docs/CPU-s | whole run: CPU s | docs/CPU-s |",
        "|---|---:|---:|---:|---:|",
    ]
    for side, label in (
        ("eojeol", "web-ko, tokenizer: eojeol"),
        ("kiwi", "web-ko, tokenizer: kiwi"),
        ("comments-ko", "comments-ko (no word split: short_text, dedup, toxicity)"),
        ("datatrove", "datatrove 0.10.1, Kiwi (sbg)"),
    ):
        steps = f"{alone[side]:.2f} | {n / alone[side]:,.0f}" if side in alone else "– | –"
        lines.append(f"| {label} | {steps} | {whole[side]:.2f} | {n / whole[side]:,.0f} |")
    return [*lines, ""]


def keeps_table() -> list[str]:
    """What web-ko keeps, with each split, of the constitution (by article and by line) and of
    the KLUE sentences, with the removals by step and reason."""
    lines = [
        "| input | split | read | kept | removed by step (reason: rows) |",
        "|---|---|---:|---:|---|",
    ]
    klue = json.loads((KOREAN / "klue-sts-v1.1_dev.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inputs = []
        for name, texts in (
            ("constitution, one document per article", articles()),
            ("KLUE STS dev sentence1", [row["sentence1"] for row in klue]),
        ):
            path = folder / f"{len(inputs)}.jsonl"
            path.write_text(
                "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts),
                encoding="utf-8",
            )
            inputs.append((name, path, []))
        inputs.insert(
            1,
            (
                "constitution.txt, one per line",
                KOREAN / "constitution.txt",
                ["--text-mode", "line"],
            ),
        )
        for name, path, options in inputs:
            for split in SPLITS:
                output = f"k{len(lines)}"
                recipe = recipe_with(split, folder)
                command = winnow_command(recipe, path, output, folder / "ws")
                subprocess.run([*command, *options], check=True, capture_output=True)
                manifest = json.loads(
                    (folder / "ws" / "datasets" / output / "v1" / "manifest.json").read_text()
                )
                removed = "; ".join(
                    f"{s['step']} ({', '.join(f'{r}: {n:,}' for r, n in s['removed'].items())})"
                    for s in manifest["steps"]
                    if s.get("removed")
                )
                counts = manifest["counts"]
                lines.append(
                    f"| {name} | {split} | {counts['input']:,} | {counts['kept']:,} | {removed} |"
                )
    return [*lines, ""]


def main() -> None:
    """Parse arguments, run both sides, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=2000, help="news and hate-speech comments")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; the fastest counts")
    parser.add_argument("--show", type=int, default=0, help="print N disagreements per table row")
    parser.add_argument("--decisions-worker", nargs=2, metavar=("DOCS", "OUT"))
    args = parser.parse_args()
    if args.decisions_worker:
        decisions_worker(*args.decisions_worker, args.rounds)
        return
    print("What web-ko keeps (the shipped recipe is the kiwi row)")
    print("\n".join(keeps_table()))
    named = corpora(args.comments)
    python = ensure_datatrove_venv()
    with tempfile.TemporaryDirectory() as tmp:
        docs, out = Path(tmp, "docs.json"), Path(tmp, "out.json")
        docs.write_text(json.dumps(named), encoding="utf-8")
        command = [str(python), __file__, "--decisions-worker", str(docs), str(out)]
        subprocess.run([*command, "--rounds", str(args.rounds)], check=True, env=datatrove_env())
        theirs = json.loads(out.read_text(encoding="utf-8"))
    print(f"polars threads: {os.environ['POLARS_MAX_THREADS']}; fastest of {args.rounds} rounds")
    print("\n".join(agreement_table(named, theirs["reasons"], args.show)))
    texts = [t for batch in named.values() for t in batch]
    print(f"Speed on all four inputs together: {len(texts)} documents")
    print("\n".join(speed_table(texts, args.rounds, theirs)))


if __name__ == "__main__":
    main()
