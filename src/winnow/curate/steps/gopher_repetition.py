"""Gopher repetition rules (Rae et al. 2021, table A1), matching datatrove 0.10.1's filter.

Rules, in datatrove's order and with its reasons: `empty`, duplicate paragraphs and their
characters (`dup_para_frac`, `dup_para_char_frac`), duplicate lines and their characters
(`dup_line_frac`, `dup_line_char_frac`), the most frequent word n-gram's characters
(`top_{n}_gram`, n = 2, 3, 4) and the characters covered by repeated n-grams
(`duplicated_{n}_n_grams`, n = 5 to 10), each as a share of the document's characters.

All n-gram statistics are computed for the whole shard at once: tokens are hashed,
n-gram keys are built by a rolling polynomial over the flat token array (numpy, wrapping
64-bit arithmetic) and counted with Polars group-bys. datatrove counts repeated n-grams
greedily, jumping n words past each repeat; here each run of consecutive repeated
positions is covered in steps of n from its start, which gives the same count except when
a repeat's only earlier copy lay inside a stretch that the greedy scan jumped over.

Korean needs no separate rule: words are whitespace- and punctuation-delimited eojeol,
and every ratio is over characters, so the thresholds carry over.

Score columns (fractions, numeric): `gopher_repetition_dup_para_frac`,
`gopher_repetition_dup_para_char_frac`, `gopher_repetition_dup_line_frac`,
`gopher_repetition_dup_line_char_frac`, `gopher_repetition_top_{n}_gram_frac`,
`gopher_repetition_dup_{n}_gram_frac`, plus `gopher_repetition_n_chars`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import polars as pl

from winnow.curate.steps.base import Step, first_reason, register
from winnow.curate.steps.text_stats import duplicate_stats, words_of

_P = "gopher_repetition_"
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class _Tokens:
    """The shard's tokens flattened: owning row, position in row, hash and cumulative length."""

    row: np.ndarray
    pos: np.ndarray
    row_len: np.ndarray
    hashes: np.ndarray
    cum_chars: np.ndarray

    @classmethod
    def of(cls, token_lists: pl.Series) -> _Tokens:
        """Flatten a list column of tokens, keeping which row each token came from."""
        lengths = token_lists.list.len().fill_null(0).to_numpy().astype(np.int64)
        flat = token_lists.explode().drop_nulls()
        row = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        pos = np.arange(len(flat), dtype=np.int64) - np.repeat(starts, lengths)
        chars = flat.str.len_chars().to_numpy().astype(np.int64)
        return cls(
            row=row,
            pos=pos,
            row_len=np.repeat(lengths, lengths),
            hashes=flat.hash(seed=0).to_numpy(),
            cum_chars=np.concatenate(([0], np.cumsum(chars))),
        )


class _NgramCounter:
    """Walks n = 1, 2, ... keeping only positions whose (n-1)-gram occurs more than once.

    An n-gram can repeat only where its (n-1)-gram prefix does, so each step looks at fewer
    positions. Keys pack the row into the top bits and a rolling hash of the n-gram into the
    rest, so one 64-bit value identifies an n-gram within its row.
    """

    def __init__(self, tokens: _Tokens, n_rows: int) -> None:
        """Start at unigrams over every token."""
        self.tokens = tokens
        self.n_rows = n_rows
        self.row_bits = max(1, int(n_rows).bit_length())
        self.n = 0
        self.hashes = tokens.hashes.copy()
        self.candidates = np.arange(len(tokens.row), dtype=np.int64)

    def step(self, needed: bool) -> tuple[np.ndarray, np.ndarray]:
        """Advance to the next n; return positions of repeated n-grams and their keys.

        Unigrams repeat almost everywhere, so unless they are `needed` they prune nothing
        worth a pass and are skipped.
        """
        self.n += 1
        t, n = self.tokens, self.n
        if n == 1 and not needed:
            return self.candidates, self.hashes
        at = self.candidates[t.pos[self.candidates] + n <= t.row_len[self.candidates]]
        if n > 1:
            self.hashes[at] = self.hashes[at] * _MULTIPLIER + t.hashes[at + n - 1]
        rows = t.row[at].astype(np.uint64) << np.uint64(64 - self.row_bits)
        keys = rows | (self.hashes[at] >> np.uint64(self.row_bits))
        repeated = pl.Series(keys).is_duplicated().to_numpy()
        self.candidates = at[repeated]
        return self.candidates, keys[repeated]

    def chars(self, at: np.ndarray, joiner: int) -> np.ndarray:
        """Characters of the n-grams at these positions, with `joiner` characters between words."""
        cum = self.tokens.cum_chars
        return cum[at + self.n] - cum[at] + joiner * (self.n - 1)

    def top(self, at: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """Per row, count times length of its most frequent n-gram (first seen wins); -1 if none."""
        t, n = self.tokens, self.n
        out = np.full(self.n_rows, -1, dtype=np.int64)
        has = t.row_len[t.pos == 0] >= n
        first = np.flatnonzero(t.pos == 0)[has]
        out[t.row[first]] = self.chars(first, 1)
        if len(at) == 0:
            return out
        groups = (
            pl.DataFrame({"key": keys, "at": at})
            .group_by("key")
            .agg(pl.len().cast(pl.Int64).alias("count"), pl.col("at").min())
        )
        group_at = groups["at"].to_numpy()
        rank = (groups["count"].to_numpy() << 40) - group_at
        best = (
            pl.DataFrame({"row": t.row[group_at], "rank": rank, "at": group_at})
            .sort("rank", descending=True)
            .unique("row", keep="first")
        )
        best_at = best["at"].to_numpy()
        out[t.row[best_at]] = (best["rank"].to_numpy() + best_at >> 40) * self.chars(best_at, 1)
        return out

    def duplicated_chars(self, at: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """Per row, characters in repeated n-grams, covering each run of repeats in steps of n."""
        n = self.n
        later = at[pl.Series(keys).is_first_distinct().not_().to_numpy()]
        if len(later) == 0:
            return np.zeros(self.n_rows, dtype=np.int64)
        row = self.tokens.row
        new_run = np.ones(len(later), dtype=bool)
        new_run[1:] = (later[1:] != later[:-1] + 1) | (row[later[1:]] != row[later[:-1]])
        run_start = later[np.flatnonzero(new_run)][np.cumsum(new_run) - 1]
        chosen = later[(later - run_start) % n == 0]
        weights = self.chars(chosen, 0)
        return np.bincount(row[chosen], weights=weights, minlength=self.n_rows).astype(np.int64)


def _col(metric: str) -> pl.Expr:
    """The score column of this step for a metric."""
    return pl.col(f"{_P}{metric}")


@register
@dataclass
class GopherRepetition(Step):
    """Drop documents dominated by repeated paragraphs, lines or word n-grams."""

    name: ClassVar[str] = "gopher_repetition"
    dup_line_frac: float | None = 0.3
    dup_para_frac: float | None = 0.3
    dup_line_char_frac: float | None = 0.2
    dup_para_char_frac: float | None = 0.2
    top_n_grams: tuple[tuple[int, float], ...] = ((2, 0.2), (3, 0.18), (4, 0.16))
    dup_n_grams: tuple[tuple[int, float], ...] = (
        (5, 0.15),
        (6, 0.14),
        (7, 0.13),
        (8, 0.12),
        (9, 0.11),
        (10, 0.10),
    )

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Measure paragraph, line and n-gram repetition for the whole shard at once."""
        text = pl.col("text").fill_null("")
        parts = df.select(
            text.str.len_chars().alias("n_chars"),
            text.str.strip_chars().str.extract_all(r"[^\n]+(?:\n[^\n]+)*").alias("paras"),
            text.str.extract_all(r"[^\n]+").alias("lines"),
            text.str.starts_with("\n").cast(pl.Int64).alias("lead"),
            text.str.ends_with("\n").cast(pl.Int64).alias("trail"),
        )
        paras = duplicate_stats(parts["paras"])
        lines = duplicate_stats(parts["lines"])
        n_chars = parts["n_chars"]
        # re.split gives one empty paragraph for blank text and empty first/last lines for a
        # text that starts/ends with a newline; the two empty lines repeat each other.
        n_paras = paras["n"].clip(lower_bound=1)
        n_lines = lines["n"] + parts["lead"] + parts["trail"]
        dup_lines = lines["dup"] + parts["lead"] * parts["trail"]
        columns = {
            "n_chars": n_chars,
            "dup_para_frac": paras["dup"] / n_paras,
            "dup_para_char_frac": paras["dup_chars"] / n_chars,
            "dup_line_frac": dup_lines / n_lines.clip(lower_bound=1),
            "dup_line_char_frac": lines["dup_chars"] / n_chars,
        }
        counter = _NgramCounter(_Tokens.of(words_of(df["text"])), df.height)
        top_ns = {n for n, _ in self.top_n_grams}
        dup_ns = {n for n, _ in self.dup_n_grams}
        for n in range(1, max(top_ns | dup_ns, default=0) + 1):
            at, keys = counter.step(n in top_ns | dup_ns)
            if n in top_ns:
                top = pl.Series(counter.top(at, keys))
                columns[f"top_{n}_gram_frac"] = (top / n_chars).set(top < 0, None)
            if n in dup_ns:
                dup = pl.Series(counter.duplicated_chars(at, keys))
                columns[f"dup_{n}_gram_frac"] = dup / n_chars
        return df.with_columns(v.alias(f"{_P}{k}") for k, v in columns.items())

    def reason(self) -> pl.Expr:
        """Apply the thresholds in datatrove's order; a threshold of None or 0 turns a rule off."""
        rules: list[tuple[pl.Expr, str]] = [(_col("n_chars") == 0, "empty")]
        for metric, limit in (
            ("dup_para_frac", self.dup_para_frac),
            ("dup_para_char_frac", self.dup_para_char_frac),
            ("dup_line_frac", self.dup_line_frac),
            ("dup_line_char_frac", self.dup_line_char_frac),
        ):
            if limit:
                rules.append((_col(metric) > limit, metric))
        rules += [(_col(f"top_{n}_gram_frac") > f, f"top_{n}_gram") for n, f in self.top_n_grams]
        rules += [
            (_col(f"dup_{n}_gram_frac") > f, f"duplicated_{n}_n_grams") for n, f in self.dup_n_grams
        ]
        return first_reason(*rules)
