"""Synthesize instruction rows: sample seed tasks, prompt the generator, parse, filter, publish.

Every reply is parsed into tasks; blocks that are not tasks, and tasks dropped as duplicates or
as too similar to the pool (ROUGE-L), go to the version's quarantine with their reason and
raw text. Kept rows are written as Alpaca JSONL and curated by `winnow curate instruct`'s
pipeline, so rendering, validation and the manifest are the same; the manifest's `source`
names the seeds and its `synthesize` section the generator, its settings and the counts.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import xxhash

from winnow.curate.readers.base import QUARANTINE_SCHEMA, RAW_LIMIT
from winnow.curate.recipes import Recipe
from winnow.curate.runner import RunOptions
from winnow.errors import WinnowError
from winnow.files import read_json, write_json
from winnow.instruct.build import Imported, import_file
from winnow.instruct.run import curate_instruct
from winnow.records import file_hash
from winnow.synthesize.generators import Generator
from winnow.synthesize.prompt import Task, format_prompt, parse_reply, reply_text
from winnow.synthesize.rouge import Pool
from winnow.workspace import DatasetVersion, Workspace, check_name

SEED_COLUMNS = ("id", "instruction", "input", "output")
"""Columns read from a workspace dataset of seeds."""


@dataclass(frozen=True)
class Seed:
    """A seed task and the id it is cited by in `prompt_seeds`."""

    id: str
    task: Task


@dataclass
class Seeds:
    """Seed tasks (one per distinct instruction) and where they came from."""

    tasks: list[Seed]
    source: dict[str, Any]


@dataclass
class Outcome:
    """Kept rows, quarantined generations and counts of a synthesis."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


def distinct(rows: list[dict[str, Any]]) -> list[Seed]:
    """One seed per instruction (its first row), in order."""
    seeds: dict[str, Seed] = {}
    for row in rows:
        task = Task(row["instruction"], row["input"] or "", row["output"])
        seeds.setdefault(task.instruction, Seed(str(row["id"]), task))
    return list(seeds.values())


def load_seeds(arg: str, ws: Workspace) -> Seeds:
    """Seed tasks from any file `winnow curate instruct` reads, or a workspace NAME or NAME@vN."""
    path = Path(arg).expanduser()
    if path.exists():
        imported = import_file(path)
        source = {
            "name": path.stem,
            "files": [str(path)],
            "format": imported.format,
            "fingerprint": file_hash(path),
        }
        return Seeds(distinct(imported.rows.to_dicts()), source)
    try:
        version = ws.dataset(arg)
    except WinnowError as exc:
        raise WinnowError(
            f"--seeds {arg}: not a file nor a workspace dataset ({exc}); give an instruction "
            "file or NAME or NAME@vN."
        ) from exc
    frame = pl.read_parquet(version.split_glob("kept"))
    missing = [c for c in SEED_COLUMNS if c not in frame.columns]
    if missing:
        raise WinnowError(
            f"--seeds {version.ref}: has no column {', '.join(missing)}; give an instruct "
            "dataset (made by 'winnow curate instruct' or 'synthesize')."
        )
    source = {"name": version.ref, "dataset": version.ref, "rows": frame.height}
    return Seeds(distinct(frame.select(SEED_COLUMNS).to_dicts()), source)


def quarantined(generator: str, number: int, reason: str, raw: str) -> dict[str, Any]:
    """A quarantine row for generation `number`."""
    return {
        "source_file": generator,
        "line": number,
        "error": f"generation {number}: {reason}",
        "raw": raw[:RAW_LIMIT],
    }


def synthesize_rows(
    seeds: list[Seed],
    generator: Generator,
    name: str,
    n: int,
    seed: int,
    per_prompt: int,
    rouge: float,
) -> Outcome:
    """Prompt the generator `n` times and sort every parsed block into kept or quarantined."""
    rng = random.Random(seed)
    pool = Pool(rouge)
    for item in seeds:
        pool.add(item.task.instruction)
    outcome = Outcome()
    for number in range(1, n + 1):
        chosen = rng.sample(seeds, min(per_prompt, len(seeds)))
        prompt = format_prompt([s.task for s in chosen])
        reply = generator.generate(prompt, rng.randrange(2**31))
        tasks, bad = parse_reply(reply_text(prompt, reply))
        outcome.counts["generations"] += 1
        for reason, block in bad:
            outcome.counts["unparseable"] += 1
            outcome.quarantine.append(quarantined(name, number, reason, block))
        for k, task in enumerate(tasks):
            outcome.counts["parsed"] += 1
            dropped = pool.reason(task.instruction)
            if dropped:
                outcome.counts[dropped.split(":")[0]] += 1
                raw = json.dumps(task.__dict__, ensure_ascii=False)
                outcome.quarantine.append(quarantined(name, number, dropped, raw))
                continue
            pool.add(task.instruction)
            outcome.counts["kept"] += 1
            key = f"{name}\x1f{seed}\x1f{number}\x1f{k}"
            outcome.rows.append(
                {
                    "id": xxhash.xxh64_hexdigest(key.encode()),
                    **task.__dict__,
                    "generation": number,
                    "prompt_seeds": [s.id for s in chosen],
                }
            )
    return outcome


def with_lineage(imported: Imported, outcome: Outcome, name: str) -> Imported:
    """The imported rows with source = generator, generator and prompt_seeds, plus quarantine."""
    extra = pl.DataFrame(
        [
            {"id": r["id"], "generation": r["generation"], "prompt_seeds": r["prompt_seeds"]}
            for r in outcome.rows
        ],
        schema={"id": pl.Utf8, "generation": pl.Int64, "prompt_seeds": pl.List(pl.Utf8)},
    )
    rows = imported.rows.join(extra, on="id", how="left", maintain_order="left").with_columns(
        pl.lit(name).alias("source"), pl.lit(name).alias("generator")
    )
    dropped = pl.DataFrame(outcome.quarantine, schema=QUARANTINE_SCHEMA)
    reasons = Counter(imported.reasons)
    for row in outcome.quarantine:
        reasons[row["error"].split(": ", 1)[1].split(":")[0]] += 1
    return Imported(
        imported.format,
        rows,
        pl.concat([dropped, imported.quarantine]),
        dict(sorted(reasons.items())),
    )


def keep_rejected(ws: Workspace, outcome: Outcome, output: str, seed: int) -> Path:
    """Write the quarantined generations of a run that kept nothing, so none are lost."""
    path = ws.root / "runs" / "synthesize" / f"{output}-seed{seed}-rejected.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in outcome.quarantine]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def publish(
    ws: Workspace,
    recipe: Recipe,
    seeds: Seeds,
    outcome: Outcome,
    output: str,
    section: dict[str, Any],
) -> DatasetVersion:
    """Curate the kept rows through the instruct pipeline and record the synthesis."""
    check_name(output)
    if not outcome.rows:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(outcome.counts.items()))
        aside = keep_rejected(ws, outcome, output, section["seed"])
        raise WinnowError(
            f"--generator {section['generator']['name']}: no new rows to publish ({counts}; "
            f"rejected generations in {aside}); raise --n, use a stronger generator or raise "
            "--rouge."
        )
    with tempfile.TemporaryDirectory(prefix="winnow-synthesize-") as folder:
        path = Path(folder) / f"{output}-synthesized.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for row in outcome.rows:
                record = {k: row[k] for k in ("id", "instruction", "input", "output")}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        imported = with_lineage(import_file(path, "alpaca"), outcome, section["generator"]["name"])
        settings = {"map": None, "max_tokens": None, "tokenizer": None}
        files = [(path, path.name)]
        version = curate_instruct(ws, recipe, files, imported, output, RunOptions(), settings)
    manifest_path = version.path / "manifest.json"
    manifest = read_json(manifest_path)
    manifest["source"] = seeds.source
    manifest["synthesize"] = {**section, "counts": dict(sorted(outcome.counts.items()))}
    write_json(manifest, manifest_path)
    return version
