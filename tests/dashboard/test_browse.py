"""Browser: pages, search, regex, filters and documents over a real curated version."""

from __future__ import annotations

import polars as pl
import pytest

from tests.workspaces import Small
from winnow.dashboard import lineage
from winnow.dashboard.browse import Browser, Query
from winnow.errors import WinnowError


def test_pages_cover_every_row_once(small: Small) -> None:
    """Pages of 5 over the 13 rejected rows: 5, 5, 3 rows, no id twice, the count is 13."""
    browser = Browser(small.ws.dataset("web"))
    pages = [browser.page(Query(split="rejected", size=5, page=n)) for n in range(3)]
    ids = [i for p in pages for i in p.rows["id"].to_list()]
    assert [p.rows.height for p in pages] == [5, 5, 3] and {p.total for p in pages} == {13}
    assert len(set(ids)) == 13


def test_search_regex_and_filters(small: Small) -> None:
    """A word search is case-insensitive; a regex matches; value and range filters combine."""
    browser = Browser(small.ws.dataset("web"))
    found = browser.page(Query(search="RIVER"))
    assert found.total >= 1 and all("river" in t.lower() for t in found.rows["text"])
    regex = browser.page(Query(search=r"\b[Rr]ivers?\b", regex=True))
    assert regex.total == found.total
    korean = browser.page(Query(values={"language": ["ko"]}))
    assert korean.total >= 1 and set(korean.rows["language"]) == {"ko"}
    long = browser.page(Query(ranges={"gopher_quality_n_words": (200, None)}))
    assert all(n >= 200 for n in long.rows["gopher_quality_n_words"])
    short = browser.page(Query(length=(None, 400)))
    assert short.total >= 1 and all(len(t) <= 400 for t in short.rows["text"])
    removed = browser.page(Query(split="rejected", values={"reason": ["duplicate"]}))
    assert removed.total == 3 and set(removed.rows["step"]) == {"exact_dedup"}


def test_bad_regex_and_unknown_column_are_one_sentence(small: Small) -> None:
    """An invalid regex and a filter on a missing column each raise a WinnowError."""
    browser = Browser(small.ws.dataset("web"))
    with pytest.raises(WinnowError, match="the search could not run"):
        browser.page(Query(search="([", regex=True))
    with pytest.raises(WinnowError, match="has no column 'nope'"):
        browser.page(Query(ranges={"nope": (1, None)}))


def test_duplicate_points_at_the_kept_original(small: Small) -> None:
    """A removed duplicate names the row it duplicates, which is found and has the same text."""
    ws = small.ws
    version = ws.dataset("web")
    browser = Browser(version)
    row = browser.page(Query(split="rejected", values={"reason": ["duplicate"]})).rows.row(
        0, named=True
    )
    target, row_id = lineage.duplicate_target(ws, version, row["duplicate_of"])
    original = Browser(target).document("kept", row_id)
    assert original is not None and original["id"] == row["duplicate_of"]
    assert original["text"].split() == row["text"].split()


def test_preference_rows_are_searchable_as_text(small: Small) -> None:
    """A preference set has no text column: search looks in its messages, and finds exactly
    the rows whose prompt, chosen or rejected messages say the word, in any case."""
    version = small.ws.dataset("pairs")
    kept = pl.read_parquet(version.path / "kept" / "*.parquet").to_dicts()

    def says_python(row: dict) -> bool:
        sides = (row["prompt"], row["chosen"], row["rejected"])
        return any("python" in m["content"].lower() for side in sides for m in side)

    expected = [row["id"] for row in kept if says_python(row)]
    assert len(expected) > 3
    browser = Browser(version)
    page = browser.page(Query(search="python", size=3))
    assert page.total == len(expected) and page.rows.height == 3
    assert set(page.rows["id"]) <= set(expected)
    for row in page.rows.iter_rows(named=True):
        sides = " ".join(row[k] for k in ("prompt", "chosen", "rejected"))
        assert isinstance(row["chosen"], str) and "python" in sides.lower()


def test_funnel_and_removals_follow_the_manifest(small: Small) -> None:
    """Rows in and kept per step in recipe order; reasons with counts as in the manifest."""
    manifest = small.ws.dataset("web").manifest
    funnel = lineage.funnel(manifest)
    assert funnel["step"][0] == "1. normalize"
    assert funnel["kept"].to_list() == [s["out"] for s in manifest["steps"]]
    removed = lineage.removals(manifest)
    assert removed["rows"].sum() == manifest["counts"]["rejected"]
