"""Running a mix and publishing it: the manifest's `mix` block and the atomic rename."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from time import perf_counter
from typing import Any

import xxhash

from winnow.curate.mix.draw import Draw, describe_draw, draw_rows, plan_mix, shuffle_into
from winnow.curate.mix.inputs import MixSource, Staging, check_names, open_input
from winnow.curate.mix.spec import MixOptions, shares_of
from winnow.curate.mix.tokens import load_counter
from winnow.errors import WinnowError
from winnow.files import write_json
from winnow.manifest import build_mix_manifest
from winnow.workspace import DatasetVersion, Workspace, check_name

ID_RULE = "a repeated row's id is ID#N for its N-th repeat (mix_epoch N); source_id keeps ID"
"""How ids of repeated rows are derived, recorded in the manifest."""


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
        check_names(sources)
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
