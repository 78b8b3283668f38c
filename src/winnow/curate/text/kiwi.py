"""Korean words as Kiwi (kiwipiepy) sees them: morphemes with their part of speech.

The `tokenizer: kiwi` option of the Gopher and FineWeb steps splits a text column here
instead of with the fast split of `stats`. A token is a morpheme's surface span in the text,
as datatrove's Korean word tokenizer takes it (`text[start:end]` of each Kiwi token), so
"국민은" gives "국민" and "은", and a contracted form gives overlapping spans ("가진다":
"가진", "진다"). Punctuation and symbols are tokens of their own, as with the fast split.
Kiwi is imported and loaded on first use, once per process (about 3 s and 0.6 GB), with
one analysis thread: the executors already run one process per core. Runs of 20 or more
digits and commas are blanked before analysis (datatrove strips them too; Kiwi is slow on
them), which keeps every span's position.
"""

from __future__ import annotations

import re
import warnings
from functools import cache
from importlib.util import find_spec
from typing import Any

import numpy as np
import polars as pl

from winnow.curate.text.tokens import Tokens, span_tokens
from winnow.errors import WinnowError

# Kiwi's part-of-speech tags (Sejong tag set plus Kiwi's own); a tag's suffix such as the
# "-I" of an irregular verb ("VV-I") is dropped. Index 0 stands for any tag not listed.
TAGS = (
    "UN", "NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "VX", "VCP", "VCN", "MM", "MAG", "MAJ",
    "IC", "JKS", "JKC", "JKG", "JKO", "JKB", "JKV", "JKQ", "JX", "JC", "EP", "EF", "EC", "ETN",
    "ETM", "XPN", "XSN", "XSV", "XSA", "XSM", "XR", "SF", "SP", "SS", "SSO", "SSC", "SE", "SO",
    "SW", "SL", "SH", "SN", "SB", "W_URL", "W_EMAIL", "W_HASHTAG", "W_MENTION", "W_SERIAL",
    "W_EMOJI", "Z_CODA", "Z_SIOT",
)  # fmt: skip
_TAG_INDEX = {tag: i for i, tag in enumerate(TAGS)}
_LONG_NUMBERS = re.compile(r"[0-9,]{20,}")
INSTALL = "pip install 'winnow-llm[korean]'"


def require_kiwi(where: str) -> None:
    """Fail in one sentence, at recipe load, when `tokenizer: kiwi` is asked for without Kiwi."""
    if find_spec("kiwipiepy") is None:
        raise WinnowError(
            f"{where}: 'tokenizer: kiwi' needs the Korean analyser kiwipiepy, which is not "
            f"installed; install it with {INSTALL} or use 'tokenizer: eojeol'."
        )


@cache
def analyser() -> Any:
    """The process's one Kiwi instance, loaded on first use."""
    require_kiwi("tokenizer kiwi")
    from kiwipiepy import Kiwi

    with warnings.catch_warnings():  # num_workers=0 is one thread; kiwipiepy warns it changed
        warnings.simplefilter("ignore", DeprecationWarning)
        kiwi = Kiwi(num_workers=0)
    kiwi.tokenize("")  # Kiwi finishes loading on the first analysis
    return kiwi


def tag_ids(tags: tuple[str, ...] | list[str]) -> np.ndarray:
    """The indexes into TAGS of these tag names (unknown names match no token)."""
    return np.array([_TAG_INDEX.get(t, -1) for t in tags], dtype=np.int64)


def _blank_long_numbers(text: str) -> str:
    """The text with each run of 20+ digits and commas turned into as many spaces."""
    return _LONG_NUMBERS.sub(lambda m: " " * len(m.group()), text)


def _byte_offsets(text: str) -> np.ndarray:
    """The UTF-8 byte offset of every character of `text`, and of its end."""
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    widths = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)
    return np.concatenate(([0], np.cumsum(widths, dtype=np.int64)))


def kiwi_tokens(texts: pl.Series, punctuation: frozenset[str]) -> Tokens:
    """Kiwi's morphemes of every row, as tokens with their tags."""
    kiwi = analyser()
    rows = texts.fill_null("").to_list()
    counts = np.zeros(len(rows) + 1, dtype=np.int64)
    starts, ends, tags = [], [], []
    for r, text in enumerate(rows):
        analysed = kiwi.tokenize(_blank_long_numbers(text))
        counts[r + 1] = len(analysed)
        if not analysed:
            continue
        spans = np.array([(t.start, t.end) for t in analysed], dtype=np.int64)
        at = _byte_offsets(text)
        starts.append(at[spans[:, 0]])
        ends.append(at[spans[:, 1]])
        tags.append(np.array([_TAG_INDEX.get(t.tag.split("-")[0], 0) for t in analysed]))
    empty = np.zeros(0, dtype=np.int64)
    return span_tokens(
        texts,
        np.cumsum(counts),
        np.concatenate(starts) if starts else empty,
        np.concatenate(ends) if ends else empty,
        punctuation,
        np.concatenate(tags).astype(np.uint8) if tags else empty.astype(np.uint8),
    )
