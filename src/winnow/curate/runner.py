"""Runs a recipe over a source shard by shard, resumably, and writes a new dataset version.

Phases, each resumable: the source is read into input shards (with each document's line), a
check over every shard's ids sets aside later documents that reuse an earlier id
(`duplicate_id`, quarantined naming the first), then each segment's steps run shard by shard.
Shards are numbered `FFFFF-BBBBB` (file, batch) the same way on every executor, and the id
check is one pass in shard order, so the same rows are set aside on every executor.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

import polars as pl
import xxhash

from winnow.curate.executors import Executor, RayExecutor, make_executor
from winnow.curate.readers.base import QUARANTINE_SCHEMA, RAW_LIMIT, empty_quarantine
from winnow.curate.recipes import Recipe
from winnow.curate.sources import SourceSpec, iter_documents, row_json
from winnow.curate.stats import merge_stats, step_stats
from winnow.curate.steps import Step
from winnow.curate.steps.base import GlobalContext, verdict_path
from winnow.errors import WinnowError
from winnow.files import read_json, write_json, write_parquet, writing
from winnow.manifest import build_manifest
from winnow.workspace import DatasetVersion, Workspace, check_name

Progress = Callable[[str, int], None]
"""Called with a phase label and the number of rows just finished."""


@dataclass
class Segment:
    """Row steps run shard by shard, optionally ending in one global step."""

    first_index: int
    row_steps: list[Step]
    global_step: Step | None = None


@dataclass
class RunOptions:
    """Knobs of one run that change its result or its strictness."""

    strict: bool = False
    batch_rows: int = 5_000
    workers: int | None = None
    executor: str = "local"
    address: str | None = None
    on_progress: Progress | None = None
    warnings: list[str] = field(default_factory=list)


def split_segments(steps: list[Step]) -> list[Segment]:
    """Cut the step list after each global step, which needs every shard before it decides."""
    segments = [Segment(0, [])]
    for index, step in enumerate(steps):
        if step.scope == "global":
            segments[-1].global_step = step
            segments[-1].row_steps.append(step)
            segments.append(Segment(index + 1, []))
        else:
            segments[-1].row_steps.append(step)
    if not segments[-1].row_steps and len(segments) > 1:
        segments.pop()
    return segments


def apply_row_steps(
    df: pl.DataFrame, segment: Segment
) -> tuple[pl.DataFrame, list[pl.DataFrame], list[dict[str, Any]]]:
    """Score and filter one shard through a segment's row steps; the global one only scores."""
    rejected, stats = [], []
    for offset, step in enumerate(segment.row_steps):
        index = segment.first_index + offset
        started = perf_counter()
        n_in = df.height
        df = step.score(df)
        tally = step.tally(df) if step.scope == "row" else {}
        dropped = None
        if step.scope == "row" and df.height:
            reasons = df.with_columns(step.reason().alias("reason"))["reason"]
            drop = reasons.is_not_null()
            if drop.any():
                dropped = df.filter(drop).with_columns(
                    pl.lit(step.name).alias("step"), reasons.filter(drop)
                )
                rejected.append(dropped)
                df = df.filter(~drop)
        # a global step's scoring (shingles, embeddings) counts toward its seconds; its rows
        # are counted when it decides, so this part adds no rows
        part = step_stats(index, step.name, n_in if step.scope == "row" else 0, dropped, tally)
        part["details"] = step.describe()
        part["seconds"] = perf_counter() - started
        stats.append(part)
    return df, rejected, stats


@dataclass(frozen=True)
class Layout:
    """Where a run keeps its shard files; small and picklable, so worker processes share it."""

    staging: Path

    def stage(self, segment: int, part: str, shard: str) -> Path:
        """Path of one shard's file in a phase of the staging folder."""
        return self.staging / f"s{segment}" / part / f"{shard}.parquet"

    def done_marker(self, segment: int, phase: str, shard: str) -> Path:
        """The stats file whose presence says a shard finished a phase."""
        return self.staging / f"s{segment}" / f"done-{phase}" / f"{shard}.json"

    def input(self, shard: str) -> Path:
        """A shard's documents as read (with `__line`), written last when the shard is read."""
        return self.staging / "input" / f"{shard}.parquet"

    def quarantine(self, shard: str) -> Path:
        """Rows of a shard's part of the source that could not be read."""
        return self.staging / "quarantine" / f"{shard}.parquet"

    def duplicates(self, shard: str) -> Path:
        """A shard's documents whose id an earlier document has: quarantine rows plus `__row`."""
        return self.staging / "duplicates" / f"{shard}.parquet"

    @property
    def read_done(self) -> Path:
        """Written when the whole source is read: the shard keys and the reader's warnings."""
        return self.staging / "read.json"

    @property
    def ids_done(self) -> Path:
        """Written when the id check has written every shard's duplicates."""
        return self.staging / "ids.json"


def stage_batch(layout: Layout, shard: str, docs: pl.DataFrame, quarantine: pl.DataFrame) -> None:
    """Write one read shard: its quarantine, then its documents (whose file marks it done)."""
    write_parquet(quarantine, layout.quarantine(shard), scratch=True)
    write_parquet(docs, layout.input(shard), scratch=True)


def load_input(layout: Layout, shard: str) -> pl.DataFrame:
    """A read shard's documents, less those whose id an earlier document has."""
    docs = pl.read_parquet(layout.input(shard))
    if layout.duplicates(shard).exists():
        rows = pl.read_parquet(layout.duplicates(shard), columns=["__row"])["__row"]
        keep = ~pl.int_range(0, docs.height, dtype=pl.UInt32, eager=True).is_in(rows.implode())
        docs = docs.filter(keep)
    return docs.drop("__line")


def find_duplicate_ids(layout: Layout, shards: list[str], strict: bool) -> int:
    """One pass over every shard's ids in shard order: each document whose id an earlier
    document already has is written to its shard's duplicates with a `duplicate_id` error
    naming the first. Returns how many there were."""
    frames = [
        pl.scan_parquet(layout.input(shard))
        .select("id", "__line")
        .with_row_index("__row")
        .with_columns(pl.lit(i, dtype=pl.Int64).alias("__shard"))
        for i, shard in enumerate(shards)
    ]
    ids = pl.concat(frames).with_columns(pl.col("id").is_first_distinct().alias("__first"))
    later = ids.filter(~pl.col("__first")).collect()
    if later.height:
        firsts = (
            ids.filter(pl.col("__first") & pl.col("id").is_in(later["id"].unique().implode()))
            .select("id", pl.col("__line").alias("__first_line"), pl.col("__shard").alias("__fs"))
            .collect()
        )
        later = later.join(firsts, on="id", how="left", maintain_order="left")
    for i, shard in enumerate(shards):
        mine = later.filter(pl.col("__shard") == i)
        if not mine.height:
            continue
        docs = pl.read_parquet(layout.input(shard))
        rows = docs[mine["__row"].to_list()]
        files = {n: _source_file(layout, shards[n]) for n in set(mine["__fs"].to_list())}
        errors = [
            f"line {line}: duplicate_id: id {_shown(key)} is already the id of "
            f"{files[first_shard]} line {first_line}; ids must be unique within a dataset, "
            "so this row is set aside: give each record its own id, or leave out --id-field "
            "for generated ones"
            for key, line, first_shard, first_line in mine.select(
                "id", "__line", "__fs", "__first_line"
            ).iter_rows()
        ]
        frame = pl.DataFrame(
            {
                "source_file": rows["source_file"],
                "line": rows["__line"],
                "error": errors,
                "raw": row_json(rows.drop("__line")).str.slice(0, RAW_LIMIT),
                "__row": mine["__row"],
            },
            schema={**QUARANTINE_SCHEMA, "__row": pl.UInt32},
        )
        check_strict(strict, frame)
        write_parquet(frame, layout.duplicates(shard), scratch=True)
    write_json({"duplicates": later.height}, layout.ids_done)
    return later.height


def _source_file(layout: Layout, shard: str) -> str:
    """The file a shard was read from."""
    column = pl.read_parquet(layout.input(shard), columns=["source_file"], n_rows=1)
    return str(column["source_file"][0]) if column.height else "?"


def _shown(key: str) -> str:
    """An id as quoted in a message, cut when long."""
    return repr(key if len(key) <= 80 else key[:77] + "...")


def finish_rows(
    layout: Layout, number: int, segment: Segment, shard: str, docs: pl.DataFrame | None
) -> int:
    """Process one shard through a segment's row steps, mark it done last, return its rows.

    `docs` None reads the shard's input: the read documents (less duplicate ids) for the
    first segment, the previous segment's kept shard for later ones.
    """
    if docs is None and number == 0:
        docs = load_input(layout, shard)
    elif docs is None:
        docs = pl.read_parquet(layout.stage(number - 1, "kept", shard))
    kept, rejected, stats = apply_row_steps(docs, segment)
    part = "scored" if segment.global_step else "kept"
    write_parquet(kept, layout.stage(number, part, shard), scratch=part == "scored")
    if rejected:
        frame = pl.concat(rejected, how="diagonal_relaxed")
        write_parquet(frame, layout.stage(number, "rejected", shard))
    write_json({"rows_in": docs.height, "steps": stats}, layout.done_marker(number, "rows", shard))
    return docs.height


class ShardPool:
    """Shard jobs on an executor, with at most 2 jobs per worker in flight."""

    def __init__(self, executor: Executor, on_done: Progress) -> None:
        self.executor, self.on_done = executor, on_done
        self.pending: deque[tuple[str, Any]] = deque()

    def submit(self, label: str, fn: Callable[..., int], *args: Any) -> None:
        """Start `fn(*args)`, which returns its rows; wait for the oldest once the window fills."""
        self.pending.append((label, self.executor.submit(fn, *args)))
        while len(self.pending) > 2 * self.executor.workers:
            self.reap()

    def reap(self) -> None:
        """Wait for the oldest pending job, re-raising its error here."""
        label, handle = self.pending.popleft()
        self.on_done(label, self.executor.result(handle))

    def __enter__(self) -> ShardPool:
        return self

    def __exit__(self, *exc: object) -> None:
        """Finish pending jobs on success; on an error, cancel them without waiting."""
        if exc[0] is not None:
            self.executor.cancel(handle for _, handle in self.pending)
            return
        while self.pending:
            self.reap()


def split_shard(layout: Layout, number: int, shard: str, verdict_path: Path, part: dict) -> int:
    """Split one scored shard by the global step's verdict; write kept, removed and its stats.

    `part` holds the step's statistics without the counts, which are taken here.
    """
    docs = pl.read_parquet(layout.stage(number, "scored", shard))
    # columns named "__..." carry what only the global step needed
    docs = docs.drop(c for c in docs.columns if c.startswith("__"))
    verdict = pl.read_parquet(verdict_path).sort("__row").drop("__row")
    drop = verdict["reason"].is_not_null()
    extra = verdict.select(c for c in verdict.columns if c != "reason" and not c.startswith("__"))
    dropped = (
        pl.concat([docs, extra], how="horizontal")
        .filter(drop)
        .with_columns(pl.lit(part["step"]).alias("step"), verdict["reason"].filter(drop))
    )
    write_parquet(docs.filter(~drop), layout.stage(number, "kept", shard))
    if dropped.height:
        write_parquet(dropped, layout.stage(number, "rejected-global", shard))
    counted = step_stats(part["index"], part["step"], docs.height, dropped, part["tally"])
    stats = counted | {"details": part["details"], "seconds": part["seconds"]}
    write_json({"steps": [stats]}, layout.done_marker(number, "global", shard))
    return docs.height


class Run:
    """One recipe run into a staging folder that survives a kill and is renamed when done."""

    reads_on_workers = True
    """Whether a cluster's tasks may read the source's files themselves (not when `batches`
    adds rows of its own)."""

    def __init__(
        self, ws: Workspace, recipe: Recipe, source: SourceSpec, output: str, options: RunOptions
    ) -> None:
        self.ws, self.recipe, self.source, self.options = ws, recipe, source, options
        self.output = check_name(output)
        key = xxhash.xxh64_hexdigest(
            f"{recipe.hash}|{source.fingerprint()}|{options.batch_rows}|{options.strict}".encode()
        )
        self.staging = ws.datasets_dir / output / f".staging-{key}"
        self.layout = Layout(self.staging)
        self.stage, self.done_marker = self.layout.stage, self.layout.done_marker
        self.segments = split_segments(recipe.steps)
        self.resumed = 0

    def pool(self) -> ShardPool:
        """A pool for shard jobs on this run's executor, reporting progress."""
        return ShardPool(self.executor, self.progress)

    def progress(self, label: str, rows: int) -> None:
        """Report finished rows to the caller, if it listens."""
        if self.options.on_progress:
            self.options.on_progress(label, rows)

    def execute(self) -> DatasetVersion:
        """Run every segment, then assemble and publish the dataset version."""
        started = perf_counter()
        self.staging.mkdir(parents=True, exist_ok=True)
        options = self.options
        modules = (__name__, *sorted({type(step).__module__ for step in self.recipe.steps}))
        self.executor = make_executor(options.executor, options.workers, options.address, modules)
        try:
            if isinstance(self.executor, RayExecutor):
                self.executor.check_shared(self.staging)
            shards = self.ingest()
            self.check_ids(shards)
            for number, segment in enumerate(self.segments):
                self.row_phase(number, segment, shards)
                if segment.global_step is not None:
                    self.global_phase(number, segment, shards)
        finally:
            self.executor.close()
        with writing(self.staging / "final", self.staging / "final"):  # no half version left
            return self.publish(shards, perf_counter() - started)

    def batches(self) -> Iterator[tuple[str, pl.DataFrame, pl.DataFrame]]:
        """Source batches as (shard key, docs with `__line`, quarantine), recording reader
        warnings."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for batch in iter_documents(self.source, batch_rows=self.options.batch_rows):
                yield batch.shard_key, batch.docs.with_columns(batch.lines), batch.quarantine
        self.options.warnings.extend(str(w.message) for w in caught)

    def ingest(self) -> list[str]:
        """Read the source into input shards, skipping shards read before (and the whole
        source when an earlier attempt read all of it).

        On a cluster with at least as many files as workers each file is read by a task of
        its own (so no one process reads the whole corpus); otherwise this process reads.
        """
        layout, options = self.layout, self.options
        if layout.read_done.exists():
            done = read_json(layout.read_done)
            options.warnings.extend(done["warnings"])
            self.reading = done["reading"]
            return list(done["shards"])
        files = len(self.source.files())
        # a file is read by one task, so with fewer files than workers this process reads
        by_file = self.executor.distributed and self.reads_on_workers
        by_file = by_file and files >= max(2, self.executor.workers)
        self.reading = "a task per file" if by_file else "the driver"
        before = len(options.warnings)
        shards = self.ingest_by_file() if by_file else self.ingest_here()
        if not shards:
            said = "; ".join(w.rstrip(".") for w in options.warnings[before:])
            raise WinnowError(
                f"source '{self.source.name}' has no readable rows"
                + (f" ({said})" if said else "")
                + "; give files that hold records, or check the path and --format."
            )
        read = {"shards": shards, "warnings": options.warnings[before:], "reading": self.reading}
        write_json(read, layout.read_done)
        return shards

    def ingest_here(self) -> list[str]:
        """Read the source in this process into input shards."""
        shards = []
        for shard, docs, quarantine in self.batches():
            shards.append(shard)
            if self.layout.input(shard).exists():
                continue
            check_strict(self.options.strict, quarantine)
            stage_batch(self.layout, shard, docs, quarantine)
            self.progress("reading", docs.height + quarantine.height)
        return shards

    def ingest_by_file(self) -> list[str]:
        """A task per source file reads it into input shards."""
        shards: list[str] = []
        options = self.options
        jobs = [
            (self.layout, self.source, index, options.batch_rows, options.strict)
            for index in range(len(self.source.files()))
        ]

        def report(result: tuple[list[str], int, int, list[str]]) -> None:
            self.progress("reading", result[1])

        for keys, _, _, caught in self.executor.map(ingest_file, jobs, report):
            shards += keys
            options.warnings.extend(caught)
        return shards

    def check_ids(self, shards: list[str]) -> None:
        """Set aside documents whose id an earlier one has (`duplicate_id`), once per run."""
        layout = self.layout
        if layout.ids_done.exists():
            count = read_json(layout.ids_done)["duplicates"]
        else:
            count = find_duplicate_ids(layout, shards, self.options.strict)
        if count:
            self.options.warnings.append(
                f"{count:,} row{'s' if count > 1 else ''} reused an id an earlier row has; "
                "quarantined as duplicate_id (ids must be unique within a dataset)"
            )

    def row_phase(self, number: int, segment: Segment, shards: list[str]) -> None:
        """Run a segment's row steps over each shard not done yet: the read documents for
        the first segment, the previous segment's kept shard for later ones."""
        with self.pool() as pool:
            for shard in shards:
                if self.done_marker(number, "rows", shard).exists():
                    self.resumed += number == 0
                    continue
                args = (self.layout, number, segment, shard, None)
                pool.submit(f"segment {number}", finish_rows, *args)

    def global_phase(self, number: int, segment: Segment, shards: list[str]) -> None:
        """Let a global step judge all shards at once, then split each shard by its verdict."""
        step = segment.global_step
        assert step is not None
        pending = [s for s in shards if not self.done_marker(number, "global", s).exists()]
        if not pending:
            return
        started = perf_counter()
        scored = [self.stage(number, "scored", shard) for shard in shards]
        check_columns(step, scored[0])
        workdir = self.staging / f"s{number}" / "global-work"
        workdir.mkdir(parents=True, exist_ok=True)
        context = GlobalContext(workdir, self.ws)
        if self.executor.distributed and step.sharded:
            tally = step.decide_sharded(scored, context, self.executor)
        else:
            tally = decide_in_memory(step, scored, context)
        part = {
            "index": segment.first_index + len(segment.row_steps) - 1,
            "step": step.name,
            "details": step.describe(),
            "seconds": (perf_counter() - started) / len(shards),
        }
        with self.pool() as pool:
            for i, shard in enumerate(shards):
                if shard in pending:
                    # the whole tally goes with the first shard, so the sum over shards is right
                    counts = part | {"tally": tally if i == 0 else {}}
                    verdict = verdict_path(workdir, i)
                    pool.submit(step.name, split_shard, self.layout, number, shard, verdict, counts)

    def collect_stats(self, shards: list[str]) -> tuple[int, list[dict[str, Any]]]:
        """Input rows and merged per-step statistics, in recipe order."""
        per_step: dict[int, list[dict[str, Any]]] = {}
        rows_in = 0
        for number, segment in enumerate(self.segments):
            phases = ["rows", "global"] if segment.global_step else ["rows"]
            for phase in phases:
                for shard in shards:
                    done = read_json(self.done_marker(number, phase, shard))
                    if number == 0 and phase == "rows":
                        rows_in += done["rows_in"]
                    for part in done["steps"]:
                        per_step.setdefault(part["index"], []).append(part)
        return rows_in, [merge_stats(per_step[i]) for i in sorted(per_step)]

    def publish(self, shards: list[str], seconds: float) -> DatasetVersion:
        """Move shard files into a final folder, write the manifest, and rename it into place."""
        final = self.staging / "final"
        if final.exists():
            shutil.rmtree(final)
        last = len(self.segments) - 1
        for split in ("kept", "rejected", "quarantine"):
            (final / split).mkdir(parents=True)
        for n, shard in enumerate(shards):
            shutil.copyfile(
                self.stage(last, "kept", shard), final / "kept" / f"part-{n:05d}.parquet"
            )
            sources = [self.layout.quarantine(shard), self.layout.duplicates(shard)]
            quarantine = [
                pl.read_parquet(p).drop("__row", strict=False) for p in sources if p.exists()
            ]
            frame = pl.concat(quarantine) if quarantine else empty_quarantine()
            if frame.height:
                write_parquet(frame, final / "quarantine" / f"part-{n:05d}.parquet")
            for number in range(len(self.segments)):
                for part in ("rejected", "rejected-global"):
                    path = self.stage(number, part, shard)
                    if path.exists():
                        name = f"part-{n:05d}-s{number}-{part}.parquet"
                        shutil.copyfile(path, final / "rejected" / name)
        rows_in, steps = self.collect_stats(shards)
        version = self.ws.next_version(self.output)
        manifest = build_manifest(
            final,
            name=self.output,
            version=version,
            recipe=self.recipe,
            source=self.source,
            rows_in=rows_in,
            steps=steps,
            seconds=seconds,
            warnings=self.options.warnings,
        )
        manifest["execution"] = {
            "executor": self.options.executor,
            "address": self.options.address,
            "workers": self.executor.workers,
            "shards": len(shards),
            "resumed_shards": self.resumed,
            "source_read_by": self.reading,
        }
        self.recipe.annotate_manifest(manifest)  # step versions, removal warnings (issue 18)
        write_json(manifest, final / "manifest.json")
        target = self.ws.datasets_dir / self.output / version
        os.rename(final, target)
        shutil.rmtree(self.staging)
        return DatasetVersion(self.output, version, target)


def check_strict(strict: bool, quarantine: pl.DataFrame) -> None:
    """With --strict, stop at the first unreadable row, naming it."""
    if strict and quarantine.height:
        row = quarantine.row(0, named=True)
        raise WinnowError(
            f"{row['source_file']}: {row['error']} (--strict stops here; fix the row "
            "or run without --strict to set it aside)."
        )


def ingest_file(
    layout: Layout, source: SourceSpec, index: int, batch_rows: int, strict: bool
) -> tuple[list[str], int, int, list[str]]:
    """Read one source file into input shards, skipping shards read before; return its shard
    keys, rows read, shards already read and reader warnings."""
    keys, rows, resumed = [], 0, 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for batch in iter_documents(source, batch_rows=batch_rows, only=index):
            keys.append(batch.shard_key)
            if layout.input(batch.shard_key).exists():
                resumed += 1
                continue
            check_strict(strict, batch.quarantine)
            docs = batch.docs.with_columns(batch.lines)
            stage_batch(layout, batch.shard_key, docs, batch.quarantine)
            rows += docs.height + batch.quarantine.height
    return keys, rows, resumed, [str(w.message) for w in caught]


def check_columns(step: Step, scored: Path) -> None:
    """Fail in one sentence when the rows lack a column the global step needs."""
    present = pl.read_parquet_schema(scored)
    missing = [c for c in ["id", *step.key_columns] if c not in present]
    if missing:
        raise WinnowError(
            f"step {step.name} needs the column(s) {', '.join(missing)}, which the rows do "
            f"not have (they have: {', '.join(present)}); set the step's column parameter "
            "or map the field when reading the source."
        )


def global_keys(step: Step, shards: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """What a global step's `decide` gets: every shard's `id` and key columns stacked in
    stable order, with each row's `__shard` and `__row`."""
    return pl.concat(
        [
            shard.select("id", *step.key_columns)
            .with_row_index("__row")
            .with_columns(pl.lit(i, dtype=pl.Int64).alias("__shard"))
            for i, shard in enumerate(shards)
        ]
    )


def decide_in_memory(step: Step, scored: list[Path], context: GlobalContext) -> dict[str, int]:
    """Judge every shard's keys at once in this process; write each shard's verdict."""
    columns = ["id", *step.key_columns]
    keys = global_keys(step, (pl.read_parquet(path, columns=columns) for path in scored))
    decided = step.decide(keys, context)
    verdicts = decided.partition_by("__shard", as_dict=True, include_key=False)
    # a shard whose rows all left at earlier steps has no verdicts
    empty = pl.DataFrame(schema={"__row": pl.UInt32, "reason": pl.Utf8})
    for i in range(len(scored)):
        write_parquet(verdicts.get((i,), empty), verdict_path(context.workdir, i), scratch=True)
    return step.tally(decided)


def run_recipe(
    ws: Workspace, recipe: Recipe, source: SourceSpec, output: str, options: RunOptions
) -> DatasetVersion:
    """Curate `source` with `recipe` into a new version of dataset `output`."""
    return Run(ws, recipe, source, output, options).execute()
