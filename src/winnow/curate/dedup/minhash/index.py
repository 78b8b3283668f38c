"""MinHash indexes of earlier dataset versions, so new documents can be deduplicated against them.

An index holds, for every kept row of a version that has shingles, its id, band hashes and
(when the step verifies) its shingles as 32-bit hashes. It is built once per version and set
of MinHash parameters and kept in the workspace under `indexes/NAME/VERSION/`; versions never
change, so an index never goes stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import xxhash

from winnow.curate.dedup.minhash import lsh
from winnow.curate.dedup.minhash.core import MinhashSettings, flat_sets
from winnow.curate.sources import iter_documents, resolve_source
from winnow.files import write_parquet

if TYPE_CHECKING:
    from winnow.workspace import Workspace

INDEX_PARAMETERS = ("num_perm", "seed", "bands", "rows", "n", "char_n", "shingle", "korean")
# The compared column joins the index key only when it is not the text, so existing indexes
# keep their names.


def index_path(step: MinhashSettings, ws: Workspace, ref: str) -> tuple[str, Path]:
    """The version's full reference and where its index for these parameters lives."""
    version = ws.dataset(ref)
    settings = {key: getattr(step, key) for key in INDEX_PARAMETERS} | {"verify": step.verify}
    if step.column != "text":
        settings["column"] = step.column
    key = xxhash.xxh64_hexdigest(json.dumps(settings, sort_keys=True).encode())
    folder = ws.root / "indexes" / version.name / version.version
    return version.ref, folder / f"minhash-{key}.parquet"


def load_index(step: MinhashSettings, ws: Workspace, ref: str) -> tuple[str, pl.DataFrame]:
    """The index of a dataset version's kept rows, built and saved on first use."""
    full_ref, path = index_path(step, ws, ref)
    if path.exists():
        return full_ref, pl.read_parquet(path)
    columns = ["id", step.col("bands"), *([step.set_column] if step.verify else [])]
    parts = [
        step.score(batch.docs).filter(pl.col(step.col("shingles")) > 0).select(columns)
        for batch in iter_documents(resolve_source(full_ref, workspace=ws))
    ]
    index = pl.concat(parts) if parts else pl.DataFrame()
    write_parquet(index, path)
    return full_ref, index


def matches(
    step: MinhashSettings, keys: pl.DataFrame, valid: np.ndarray, index: pl.DataFrame
) -> np.ndarray:
    """For each row of `keys`, the index row it near-duplicates (the first one), else -1."""
    found = np.full(keys.height, -1, np.int64)
    if not index.height or not valid.any():
        return found
    rows = np.flatnonzero(valid)
    ours, theirs = keys[step.col("bands")].to_numpy(), index[step.col("bands")].to_numpy()
    pairs = [
        pl.DataFrame({"h": ours[rows, k], "doc": rows}).join(
            pl.DataFrame({"h": theirs[:, k], "ref": np.arange(index.height)}), on="h"
        )
        for k in range(ours.shape[1])
    ]
    candidates = pl.concat(pairs).select("doc", "ref").unique().sort("doc", "ref")
    doc, ref = candidates["doc"].to_numpy(), candidates["ref"].to_numpy()
    if step.verify and len(doc):
        values, starts = flat_sets(keys[step.set_column])
        other, other_starts = flat_sets(index[step.set_column])
        flat = np.concatenate([values, other])
        first = np.concatenate([starts, other_starts[1:] + starts[-1]])
        similar = lsh.jaccard(flat, first, doc, ref + keys.height) >= step.threshold
        doc, ref = doc[similar], ref[similar]
    # candidates are sorted by document then index row, so the first hit of each is kept
    first_hit = np.unique(doc, return_index=True)[1]
    found[doc[first_hit]] = ref[first_hit]
    return found
