"""The full-text index behind the Datasets page's search, on real text (the web demo sample
and Korea's constitution from ../shared/data): the same rows in the same order as the
scan for words, Korean inside eojeols, phrases and punctuation; built once and reused; one
index per version; a damaged index rebuilt."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import polars as pl
import pytest

from winnow.dashboard import search_index
from winnow.dashboard.browse import Browser, Query
from winnow.errors import WinnowError
from winnow.workspace import DatasetVersion

QUERIES = [
    "river",
    "RIVER",
    "the",
    "the river",
    "국민",
    "대한민국",
    "국민은",
    "국민 ",
    "e-mail",
    ". ",
    "σ",
    "STRASSE",
    "ſ",
    "2019",
    "zzzz-not-there",
]
"""Words, Korean inside and across eojeols, phrases, punctuation and case-folded letters."""


def write_version(root: Path, shared_data: Path, version: str = "v1") -> DatasetVersion:
    """WORKSPACE/datasets/mix/VERSION: the web demo sample in one shard, the constitution's
    lines and a few case-folding rows (and a null text) in another."""
    folder = root / "datasets" / "mix" / version
    (folder / "kept").mkdir(parents=True)
    web = pl.read_ndjson(shared_data / "web" / "c4_demo.jsonl").select("text")
    lines = (shared_data / "korean" / "constitution.txt").read_text(encoding="utf-8")
    korean = [line for line in lines.splitlines() if line.strip()]
    odd = ["ſtraße and STRASSE", "ΣΊΣΥΦΟΣ σίσυφος", None, "Kelvin \u212a and k"]
    for number, texts in enumerate([web["text"].to_list(), korean + odd]):
        frame = pl.DataFrame({"text": texts}, schema={"text": pl.Utf8})
        frame = frame.with_row_index("n").select(
            pl.format(f"{number}-{{}}", "n").alias("id"), "text"
        )
        frame.write_parquet(folder / "kept" / f"part-{number:05d}.parquet")
    return DatasetVersion("mix", version, folder)


@pytest.fixture()
def version(tmp_path: Path, shared_data: Path) -> DatasetVersion:
    """A version of real text in a fresh workspace."""
    return write_version(tmp_path, shared_data)


def scanned(version: DatasetVersion, query: Query, monkeypatch: pytest.MonkeyPatch) -> tuple:
    """The page's ids and the count as the scan (no index) finds them."""
    with monkeypatch.context() as patch:
        patch.setattr(Browser, "found", lambda self, query: None)
        browser = Browser(version)
        return browser.rows(query)["id"].to_list(), browser.count(query)


def indexed(version: DatasetVersion, query: Query) -> tuple:
    """The page's ids and the count through the index."""
    browser = Browser(version)
    return browser.rows(query)["id"].to_list(), browser.count(query)


@pytest.mark.parametrize("search", QUERIES)
def test_the_index_finds_the_rows_the_scan_finds(
    version: DatasetVersion, search: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First and second page of 7 and the count, with and without a length bound."""
    for query in (
        Query(search=search, size=7),
        Query(search=search, size=7, page=1),
        Query(search=search, size=7, length=(40, 400)),
    ):
        assert indexed(version, query) == scanned(version, query, monkeypatch), query


@pytest.mark.parametrize(("read_rows", "copy_share"), [(0, 1.0), (10**9, 0.0), (10**9, 1.0)])
def test_every_way_of_answering_finds_the_rows_the_scan_finds(
    version: DatasetVersion,
    read_rows: int,
    copy_share: float,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Word pieces read from the postings or checked against the text, candidates copied out
    or checked in place: the second page and the count are the scan's for every query."""
    monkeypatch.setattr(search_index, "READ_ROWS", read_rows)
    monkeypatch.setattr(search_index, "COPY_SHARE", copy_share)
    for search in QUERIES:
        query = Query(search=search, size=7, page=1)
        assert indexed(version, query) == scanned(version, query, monkeypatch), search


REGEXES = [r"\b[0-9]{4}\b", r"(?i)^the\s", r"국민[은의]", r"[.!?]\s*$", r"\bk\b"]
"""Regular expressions: digits, an anchored case-insensitive word, Korean, an end anchor."""


def test_a_regex_reads_the_index_text_once_a_search_built_it(
    version: DatasetVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before any text search a regex scans; after one, it reads the index's text and finds
    the scan's rows (second page, count, a length bound); a bad regex is one clear error."""
    browser = Browser(version)
    assert browser.found(Query(search=REGEXES[0], regex=True)) is None
    browser.count(Query(search="river"))
    for regex in REGEXES:
        for query in (
            Query(search=regex, regex=True, size=7, page=1),
            Query(search=regex, regex=True, size=7, length=(40, 400)),
        ):
            assert Browser(version).found(query) is not None
            assert indexed(version, query) == scanned(version, query, monkeypatch), query
    with pytest.raises(WinnowError, match="the search could not run"):
        Browser(version).count(Query(search="([a-z", regex=True))


def test_korean_word_inside_an_eojeol(version: DatasetVersion) -> None:
    """'국민' finds the rows where it only occurs as part of '국민은' or '국민투표에'."""
    rows = Browser(version).rows(Query(search="국민", size=500))["text"].to_list()
    assert any("국민은" in t for t in rows) and any("국민투표에" in t for t in rows)
    assert all("국민" in t for t in rows)


def test_the_index_is_built_once_and_reused(
    version: DatasetVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first search builds the index under indexes/mix/v1/search/kept; later searches,
    in new browsers, open it without building again."""
    builds = []
    build = search_index.build
    monkeypatch.setattr(search_index, "build", lambda *a: builds.append(a) or build(*a))
    assert Browser(version).needs_index(Query(search="river"))  # the page shows a spinner
    assert not Browser(version).needs_index(Query(search="river", regex=True))
    Browser(version).count(Query(search="river"))
    assert not Browser(version).needs_index(Query(search="other"))
    folder = version.path.parents[2] / "indexes" / "mix" / "v1" / "search" / "kept"
    written = (folder / "meta.json").stat().st_mtime_ns
    search_index._OPEN.clear()  # a new process: nothing open
    assert Browser(version).count(Query(search="국민")) > 0
    Browser(version).count(Query(search="the river"))
    assert len(builds) == 1 and (folder / "meta.json").stat().st_mtime_ns == written


def test_a_new_version_gets_its_own_index(
    version: DatasetVersion, tmp_path: Path, shared_data: Path
) -> None:
    """v2, with other rows, is searched through an index of its own; v1's stays as it was."""
    Browser(version).count(Query(search="river"))
    v2 = DatasetVersion("mix", "v2", tmp_path / "datasets" / "mix" / "v2")
    (v2.path / "kept").mkdir(parents=True)
    shutil.copy(version.path / "kept" / "part-00001.parquet", v2.path / "kept")
    assert Browser(v2).count(Query(search="river")) == 0
    assert Browser(v2).count(Query(search="국민")) == Browser(version).count(Query(search="국민"))
    found = sorted(p.parents[2].name for p in (tmp_path / "indexes").rglob("meta.json"))
    assert found == ["v1", "v2"]


@pytest.mark.parametrize("damage", ["truncate postings", "garbage meta", "remove text"])
def test_a_damaged_index_is_rebuilt(
    version: DatasetVersion, damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A truncated postings file, an unreadable meta.json or a missing text file: the next search
    rebuilds the index and finds the same rows as the scan."""
    query = Query(search="국민", size=7)
    Browser(version).count(query)
    folder = version.path.parents[2] / "indexes" / "mix" / "v1" / "search" / "kept"
    if damage == "truncate postings":
        with (folder / "rows-00000.npy").open("r+b") as handle:
            handle.truncate(100)
    elif damage == "garbage meta":
        (folder / "meta.json").write_text("{not json")
    else:
        (folder / "text.bin").unlink()
    assert indexed(version, query) == scanned(version, query, monkeypatch)
    meta = json.loads((folder / "meta.json").read_text())
    assert all((folder / n).stat().st_size == s for n, s in meta["sizes"].items())


def test_fold_table_covers_every_letter_re2_equates() -> None:
    """Recomputed over every code point: lowercase letters whose case-fold is another
    lowercase letter are exactly FOLD (dotless i stays apart, as in RE2)."""
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    lower = dict(zip(chars, pl.Series(chars).str.to_lowercase().to_list(), strict=True))
    table = {}
    for char in chars:
        for other in (char.casefold(), char.upper(), char.lower()):
            pair = (lower[char], lower.get(other, ""))
            if len(other) == 1 and all(len(p) == 1 for p in pair) and pair[0] != pair[1]:
                for letter in pair:
                    folded = letter.casefold()
                    if len(folded) == 1 and folded != letter:
                        table[letter] = folded
    assert table == search_index.FOLD
    assert search_index.fold(pl.Series(["ſtraſſe ΣΊΣΥΦΟΣ"]))[0] == "strasse σίσυφοσ"
