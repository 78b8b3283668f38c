"""The compiled repetition kernel against the numpy/Polars implementation it replaced.

`reference` is that implementation, kept here as the oracle: the step's score columns must
equal its columns exactly, on the real web corpus and on texts chosen to hit the edge cases.
"""

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.curate.samples import TRICKY, read_texts
from winnow.curate.steps.gopher_repetition import GopherRepetition
from winnow.curate.text.stats import duplicate_stats, flat_pieces, tokens_of

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def _ngram_groups(keys: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sort n-gram keys; return positions, each repeated group's first position and size."""
    order = np.argsort(keys)
    keys, at = keys[order], at[order]
    new = np.ones(len(keys), dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, len(keys)))
    kept = sizes > 1
    first = np.minimum.reduceat(at, starts)[kept] if len(at) else starts
    return at[np.repeat(kept, sizes)], first, sizes[kept]


def _reference_ngrams(
    tokens: pl.Series, n_rows: int, top_ns: set[int], dup_ns: set[int]
) -> dict[str, np.ndarray]:
    """Top and repeated n-gram characters per row, by sorting 64-bit n-gram keys per n."""
    lengths = tokens.list.len().fill_null(0).to_numpy().astype(np.int64)
    flat = tokens.explode().drop_nulls()
    row = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
    pos = np.arange(len(flat), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    row_len = np.repeat(lengths, lengths)
    token_hashes = flat.hash(seed=0).to_numpy()
    cum = np.concatenate(([0], np.cumsum(flat.str.len_chars().to_numpy().astype(np.int64))))
    row_bits = max(1, int(n_rows).bit_length())
    hashes, candidates = token_hashes.copy(), np.arange(len(flat), dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    for n in range(1, max(top_ns | dup_ns, default=0) + 1):
        if n == 1 and n not in top_ns | dup_ns:
            continue
        at = candidates[pos[candidates] + n <= row_len[candidates]]
        if n > 1:
            hashes[at] = hashes[at] * _MULTIPLIER + token_hashes[at + n - 1]
        keys = (row[at].astype(np.uint64) << np.uint64(64 - row_bits)) | (
            hashes[at] >> np.uint64(row_bits)
        )
        candidates, first, count = _ngram_groups(keys, at)
        if n in top_ns:
            top = np.full(n_rows, -1, dtype=np.int64)
            starts = np.flatnonzero((pos == 0) & (row_len >= n))
            top[row[starts]] = cum[starts + n] - cum[starts] + n - 1
            if len(first):
                rank = (count << 40) - first
                group_row = row[first]
                row_start = np.flatnonzero(np.diff(group_row, prepend=-1))
                best = np.maximum.reduceat(rank, row_start)
                chosen = rank == np.repeat(best, np.diff(np.append(row_start, len(group_row))))
                at_best = first[chosen]
                top[group_row[chosen]] = count[chosen] * (cum[at_best + n] - cum[at_best] + n - 1)
            out[f"top_{n}"] = top
        if n in dup_ns:
            later = np.sort(candidates[candidates != np.repeat(first, count)])
            new_run = np.ones(len(later), dtype=bool)
            new_run[1:] = (later[1:] != later[:-1] + 1) | (row[later[1:]] != row[later[:-1]])
            run_start = later[np.flatnonzero(new_run)][np.cumsum(new_run) - 1]
            chosen = later[(later - run_start) % n == 0]
            weights = cum[chosen + n] - cum[chosen]
            out[f"dup_{n}"] = np.bincount(row[chosen], weights=weights, minlength=n_rows)
    return out


def reference(df: pl.DataFrame, step: GopherRepetition) -> pl.DataFrame:
    """The score columns as the numpy/Polars implementation computed them."""
    text = pl.col("text").fill_null("")
    parts = df.select(
        text.str.len_chars().alias("n_chars"),
        text.str.strip_chars().str.split("\n\n").alias("paras"),
        text.str.split("\n").alias("lines"),
        text.str.starts_with("\n").cast(pl.Int64).alias("lead"),
        text.str.ends_with("\n").cast(pl.Int64).alias("trail"),
    )
    paras, para_row = flat_pieces(parts["paras"], pl.col("x").str.strip_chars("\n") != "")
    lines, line_row = flat_pieces(parts["lines"], pl.col("x") != "")
    paras = duplicate_stats(paras.str.strip_chars("\n"), para_row, df.height)
    lines = duplicate_stats(lines, line_row, df.height)
    n_chars = parts["n_chars"]
    n_lines = lines["n"] + parts["lead"] + parts["trail"]
    columns = {
        "n_chars": n_chars,
        "dup_para_frac": paras["dup"] / paras["n"].clip(lower_bound=1),
        "dup_para_char_frac": paras["dup_chars"] / n_chars,
        "dup_line_frac": (lines["dup"] + parts["lead"] * parts["trail"])
        / n_lines.clip(lower_bound=1),
        "dup_line_char_frac": lines["dup_chars"] / n_chars,
    }
    top_ns = {n for n, _ in step.top_n_grams}
    dup_ns = {n for n, _ in step.dup_n_grams}
    token_lists = pl.Series(tokens_of(df["text"]).strings(), dtype=pl.List(pl.String))
    ngrams = _reference_ngrams(token_lists, df.height, top_ns, dup_ns)
    for n in range(1, max(top_ns | dup_ns, default=0) + 1):
        if n in top_ns:
            top = pl.Series(ngrams[f"top_{n}"])
            columns[f"top_{n}_gram_frac"] = (top / n_chars).set(top < 0, None)
        if n in dup_ns:
            dup = pl.Series(ngrams[f"dup_{n}"].astype(np.int64))
            columns[f"dup_{n}_gram_frac"] = dup / n_chars
    return df.with_columns(v.alias(f"gopher_repetition_{k}") for k, v in columns.items())


def assert_matches_reference(texts: list[str | None], step: GopherRepetition) -> None:
    """The step's columns equal the reference's exactly, NaN and null included."""
    df = pl.DataFrame({"text": texts}, schema={"text": pl.String})
    assert_frame_equal(step.score(df), reference(df, step), check_exact=True)


def test_tricky_texts():
    assert_matches_reference(TRICKY, GopherRepetition())


def test_other_n_gram_sizes_and_unigrams():
    step = GopherRepetition(top_n_grams=((1, 0.5), (3, 0.2)), dup_n_grams=((2, 0.1), (7, 0.1)))
    assert_matches_reference(TRICKY, step)


def test_no_n_grams():
    assert_matches_reference(TRICKY, GopherRepetition(top_n_grams=(), dup_n_grams=()))


@pytest.mark.parametrize("korean", [False, True], ids=["web", "korean"])
def test_real_corpus(shared_data: Path, korean: bool):
    if korean:
        texts: list[str | None] = read_texts(shared_data / "korean" / "news_comments.txt.gz")
        texts = texts[:2000]
    else:
        web = shared_data / "web"
        paths = sorted(web.glob("*.jsonl")) + sorted(web.glob("*.jsonl.gz"))
        texts = [t for path in [*paths, web / "wiki_demo.txt"] for t in read_texts(path)]
    assert len(texts) > 1000
    assert_matches_reference(texts, GopherRepetition())
