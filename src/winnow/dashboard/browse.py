"""Rows of a dataset version page by page: DuckDB over the Parquet shards with LIMIT/OFFSET,
full-text or regex search, and filters on score columns, so a page never loads the dataset.
A text search goes through the version's full-text index (built on the first search), so its
count and deep pages need not read every row; a regex search scans."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from winnow.dashboard import search_index
from winnow.errors import WinnowError
from winnow.workspace import DatasetVersion

NUMERIC = ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL", "BIGINT", "HUGEINT")
"""DuckDB type names that a range filter applies to."""

CATEGORIES = ("language", "lang", "reason", "step", "source", "cluster_id")
"""Columns filtered by picking values rather than by a range."""


@dataclass
class Query:
    """What the Datasets page asks of one split: a search, filters and a page."""

    split: str = "kept"
    search: str = ""
    regex: bool = False
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    values: dict[str, list[str]] = field(default_factory=dict)
    length: tuple[int | None, int | None] = (None, None)
    page: int = 0
    size: int = 50


@dataclass
class Page:
    """One page of rows and the number of rows that match."""

    rows: pl.DataFrame
    total: int


def found_key(query: Query) -> str:
    """What a search's matches depend on (not the page)."""
    return repr((query.split, query.search, query.regex, query.length, query.ranges, query.values))


def search_failed(exc: duckdb.InvalidInputException) -> WinnowError:
    """One line for a search DuckDB refused (a bad regular expression)."""
    return WinnowError(f"the search could not run ({str(exc).splitlines()[0]}).")


def quoted(column: str) -> str:
    """A column name as a DuckDB identifier."""
    return '"' + column.replace('"', '""') + '"'


class Browser:
    """Queries over one dataset version; columns are checked against the split's schema."""

    def __init__(self, version: DatasetVersion) -> None:
        self.version = version
        self.con = duckdb.connect(":memory:")
        self._schemas: dict[str, dict[str, str]] = {}
        self._found: dict[str, np.ndarray | None] = {}
        self._sources: dict[str, search_index.Source] = {}

    def has(self, split: str) -> bool:
        """Whether the split has any shard."""
        return any((self.version.path / split).glob("*.parquet"))

    def schema(self, split: str) -> dict[str, str]:
        """Column name -> DuckDB type of a split (empty when it has no rows)."""
        if split not in self._schemas:
            if not self.has(split):
                self._schemas[split] = {}
            else:
                rows = self.con.sql(f"DESCRIBE SELECT * FROM {self.version.relation_sql(split)}")
                self._schemas[split] = {r[0]: r[1] for r in rows.fetchall()}
        return self._schemas[split]

    def numeric_columns(self, split: str) -> list[str]:
        """Score columns a range filter applies to (ids and flags left out)."""
        return [
            c
            for c, t in self.schema(split).items()
            if any(n in t for n in NUMERIC) and "[]" not in t and c not in CATEGORIES
        ]

    def category_columns(self, split: str) -> list[str]:
        """Columns filtered by value (language, reason, step...) present in the split."""
        return [c for c in CATEGORIES if c in self.schema(split)]

    def select_list(self, split: str) -> str:
        """Columns as a page shows them: nested values as text, signature arrays left out."""
        parts = []
        for column, kind in self.schema(split).items():
            if kind.endswith("[]") and "STRUCT" not in kind:
                continue
            nested = "STRUCT" in kind or kind.endswith("[]")
            name = quoted(column)
            parts.append(f"CAST({name} AS VARCHAR) AS {name}" if nested else name)
        return ", ".join(parts) or "*"

    def search_expr(self, split: str) -> str:
        """The text a search looks in: `text` when there is one, else every text-like column."""
        schema = self.schema(split)
        if "text" in schema:
            return quoted("text")
        parts = [
            f"coalesce(CAST({quoted(c)} AS VARCHAR), '')"
            for c, t in schema.items()
            if t == "VARCHAR" or "STRUCT" in t
        ]
        return " || ' ' || ".join(parts) or "''"

    def where(self, query: Query, text: bool = True) -> tuple[str, list[Any]]:
        """The WHERE clause and its parameters (without the search and length bounds when
        `text` is false: the index answers those); unknown columns are refused."""
        schema = self.schema(query.split)
        clauses, params = [], []
        if query.search and text:
            expr = self.search_expr(query.split)
            clauses.append(f"regexp_matches({expr}, ?)")
            # RE2's case-insensitive match is twice as fast as lower() + contains
            params.append(query.search if query.regex else search_index.pattern(query.search))
        for column in query.ranges:
            self.check_column(column, schema)
        bounds = [(quoted(column), span) for column, span in query.ranges.items()]
        if text:
            bounds.append((f"length({self.search_expr(query.split)})", query.length))
        for expr, (low, high) in bounds:
            if low is not None:
                clauses.append(f"{expr} >= ?")
                params.append(low)
            if high is not None:
                clauses.append(f"{expr} <= ?")
                params.append(high)
        for column, chosen in query.values.items():
            self.check_column(column, schema)
            if chosen:
                marks = ", ".join("?" for _ in chosen)
                clauses.append(f"CAST({quoted(column)} AS VARCHAR) IN ({marks})")
                params.extend(chosen)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def check_column(self, column: str, schema: dict[str, str]) -> None:
        """Refuse a filter on a column the split does not have."""
        if column not in schema:
            raise WinnowError(
                f"{self.version.ref} has no column '{column}'; filter on one of: "
                f"{', '.join(schema)}."
            )

    def run(self, sql: str, params: list[Any]) -> pl.DataFrame:
        """Execute with parameters; a bad regex becomes one clear sentence."""
        try:
            return pl.from_arrow(self.con.sql(sql, params=params).to_arrow_table())
        except duckdb.InvalidInputException as exc:
            raise search_failed(exc) from exc

    def rows(self, query: Query) -> pl.DataFrame:
        """One page of matching rows: through the index for a text search, else a scan that
        stops once the page is full."""
        if not self.has(query.split):
            return pl.DataFrame()
        # a regex reads every row's text even through the index: its first page comes sooner
        # from a scan that stops once the page is full, unless its count has found every match
        first = query.regex and not query.page
        found = self._found.get(found_key(query)) if first else self.found(query)
        if found is not None:
            start = query.page * query.size
            return self.fetch(query.split, found[start : start + query.size])
        where, params = self.where(query)
        return self.run(
            f"SELECT {self.select_list(query.split)} FROM {self.version.relation_sql(query.split)}"
            f"{where} LIMIT ? OFFSET ?",
            [*params, query.size, query.page * query.size],
        )

    def count(self, query: Query) -> int:
        """How many rows match: from Parquet metadata without a filter, else a full scan."""
        if not self.has(query.split):
            return 0
        found = self.found(query)
        if found is not None:
            return len(found)
        where, params = self.where(query)
        source = self.version.relation_sql(query.split)
        return int(self.run(f"SELECT count(*) AS n FROM {source}{where}", params)["n"][0])

    def index_folder(self, split: str) -> Path:
        """Where this version's search index of a split lives: the workspace's indexes/."""
        root = self.version.path.parents[2]
        return search_index.index_folder(root, self.version.name, self.version.version, split)

    def source(self, split: str) -> search_index.Source:
        """The split's shards in scan order with their sizes and rows, and the searched text."""
        if split not in self._sources:
            glob = self.version.split_glob(split)
            rows = dict(
                self.con.sql(
                    f"SELECT file_name, num_rows FROM parquet_file_metadata('{glob}')"
                ).fetchall()
            )
            order = [f for (f,) in self.con.sql(f"SELECT file FROM glob('{glob}')").fetchall()]
            shards = [(f, Path(f).stat().st_size, int(rows[f])) for f in order]
            relation = self.version.relation_sql(split)
            self._sources[split] = search_index.Source(shards, self.search_expr(split), relation)
        return self._sources[split]

    def has_index(self, split: str) -> bool:
        """Whether a search has built the split's index (it may still be checked and rebuilt)."""
        return (self.index_folder(split) / "meta.json").is_file()

    def needs_index(self, query: Query) -> bool:
        """Whether the query is a text search whose split has no index yet (the first search
        builds it: minutes at a million rows)."""
        return bool(query.search) and not query.regex and not self.has_index(query.split)

    def found(self, query: Query) -> np.ndarray | None:
        """Row numbers (in scan order) of every row a search matches with the query's filters,
        through the index (a regex only once a text search has built it: it then reads the
        index's text instead of the Parquet shards); None for no search, a regex without an
        index, or an index that cannot be written (a read-only workspace), which scan instead."""
        if not query.search or (query.regex and not self.has_index(query.split)):
            return None
        key = found_key(query)
        if key not in self._found:
            self._found[key] = self.indexed(query)
        return self._found[key]

    def indexed(self, query: Query) -> np.ndarray | None:
        """`found` without the memo."""
        source = self.source(query.split)
        try:
            index = search_index.search_index(self.index_folder(query.split), source)
        except OSError:
            return None
        if query.regex:
            try:
                matched = index.checked(None, query.search)
            except duckdb.InvalidInputException as exc:
                raise search_failed(exc) from exc
        else:
            matched = index.matches(query.search)
        rows = index.within(matched, *query.length)
        where, params = self.where(query, text=False)
        if where:
            rows = rows[np.isin(rows, self.filtered(query.split, source, where, params))]
        return rows

    def numbered(self, split: str) -> str:
        """The split with each row's shard and row number in that shard."""
        return self.version.relation_sql(split).replace(
            "union_by_name = true",
            "union_by_name = true, filename = '__shard', file_row_number = true",
        )

    def filtered(
        self, split: str, source: search_index.Source, where: str, params: list[Any]
    ) -> np.ndarray:
        """Row numbers (in scan order) of the rows the other filters keep."""
        found = self.run(
            f"SELECT __shard, file_row_number FROM {self.numbered(split)}{where}", params
        )
        bases = np.cumsum([0] + [rows for _, _, rows in source.files])
        base = {name: int(b) for (name, _, _), b in zip(source.files, bases, strict=False)}
        return (
            found["__shard"].replace_strict(base, return_dtype=pl.Int64).to_numpy()
            + found["file_row_number"].to_numpy()
        )

    def fetch(self, split: str, rows: np.ndarray) -> pl.DataFrame:
        """The rows with these row numbers (in scan order), in that order."""
        source = self.source(split)
        bases = np.cumsum([0] + [n for _, _, n in source.files])
        shard = np.searchsorted(bases, rows, side="right") - 1
        parts = []
        for index in np.unique(shard):
            name = source.files[index][0]
            wanted = (rows[shard == index] - bases[index]).tolist()
            marks = ", ".join("?" for _ in wanted)
            parts.append(
                self.run(
                    f"SELECT {self.select_list(split)} FROM {self.numbered(split)} "
                    f"WHERE __shard = ? AND file_row_number IN ({marks}) ORDER BY file_row_number",
                    [name, *wanted],
                )
            )
        if not parts:
            return self.run(
                f"SELECT {self.select_list(split)} FROM {self.version.relation_sql(split)} LIMIT 0",
                [],
            )
        return pl.concat(parts, how="diagonal_relaxed")

    def page(self, query: Query) -> Page:
        """One page of matching rows and the number of rows that match."""
        return Page(self.rows(query), self.count(query))

    def document(self, split: str, row_id: str) -> dict[str, Any] | None:
        """Every column of one row, by id."""
        if "id" not in self.schema(split):
            return None
        found = self.run(
            f"SELECT {self.select_list(split)} FROM {self.version.relation_sql(split)} "
            "WHERE id = ? LIMIT 1",
            [row_id],
        )
        return found.to_dicts()[0] if found.height else None

    def lengths(self, split: str, bins: int = 30) -> pl.DataFrame:
        """A histogram of text length in characters: bin start, bin end, rows."""
        if not self.has(split):
            return pl.DataFrame()
        text = self.search_expr(split)
        source = self.version.relation_sql(split)
        return self.run(
            f"""WITH l AS (SELECT length({text}) AS n FROM {source}),
            b AS (SELECT min(n) AS lo, greatest(max(n) - min(n), 1) / ? AS w FROM l)
            SELECT lo + least(floor((n - lo) / w), ? - 1) * w AS start, count(*) AS rows
            FROM l, b GROUP BY ALL ORDER BY start""",
            [bins, bins],
        )

    def counts(self, split: str, column: str) -> pl.DataFrame:
        """Rows per value of a category column, largest first."""
        self.check_column(column, self.schema(split))
        return self.run(
            f"SELECT CAST({quoted(column)} AS VARCHAR) AS value, count(*) AS rows "
            f"FROM {self.version.relation_sql(split)} GROUP BY ALL ORDER BY rows DESC",
            [],
        )
