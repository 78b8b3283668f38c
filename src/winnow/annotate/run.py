"""Annotate a seeded sample of a dataset: ask for what the cache lacks, parse every reply by the
prompt's rule, and publish the scored rows as a dataset whose quarantine holds the rest."""

from __future__ import annotations

import platform
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xxhash

from winnow.annotate.annotators import Annotator, settings_key
from winnow.annotate.cache import ReplyCache, document_key
from winnow.annotate.parse import parse_score
from winnow.annotate.prompts import AnnotationPrompt
from winnow.curate.readers.base import QUARANTINE_SCHEMA, RAW_LIMIT
from winnow.errors import WinnowError
from winnow.files import write_json, write_parquet
from winnow.manifest import kept_content, package_versions, split_summary
from winnow.workspace import SPLITS, DatasetVersion, Workspace, check_name

SCHEMA = {
    "id": pl.Utf8,
    "text": pl.Utf8,
    "score": pl.Int64,
    "reply": pl.Utf8,
    "prompt": pl.Utf8,
    "prompt_hash": pl.Utf8,
    "annotator": pl.Utf8,
}
"""Columns of an annotation dataset's kept rows."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Plan:
    """What to annotate: the dataset, how many rows, the sample's seed, the output's name."""

    version: DatasetVersion
    sample: int
    seed: int
    output: str


def sample_rows(version: DatasetVersion, size: int, seed: int) -> pl.DataFrame:
    """`size` kept rows (all, if fewer) ordered by xxh64 of seed and id: the same sample for the
    same seed whatever the row order or library versions, and a larger sample contains a
    smaller one."""
    files = sorted((version.path / "kept").glob("*.parquet"))
    if not files:
        raise WinnowError(f"{version.ref} has no kept rows to annotate; pick another dataset.")
    frame = pl.scan_parquet(files).select("id", "text").collect()
    order = [xxhash.xxh64_intdigest(f"{seed}:{i}".encode()) for i in frame["id"].to_list()]
    ranked = frame.with_columns(pl.Series("__order", order, dtype=pl.UInt64))
    return (
        ranked.sort("__order").head(size).drop("__order").with_columns(pl.col("text").fill_null(""))
    )


def ask_missing(
    rows: pl.DataFrame,
    prompt: AnnotationPrompt,
    annotator: Annotator,
    cache: ReplyCache,
    progress: Progress,
) -> dict[str, str]:
    """Send every document the cache lacks, a batch at a time, caching each good reply as its
    batch returns; the errors by document key."""
    wanted: dict[str, str] = {}
    for text in rows["text"].to_list():
        key = document_key(text)
        if key not in cache.replies:
            wanted.setdefault(key, text)
    errors: dict[str, str] = {}
    keys = list(wanted)
    for start in range(0, len(keys), annotator.batch_size):
        batch = keys[start : start + annotator.batch_size]
        replies = annotator.answer([prompt.render(wanted[k]) for k in batch], prompt.max_new_tokens)
        good = []
        for key, reply in zip(batch, replies, strict=True):
            if reply.error is not None:
                errors[key] = reply.error
            else:
                seconds = round(reply.seconds, 3)
                good.append(
                    {
                        "doc": key,
                        "reply": reply.text,
                        "truncated": reply.truncated,
                        "seconds": seconds,
                    }
                )
        cache.add(good)
        progress(start + len(batch), len(keys))
    return errors


def judge(
    rows: pl.DataFrame,
    prompt: AnnotationPrompt,
    label: str,
    cache: ReplyCache,
    errors: dict[str, str],
    source: str,
) -> tuple[pl.DataFrame, pl.DataFrame, Counter]:
    """Kept rows with a score, quarantined rows (with the raw reply or error) and the counts."""
    kept, aside, counts = [], [], Counter()
    for number, (row_id, text) in enumerate(rows.select("id", "text").iter_rows(), start=1):
        key = document_key(text)
        if key in errors:
            counts["error"] += 1
            aside.append((number, f"{row_id}: annotator error: {errors[key]}", ""))
            continue
        entry = cache.replies[key]
        reply = entry["reply"]
        score, why = parse_score(reply, prompt, entry["truncated"])
        if why is not None:
            counts[why] += 1
            aside.append((number, f"{row_id}: {why}", reply[:RAW_LIMIT]))
            continue
        counts["scored"] += 1
        kept.append((row_id, text, score, reply, prompt.name, prompt.hash, label))
    quarantine = pl.DataFrame(
        [(source, n, error, raw) for n, error, raw in aside], schema=QUARANTINE_SCHEMA, orient="row"
    )
    return pl.DataFrame(kept, schema=SCHEMA, orient="row"), quarantine, counts


def annotate_sample(
    ws: Workspace,
    plan: Plan,
    prompt: AnnotationPrompt,
    annotator: Annotator,
    progress: Progress,
) -> DatasetVersion:
    """Annotate the plan's sample and publish it; every reply stays cached even if this fails."""
    check_name(plan.output)
    started = time.perf_counter()
    rows = sample_rows(plan.version, plan.sample, plan.seed)
    settings = annotator.settings()
    cache = ReplyCache(ws, settings, prompt.record())
    cached = sum(document_key(t) in cache.replies for t in rows["text"].to_list())
    asking = time.perf_counter()
    errors = ask_missing(rows, prompt, annotator, cache, progress)
    asked_seconds = time.perf_counter() - asking
    if errors and len(errors) == rows.height:
        first = next(iter(errors.values()))
        raise WinnowError(
            f"--annotator {settings.get('url') or settings.get('model')}: every one of "
            f"{rows.height} requests failed (first: {first}); check that it runs and answers, "
            "then run the same command again."
        )
    label = str(settings.get("model") or settings.get("url"))
    kept, quarantine, counts = judge(rows, prompt, label, cache, errors, plan.version.ref)
    section = {
        "prompt": prompt.record(),
        "annotator": {
            **settings,
            "key": settings_key(settings),
            "batch_size": annotator.batch_size,
        },
        "sample": {"asked": plan.sample, "rows": rows.height, "seed": plan.seed},
        "cache": {"path": str(cache.path), "reused": cached, "torn_lines": cache.torn},
        "counts": {"sampled": rows.height, **dict(sorted(counts.items()))},
        "scores": {str(k): v for k, v in sorted(Counter(kept["score"].to_list()).items())},
        "asked": rows.height - cached,
        "asked_seconds": round(asked_seconds, 3),
        "documents_per_second": round((rows.height - cached) / asked_seconds, 3)
        if asked_seconds > 0 and rows.height > cached
        else None,
    }
    return publish(ws, plan, kept, quarantine, section, started)


def publish(
    ws: Workspace,
    plan: Plan,
    kept: pl.DataFrame,
    quarantine: pl.DataFrame,
    section: dict[str, Any],
    started: float,
) -> DatasetVersion:
    """Write the annotation dataset (staged, then renamed) with its lineage."""
    parent = plan.version

    def write(staging: Path, version: str) -> None:
        for split in SPLITS:
            (staging / split).mkdir(parents=True)
        if kept.height:
            write_parquet(kept, staging / "kept" / "part-00000.parquet")
        if quarantine.height:
            write_parquet(quarantine, staging / "quarantine" / "part-00000.parquet")
        fingerprint, text_bytes = kept_content(sorted((staging / "kept").glob("*.parquet")))
        recipe_hash = xxhash.xxh64_hexdigest(
            f"{section['prompt']['hash']}:{section['annotator']['key']}".encode()
        )
        manifest = {
            "name": plan.output,
            "version": version,
            "kind": "annotations",
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "counts": {
                "input": kept.height + quarantine.height,
                "kept": kept.height,
                "rejected": 0,
                "quarantined": quarantine.height,
                "kept_text_bytes": text_bytes,
            },
            "splits": {split: split_summary(staging / split) for split in SPLITS},
            "fingerprint": fingerprint,
            "parents": [
                {
                    "name": parent.name,
                    "version": parent.version,
                    "fingerprint": parent.manifest["fingerprint"],
                }
            ],
            "source": {
                "name": f"{parent.ref} annotated with {section['prompt']['name']}",
                "dataset": parent.ref,
                "files": [str(parent.path)],
                "hub_id": None,
                "format": "annotations",
                "text_field": "text",
                "id_field": "id",
                "licence": parent.manifest.get("source", {}).get("licence"),
                "fingerprint": parent.manifest["fingerprint"],
            },
            "recipe": {"name": "annotate", "path": None, "hash": recipe_hash, "steps": []},
            "steps": [],
            "annotate": section,
            "warnings": [] if kept.height else ["no reply gave a score; see the quarantine"],
            "versions": package_versions(),
            "platform": {"python": sys.version.split()[0], "machine": platform.machine()},
            "timings": {"total_seconds": round(time.perf_counter() - started, 3)},
        }
        write_json(manifest, staging / "manifest.json")

    return ws.publish(plan.output, write)
