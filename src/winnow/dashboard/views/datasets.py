"""Datasets page: every version with its manifest and lineage, the funnel of rows kept per step,
removal reasons, length and language charts, rows page by page with search and filters, and a
document view that shows why a row went and, for a duplicate, the row it duplicates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from winnow.curate.stats import manifest_removal_warnings, warning_text
from winnow.dashboard import lineage
from winnow.dashboard.browse import Browser, Query
from winnow.dashboard.common import link, pick_dataset, shown_errors, workspace
from winnow.workspace import SPLITS, DatasetVersion, Workspace

PAGE_SIZE = 50  # rows per browse page


@st.cache_data(show_spinner=False, max_entries=256)
def summary(name: str, version: str, path: str, what: str, split: str) -> pl.DataFrame:
    """Length histogram or value counts of a split, computed once per version: a version never
    changes, and over a million rows each is a full scan."""
    browser = Browser(DatasetVersion(name, version, Path(path)))
    return browser.lengths(split) if what == "length" else browser.counts(split, what)


def summary_of(browser: Browser, what: str, split: str) -> pl.DataFrame:
    """`summary` for the browser's version."""
    version = browser.version
    return summary(version.name, version.version, str(version.path), what, split)


def overview(ws: Workspace, version: DatasetVersion) -> None:
    """Counts, size, fingerprint, and links to parents, children and the runs that read it."""
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
    left, middle, right = st.columns(3)
    with left:
        st.markdown("**Made from**")
        for ref in lineage.parents(version):
            link("datasets", ref, dataset=ref)
        source = manifest.get("source") or {}
        if source.get("name"):
            st.caption(f"source {source.get('name')} {source.get('hub_id') or ''}")
    with middle:
        st.markdown("**Made into**")
        for ref in lineage.children(ws, version):
            link("datasets", ref, dataset=ref)
    with right:
        st.markdown("**Trained on by**")
        for run in lineage.runs_reading(ws, version) or ["(no run)"]:
            st.write(run)


def statistics(browser: Browser, manifest: dict[str, Any]) -> None:
    """The funnel, the removal reasons, text lengths and the language mix."""
    funnel = lineage.funnel(manifest)
    if funnel.height:
        st.markdown("**Rows kept per step**")
        chart = (
            alt.Chart(funnel)
            .mark_bar()
            .encode(y=alt.Y("step:N", sort=None), x=alt.X("kept:Q"), tooltip=["step", "in", "kept"])
        )
        st.altair_chart(chart, width="stretch")
    removed = lineage.removals(manifest)
    if removed.height:
        st.markdown("**Removal reasons**")
        chart = (
            alt.Chart(removed)
            .mark_bar()
            .encode(
                y=alt.Y("reason:N", sort="-x"),
                x="rows:Q",
                color="step:N",
                tooltip=["step", "reason", "rows"],
            )
        )
        st.altair_chart(chart, width="stretch")
    lengths = summary_of(browser, "length", "kept")
    if lengths.height:
        st.markdown("**Text length of kept rows (characters)**")
        chart = alt.Chart(lengths).mark_bar().encode(x="start:Q", y="rows:Q")
        st.altair_chart(chart, width="stretch")
    for column in ("language", "lang"):
        if column in browser.schema("kept"):
            st.markdown("**Language mix of kept rows**")
            mix = summary_of(browser, column, "kept")
            st.altair_chart(
                alt.Chart(mix).mark_bar().encode(y=alt.Y("value:N", sort="-x"), x="rows:Q"),
                width="stretch",
            )
            break


def filters(browser: Browser, split: str) -> Query:
    """The search box, value and range filters and the page number, as a Query."""
    query = Query(split=split, size=PAGE_SIZE)
    left, right = st.columns([3, 1])
    query.search = left.text_input("Search", key=f"search-{split}", placeholder="words or a regex")
    query.regex = right.checkbox("regex", key=f"regex-{split}")
    for column in browser.category_columns(split):
        values = summary_of(browser, column, split)["value"].drop_nulls().to_list()
        query.values[column] = st.multiselect(column, values, key=f"values-{split}-{column}")
    short, long = st.columns(2)
    query.length = (
        short.number_input(
            "length at least (chars)", min_value=0, value=None, key=f"len-lo-{split}"
        ),
        long.number_input("length at most (chars)", min_value=0, value=None, key=f"len-hi-{split}"),
    )
    numeric = browser.numeric_columns(split)
    for column in st.multiselect("Filter on scores", numeric, key=f"ranges-{split}"):
        low, high = st.columns(2)
        query.ranges[column] = (
            low.number_input(f"{column} at least", value=None, key=f"lo-{split}-{column}"),
            high.number_input(f"{column} at most", value=None, key=f"hi-{split}-{column}"),
        )
    return query


def rows(browser: Browser, split: str) -> str | None:
    """One page of rows; returns the id of the row chosen to open."""
    query = filters(browser, split)
    query.page = int(st.number_input("Page", min_value=1, value=1, key=f"page-{split}")) - 1
    counted = st.empty()
    rows = browser.rows(query)
    if rows.height:
        first = [c for c in ("id", "reason", "step", "duplicate_of") if c in rows.columns]
        order = first + [c for c in rows.columns if c not in first]
        st.dataframe(rows, column_order=order, hide_index=True, key=f"table-{split}")
    total = browser.count(query)  # after the rows are on screen: a search scans every row
    pages = max(1, -(-total // PAGE_SIZE))
    counted.caption(f"{total:,} matching rows · page {query.page + 1} of {pages:,}")
    if not rows.height:
        st.info("No rows match." if not total else f"There are {pages:,} pages.")
        return None
    ids = rows["id"].to_list() if "id" in rows.columns else []
    return st.selectbox("Open a row", ids, index=None, key=f"open-{split}") if ids else None


def document(ws: Workspace, browser: Browser, split: str, row_id: str) -> None:
    """Every column of a row, why it was removed, and the row it duplicates side by side."""
    row = browser.document(split, row_id)
    if row is None:
        st.warning(f"No row {row_id} in {split}.")
        return
    if row.get("reason"):
        st.error(f"removed by **{row.get('step')}**: {row['reason']}")
    text_key = next((k for k in ("text", "instruction", "prompt") if row.get(k)), None)
    if row.get("duplicate_of"):
        target_version, target_id = lineage.duplicate_target(
            ws, browser.version, row["duplicate_of"]
        )
        original = Browser(target_version).document("kept", target_id) or Browser(
            target_version
        ).document("rejected", target_id)
        left, right = st.columns(2)
        left.markdown(f"**This row** `{row_id}`")
        left.text(str(row.get(text_key, "")))
        right.markdown(f"**Duplicates** `{target_id}` in {target_version.ref}")
        right.text(str((original or {}).get(text_key, "(not found)")))
    elif text_key:
        st.text(str(row[text_key]))
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
    stats, browse = st.tabs(["Statistics", "Rows"])
    with stats, shown_errors(f"{version.ref}'s statistics"):
        statistics(browser, version.manifest)
    with browse, shown_errors(f"{version.ref}'s rows"):
        split = st.radio("Rows", SPLITS, horizontal=True, key="split")
        chosen = rows(browser, split)
        if chosen:
            document(ws, browser, split, chosen)


if __name__ == "__main__":
    render()
