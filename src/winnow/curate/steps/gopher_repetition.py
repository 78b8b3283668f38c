"""Gopher repetition rules (Rae et al. 2021, table A1), matching datatrove 0.10.1's filter.

Rules, in datatrove's order and with its reasons: `empty`, duplicate paragraphs and their
characters (`dup_para_frac`, `dup_para_char_frac`), duplicate lines and their characters
(`dup_line_frac`, `dup_line_char_frac`), the most frequent word n-gram's characters
(`top_{n}_gram`, n = 2, 3, 4) and the characters covered by repeated n-grams
(`duplicated_{n}_n_grams`, n = 5 to 10), each as a share of the document's characters.

All n-gram statistics are computed for the whole shard at once: tokens are hashed,
n-gram keys are built by a rolling polynomial over the flat token array (numpy, wrapping
64-bit arithmetic) and counted by sorting them. datatrove counts repeated n-grams
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
from winnow.curate.steps.text_stats import duplicate_stats, flat_pieces, words_of

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
    rest, so one 64-bit value identifies an n-gram within its row; sorting the keys puts the
    copies of an n-gram next to each other and the rows in order.
    """

    def __init__(self, tokens: _Tokens, n_rows: int) -> None:
        """Start at unigrams over every token."""
        self.tokens = tokens
        self.n_rows = n_rows
        self.row_bits = max(1, int(n_rows).bit_length())
        self.n = 0
        self.hashes = tokens.hashes.copy()
        self.candidates = np.arange(len(tokens.row), dtype=np.int64)

    def step(self, needed: bool) -> _Groups | None:
        """Advance to the next n; return its repeated n-grams grouped, or None if not `needed`.

        Unigrams repeat almost everywhere, so unless they are `needed` they prune nothing
        worth a pass and are skipped.
        """
        self.n += 1
        t, n = self.tokens, self.n
        if n == 1 and not needed:
            return None
        at = self.candidates[t.pos[self.candidates] + n <= t.row_len[self.candidates]]
        if n > 1:
            self.hashes[at] = self.hashes[at] * _MULTIPLIER + t.hashes[at + n - 1]
        rows = t.row[at].astype(np.uint64) << np.uint64(64 - self.row_bits)
        keys = rows | (self.hashes[at] >> np.uint64(self.row_bits))
        order = np.argsort(keys)
        keys, at = keys[order], at[order]
        new = np.ones(len(keys), dtype=bool)
        new[1:] = keys[1:] != keys[:-1]
        starts = np.flatnonzero(new)
        sizes = np.diff(np.append(starts, len(keys)))
        repeated = np.repeat(sizes > 1, sizes)
        self.candidates = at[repeated]
        kept = sizes > 1
        first = np.minimum.reduceat(at, starts)[kept] if len(at) else starts
        return _Groups(at=self.candidates, first=first, count=sizes[kept])

    def chars(self, at: np.ndarray, joiner: int) -> np.ndarray:
        """Characters of the n-grams at these positions, with `joiner` characters between words."""
        cum = self.tokens.cum_chars
        return cum[at + self.n] - cum[at] + joiner * (self.n - 1)

    def top(self, groups: _Groups) -> np.ndarray:
        """Per row, count times length of its most frequent n-gram (first seen wins); -1 if none."""
        t, n = self.tokens, self.n
        out = np.full(self.n_rows, -1, dtype=np.int64)
        has = t.row_len[t.pos == 0] >= n
        first = np.flatnonzero(t.pos == 0)[has]
        out[t.row[first]] = self.chars(first, 1)
        if len(groups.first) == 0:
            return out
        # Groups come in row order; the best of a row has the highest count, then the
        # earliest first position.
        row = t.row[groups.first]
        rank = (groups.count << 40) - groups.first
        row_start = np.flatnonzero(np.diff(row, prepend=-1))
        best = np.maximum.reduceat(rank, row_start)
        chosen = rank == np.repeat(best, np.diff(np.append(row_start, len(row))))
        at = groups.first[chosen]
        out[row[chosen]] = groups.count[chosen] * self.chars(at, 1)
        return out

    def duplicated_chars(self, groups: _Groups) -> np.ndarray:
        """Per row, characters in repeated n-grams, covering each run of repeats in steps of n."""
        n = self.n
        first = np.repeat(groups.first, groups.count)
        later = np.sort(groups.at[groups.at != first])
        if len(later) == 0:
            return np.zeros(self.n_rows, dtype=np.int64)
        row = self.tokens.row
        new_run = np.ones(len(later), dtype=bool)
        new_run[1:] = (later[1:] != later[:-1] + 1) | (row[later[1:]] != row[later[:-1]])
        run_start = later[np.flatnonzero(new_run)][np.cumsum(new_run) - 1]
        chosen = later[(later - run_start) % n == 0]
        weights = self.chars(chosen, 0)
        return np.bincount(row[chosen], weights=weights, minlength=self.n_rows).astype(np.int64)


@dataclass
class _Groups:
    """The repeated n-grams of one n: positions grouped by n-gram, each group's first position
    and size, groups in row order."""

    at: np.ndarray
    first: np.ndarray
    count: np.ndarray


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
            text.str.strip_chars().str.split("\n\n").alias("paras"),
            text.str.split("\n").alias("lines"),
            text.str.starts_with("\n").cast(pl.Int64).alias("lead"),
            text.str.ends_with("\n").cast(pl.Int64).alias("trail"),
        )
        # A paragraph is a run of non-empty lines: pieces between blank lines, less the
        # newlines left at their edges by runs of three or more.
        paras, para_row = flat_pieces(parts["paras"], pl.col("x").str.strip_chars("\n") != "")
        lines, line_row = flat_pieces(parts["lines"], pl.col("x") != "")
        paras = duplicate_stats(paras.str.strip_chars("\n"), para_row, df.height)
        lines = duplicate_stats(lines, line_row, df.height)
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
            groups = counter.step(n in top_ns | dup_ns)
            if groups is not None and n in top_ns:
                top = pl.Series(counter.top(groups))
                columns[f"top_{n}_gram_frac"] = (top / n_chars).set(top < 0, None)
            if groups is not None and n in dup_ns:
                dup = pl.Series(counter.duplicated_chars(groups))
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
