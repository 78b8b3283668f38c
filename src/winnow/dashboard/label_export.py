"""The Label page's Export tab: a preview of the first rows an export would write and what it
leaves out, then, once written, the counts from the new versions' manifests and a download of
each, kept in the session so a download (or any rerun) does not lose them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import streamlit as st

from winnow.dashboard.common import link
from winnow.errors import WinnowError
from winnow.labels.export import export_preference, export_quality, plan_preference, plan_quality
from winnow.labels.store import LabelStore
from winnow.workspace import DatasetVersion, Workspace

PREVIEW_ROWS = 10
"""Rows of an export shown before it is written."""

CUT = 160
"""Characters of a text shown in the preview."""

DONE = "export-done"
"""Session key: the label project and the versions its last export wrote."""


def cut(text: str | None) -> str:
    """A text short enough for one preview cell."""
    text = (text or "").replace("\n", " ")
    return text if len(text) <= CUT else text[:CUT] + "…"


def last_turn(messages: list[dict[str, str]]) -> str:
    """The last message of a ShareGPT conversation, which is what differs between sides."""
    return cut(messages[-1]["value"]) if messages else ""


def preview(store: LabelStore) -> tuple[pl.DataFrame, dict[str, int]]:
    """The first rows the export would write, and its counts."""
    if store.task.kind == "quality":
        plan = plan_quality(store)
        frame = pl.concat(
            [f.with_columns(pl.lit(cls).alias("class")) for cls, f in plan.frames.items()]
        )
        frame = frame.select("class", "id", "votes", "voters", "text")
        shown = frame.head(PREVIEW_ROWS).with_columns(pl.col("text").map_elements(cut, pl.Utf8))
        return shown, plan.counts
    plan = plan_preference(store)
    rows = [
        {
            "prompt": last_turn(r["conversations"]),
            "chosen": last_turn(r["chosen"]),
            "rejected": last_turn(r["rejected"]),
        }
        for r in plan.records[:PREVIEW_ROWS]
    ]
    return pl.DataFrame(rows), plan.counts


def write(ws: Workspace, store: LabelStore, output: str) -> list[str]:
    """Write the export; the refs of the versions written."""
    if store.task.kind == "quality":
        return [v.ref for v in export_quality(ws, store, output)]
    return [export_preference(ws, store, output).ref]


def jsonl(version: DatasetVersion) -> Callable[[], bytes]:
    """The kept rows of a version as JSON lines, made only when the download is clicked."""
    return lambda: pl.read_parquet(version.split_glob("kept")).write_ndjson().encode()


def written(ws: Workspace, refs: list[str]) -> None:
    """What an export wrote: its counts, rows per version, links and downloads."""
    versions = [ws.dataset(ref) for ref in refs]
    counts: dict[str, Any] = versions[0].manifest["labels"]["counts"]
    st.success("wrote " + " and ".join(refs))
    st.dataframe(pl.DataFrame([counts]), hide_index=True)
    for version in versions:
        rows = version.manifest["counts"]["kept"]
        st.caption(f"{version.ref}: {rows} rows")
        link("datasets", version.ref, dataset=version.ref)
        st.download_button(
            f"Download {version.ref} (JSON lines)",
            data=jsonl(version),
            file_name=f"{version.name}-{version.version}.jsonl",
            mime="application/jsonl",
            on_click="ignore",
            key=f"download-{version.ref}",
        )
    if len(versions) == 2:
        train = "winnow curate quality train --output quality.bin"
        st.code(f"{train} --positive {versions[0].name} --negative {versions[1].name}")


def export_view(ws: Workspace, store: LabelStore) -> None:
    """Preview, write the labels as new datasets with the labelled version as parent, and
    show what was written."""
    project = str(store.folder)
    if st.session_state.get("export-project") != project:  # another dataset or task: its name
        st.session_state["export-project"] = project
        st.session_state["export-name"] = f"{store.version.name}-{store.task.name}"
    output = st.text_input("Output dataset name", key="export-name")
    if store.task.kind == "rating":
        st.info("Answer ratings have no export yet; use the Agreement tab or `winnow labels show`.")
        return
    try:
        rows, counts = preview(store)
    except WinnowError as exc:
        st.info(str(exc))
        return
    st.markdown(f"**Preview**: the first {rows.height} rows it will write")
    st.dataframe(rows, hide_index=True)
    st.caption("Counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if st.button("Export", key="export"):
        st.session_state[DONE] = {"project": project, "refs": write(ws, store, output)}
    done = st.session_state.get(DONE)
    if done and done["project"] == project:
        written(ws, done["refs"])
