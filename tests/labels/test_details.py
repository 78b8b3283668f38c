"""What the Label page shows beside an item, and the items annotators disagree on: read from
real rows and real label records."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from tests.labels.conftest import keep_drop_store, label, store_of
from winnow.files import read_json, write_json
from winnow.labels.details import item_details
from winnow.labels.disagreements import disagreements
from winnow.labels.items import a_side
from winnow.labels.tasks import load_task
from winnow.workspace import Workspace


def scored_copy(ws: Workspace) -> str:
    """web@v1 as a new dataset whose rows carry a quality score, a classifier's score and label,
    and a step and reason (as a rejected row would)."""
    source = ws.dataset("web")

    def write(folder: Path, version: str) -> None:
        shutil.copytree(source.path, folder, dirs_exist_ok=True)
        kept = pl.read_parquet(source.split_glob("kept"))
        (folder / "kept").mkdir(exist_ok=True)
        for old in (folder / "kept").glob("*.parquet"):
            old.unlink()
        kept.with_columns(
            quality_score=pl.lit(0.91),
            hf_score=pl.lit(3.5),
            hf_score_label=pl.lit("educational"),
            step=pl.lit("quality_classifier"),
            reason=pl.lit(None, pl.Utf8),
        ).write_parquet(folder / "kept" / "part-00000.parquet")
        manifest = read_json(source.path / "manifest.json") | {"name": "scored", "version": version}
        write_json(manifest, folder / "manifest.json")

    return ws.publish("scored", write).ref


def test_details_split_provenance_suggestions_and_the_rest(ws: Workspace) -> None:
    """Provenance first (id, source file, url, split kept, step), the model's columns as
    suggestions, other plain columns apart; the text and nested columns are left out."""
    version = ws.dataset(scored_copy(ws))
    details = item_details(version, load_task("quality-keep-drop"), "demo-river")
    assert list(details.provenance)[:2] == ["id", "source_file"]
    assert details.provenance["split"] == "kept"
    assert details.provenance["step"] == "quality_classifier" and "reason" not in details.provenance
    assert details.suggestions == {
        "language": "en",
        "language_score": details.suggestions["language_score"],
        "quality_score": 0.91,
        "hf_score": 3.5,
        "hf_score_label": "educational",
    }
    assert "text" not in details.other and "minhash_dedup_bands" not in details.other
    assert details.other["gopher_quality_n_words"] > 0


def test_details_of_a_pair_and_of_a_missing_item(ws: Workspace) -> None:
    """A preference row shows its source and margin, not its prompt or answers; an id that is
    not in the dataset has only its id and split."""
    version = ws.dataset("pairs")
    task = load_task("pairwise")
    first = "dpo_en_demo.json:1"
    details = item_details(version, task, first)
    assert details.provenance["source"] == "dpo_en_demo.json"
    assert not {"prompt", "chosen", "rejected"} & set(details.other)
    assert item_details(version, task, "nope").provenance == {"id": "nope", "split": "kept"}


def test_disagreements_list_each_annotators_label(ws: Workspace) -> None:
    """Alice and Bob differ on two documents (Carol agrees with Alice on one of them); items
    all annotators agree on are left out."""
    rows = disagreements(keep_drop_store(ws))
    assert rows == [
        {"item_id": "demo-ko-subway", "alice": "keep", "bob": "drop", "carol": None},
        {"item_id": "demo-letters", "alice": "drop", "bob": "keep", "carol": "drop"},
    ]


def test_pairwise_disagreements_compare_the_side_preferred(ws: Workspace) -> None:
    """Two annotators who both choose A disagree where each saw the other side as A, and agree
    where both saw the same side as A."""
    store = store_of(ws, "pairs", "pairwise")
    ids = [item.id for item in label(store, "ana", {})]
    crossed = next(i for i in ids if a_side(i, "ana") != a_side(i, "bo"))
    same = next(i for i in ids if a_side(i, "ana") == a_side(i, "bo"))
    label(store, "ana", {crossed: "A", same: "A"})
    label(store, "bo", {crossed: "A", same: "A"})
    (row,) = disagreements(store)
    assert row == {"item_id": crossed, "ana": a_side(crossed, "ana"), "bo": a_side(crossed, "bo")}
