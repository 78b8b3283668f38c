"""Datasets page: every version with its manifest and lineage (walkable both ways), rows page by
page under filters in the sidebar, a row opened by clicking it and kept in the URL, why it went
in numbers, a near-duplicate diffed against its original, per-column statistics, and the funnel
of rows kept per step."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from winnow.curate.stats import manifest_removal_warnings, warning_text
from winnow.dashboard import charts, lineage, marks, reasons
from winnow.dashboard.browse import Browser, Query
from winnow.dashboard.columns import column_statistics
from winnow.dashboard.common import link, pick_dataset, shown_errors, workspace
from winnow.dashboard.url_state import choice
from winnow.workspace import SPLITS, DatasetVersion, Workspace

PAGE_SIZE = 50  # rows per browse page


@st.cache_data(show_spinner=False, max_entries=256)
def summary(name: str, version: str, path: str, what: str, split: str) -> pl.DataFrame:
    """Length histogram, value counts or column statistics of a split, computed once per
    version: a version never changes, and over a million rows each is a full scan."""
    browser = Browser(DatasetVersion(name, version, Path(path)))
    if what == "length":
        return browser.lengths(split)
    if what == "columns":
        return column_statistics(browser, split)
    return browser.counts(split, what)


def summary_of(browser: Browser, what: str, split: str) -> pl.DataFrame:
    """`summary` for the browser's version."""
    version = browser.version
    return summary(version.name, version.version, str(version.path), what, split)


def overview(ws: Workspace, version: DatasetVersion) -> None:
    """Counts, size, fingerprint, and the lineage links."""
    manifest = version.manifest
    counts = manifest.get("counts", {})
    cols = st.columns(5)
    cols[0].metric("kept", f"{counts.get('kept', 0):,}")
    cols[1].metric("rejected", f"{counts.get('rejected', 0):,}")
    cols[2].metric("quarantined", f"{counts.get('quarantined', 0):,}")
    size = sum(s.get("bytes", 0) for s in (manifest.get("splits") or {}).values())
    cols[3].metric("size on disk", f"{size / 1e6:.2f} MB")
    cols[4].metric("kind", manifest.get("kind", "?"))
    for removal in manifest_removal_warnings(manifest):
        st.warning(warning_text(removal, version.ref), icon="⚠️")
    st.caption(
        f"fingerprint `{manifest.get('fingerprint')}` · created {manifest.get('created_at')} · "
        f"recipe {(manifest.get('recipe') or {}).get('name')} · {version.path}"
    )
    lineage_links(ws, version)


def lineage_links(ws: Workspace, version: DatasetVersion) -> None:
    """Parents and source, children, and the runs trained on it with their evals, as links."""
    made_from, made_into, trained = st.columns(3)
    with made_from:
        st.markdown("**Made from**")
        for ref in lineage.parents(version):
            link("datasets", ref, dataset=ref)
        source = version.manifest.get("source") or {}
        if source.get("name"):
            st.caption(f"source {source.get('name')} {source.get('hub_id') or ''}")
    with made_into:
        st.markdown("**Made into**")
        for ref in lineage.children(ws, version):
            link("datasets", ref, dataset=ref)
    with trained:
        st.markdown("**Trained on by**")
        records = lineage.run_records(ws)
        runs = lineage.runs_reading(ws, version)
        for run in runs:
            link("runs", f"run {run} ({records[run].get('method')})", run=run)
            for name in lineage.evals_of(records, run):
                link("evals", f"↳ eval {name}", runs=name)
        if not runs:
            st.caption("no training run yet")


def statistics(browser: Browser, manifest: dict[str, Any]) -> None:
    """The funnel, the removal reasons, text lengths and the language mix."""
    funnel = lineage.funnel(manifest)
    if funnel.height:
        st.markdown("**Rows kept after each step**, in recipe order")
        st.altair_chart(charts.funnel(funnel), width="stretch")
    removed = lineage.removals(manifest)
    if removed.height:
        st.markdown("**Removal reasons**")
        st.altair_chart(charts.removals(removed), width="stretch")
    lengths = summary_of(browser, "length", "kept")
    if lengths.height:
        st.markdown("**Text length of kept rows**")
        st.altair_chart(charts.histogram(lengths, "text length (characters)"), width="stretch")
    for column in ("language", "lang"):
        if column in browser.schema("kept"):
            st.markdown("**Language mix of kept rows**")
            mix = summary_of(browser, column, "kept")
            st.altair_chart(charts.values(mix, "language"), width="stretch")
            break


def column_table(browser: Browser, split: str) -> None:
    """Per-column statistics of the split, a histogram in each row."""
    table = summary_of(browser, "columns", split)
    if not table.height:
        st.info(f"{split} has no rows.")
        return
    st.caption("min, mean and max are of the value for numbers and of the length for text")
    st.dataframe(
        table,
        hide_index=True,
        key=f"columns-{split}",
        column_config={
            "histogram": st.column_config.BarChartColumn("histogram", y_min=0),
            "mean": st.column_config.NumberColumn(format="%.3g"),
            "min": st.column_config.NumberColumn(format="%.4g"),
            "max": st.column_config.NumberColumn(format="%.4g"),
        },
    )


def filters(browser: Browser, split: str) -> Query:
    """The sidebar's search, value and range filters and page number, as a Query."""
    bar = st.sidebar
    query = Query(split=split, size=PAGE_SIZE)
    query.search = bar.text_input("Search", key=f"search-{split}", placeholder="words or a regex")
    query.regex = bar.checkbox("regex", key=f"regex-{split}")
    for column in browser.category_columns(split):
        values = summary_of(browser, column, split)["value"].drop_nulls().to_list()
        query.values[column] = bar.multiselect(column, values, key=f"values-{split}-{column}")
    with bar.expander("Length and score filters"):
        short, long = st.columns(2)
        query.length = (
            short.number_input("length ≥ (chars)", min_value=0, value=None, key=f"len-lo-{split}"),
            long.number_input("length ≤ (chars)", min_value=0, value=None, key=f"len-hi-{split}"),
        )
        numeric = browser.numeric_columns(split)
        for column in st.multiselect("Filter on scores", numeric, key=f"ranges-{split}"):
            low, high = st.columns(2)
            query.ranges[column] = (
                low.number_input(f"{column} ≥", value=None, key=f"lo-{split}-{column}"),
                high.number_input(f"{column} ≤", value=None, key=f"hi-{split}-{column}"),
            )
    query.page = int(bar.number_input("Page", min_value=1, value=1, key=f"page-{split}")) - 1
    return query


def open_row(place: tuple[str, str], ids: list[str], key: str, selected: list[int]) -> str | None:
    """The open row: the one clicked in the table, else the `row` query parameter (a reload or
    a shared link); clicking it again closes it, and so does another dataset or split."""
    wanted = st.query_params.get("row")
    if st.session_state.get("row-in", place) != place:
        wanted = None
    had = st.session_state.get(f"{key}@had", False)
    st.session_state[f"{key}@had"] = bool(selected)
    if selected and selected[0] < len(ids):
        wanted = ids[selected[0]]
    elif had:
        wanted = None
    if wanted:
        st.query_params["row"] = wanted
        st.session_state["row-in"] = place
    else:
        st.query_params.pop("row", None)
    return wanted


def rows(browser: Browser, query: Query) -> str | None:
    """One page of rows, a row opened by clicking it; returns the open row's id."""
    counted = st.empty()
    if browser.needs_index(query):
        building = "Building this split's search index, once per version (minutes at a million "
        with st.spinner(building + "rows; about three times the split's size on disk)."):
            page = browser.rows(query)
    else:
        page = browser.rows(query)
    total = browser.count(query)  # after the rows are fetched: a search scans every row
    pages = max(1, -(-total // PAGE_SIZE))
    counted.caption(
        f"{total:,} matching rows · page {query.page + 1} of {pages:,} · click a row to open it"
    )
    place = (browser.version.ref, query.split)
    if not page.height:
        st.info("No rows match." if not total else f"There are {pages:,} pages.")
        return open_row(place, [], "", [])
    ids = page["id"].cast(pl.Utf8).to_list() if "id" in page.columns else []
    key = "rows-" + hashlib.sha1(f"{place}{query}".encode()).hexdigest()[:12]
    wanted = st.query_params.get("row")
    default = {"selection": {"rows": [ids.index(wanted)], "columns": []}} if wanted in ids else None
    first = [c for c in ("id", "reason", "step", "duplicate_of") if c in page.columns]
    event = st.dataframe(
        page,
        column_order=first + [c for c in page.columns if c not in first],
        hide_index=True,
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        selection_default=default,
    )
    return open_row(place, ids, key, list(event.selection.rows))


def duplicate(ws: Workspace, browser: Browser, row: dict[str, Any], text_key: str) -> None:
    """The row beside the one it duplicates, their Jaccard similarity and a word diff."""
    target_version, target_id = lineage.duplicate_target(ws, browser.version, row["duplicate_of"])
    target = Browser(target_version)
    original = target.document("kept", target_id) or target.document("rejected", target_id)
    text, other = str(row.get(text_key) or ""), str((original or {}).get(text_key) or "")
    left, right = st.columns(2)
    left.markdown(f"**This row** `{row['id']}`")
    left.text(text)
    right.markdown(f"**Duplicates** `{target_id}` in {target_version.ref}")
    right.text(other or "(not found)")
    if original:
        step = reasons.minhash_step(browser.version.manifest)
        score = reasons.similarity(step, text, other)
        st.markdown(
            f"**Jaccard similarity {score:.2f}** of their shingle sets (minhash_dedup removes "
            f"at {step.threshold:.2f} or more); words only in the original in red, only in this "
            "row in green:"
        )
        st.html(marks.word_diff(other, text))


def document(ws: Workspace, browser: Browser, query: Query, row_id: str) -> None:
    """Every column of a row, why it was removed in numbers, and a duplicate's original."""
    row = browser.document(query.split, row_id)
    if row is None:
        st.info(f"No row {row_id} in {browser.version.ref} {query.split}.")
        return
    st.markdown(f"**Row** `{row_id}`")
    if row.get("reason"):
        measured = reasons.explain(browser.version.manifest, row)
        st.error(
            f"removed by **{row.get('step')}**: {row['reason']}"
            + (f" — {measured}" if measured else "")
        )
    text_key = next((k for k in ("text", "instruction", "prompt") if row.get(k)), None)
    if row.get("duplicate_of") and text_key:
        duplicate(ws, browser, row, text_key)
    elif text_key:
        st.html(marks.highlighted(str(row[text_key]), query.search, query.regex))
    scores = [{"column": k, "value": str(v)} for k, v in row.items() if k != text_key]
    st.dataframe(pl.DataFrame(scores), hide_index=True)


def render() -> None:
    """The page."""
    st.title("Datasets")
    ws = workspace()
    version = pick_dataset(ws, "dataset")
    if version is None:
        return
    with shown_errors(f"{version.ref}'s manifest"):
        overview(ws, version)
    browser = Browser(version)
    split = choice(st.sidebar.radio, "Rows", SPLITS, "split", "split")
    browse, columns, stats = st.tabs(["Rows", "Columns", "Steps and reasons"])
    with browse, shown_errors(f"{version.ref}'s rows"):
        query = filters(browser, split)
        chosen = rows(browser, query)
        if chosen:
            document(ws, browser, query, chosen)
    with columns, shown_errors(f"{version.ref}'s columns"):
        column_table(browser, split)
    with stats, shown_errors(f"{version.ref}'s statistics"):
        statistics(browser, version.manifest)


if __name__ == "__main__":
    render()
