"""Bad-word scoring: how much of a document is profanity or slurs, per the row's language."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import ClassVar

import polars as pl

from winnow.curate.rules import Rule
from winnow.curate.steps.base import Step, first_reason, register
from winnow.errors import WinnowError

REGEX_META = set("\\.+*?()|[]{}^$#&-~")


def regex_escape(word: str) -> str:
    """Escape a literal for Rust's regex syntax, which Polars uses (Python's escape differs)."""
    return "".join("\\" + c if c in REGEX_META else c for c in word)


def is_url(source: str) -> bool:
    """Whether a list source is fetched over the network rather than read from disk."""
    return source.startswith(("http://", "https://"))


def cache_dir() -> Path:
    """Where downloaded lists are kept: $WINNOW_HOME/cache/badwords, else the user cache."""
    home = os.environ.get("WINNOW_HOME")
    base = Path(home) / "cache" if home else Path.home() / ".cache" / "winnow"
    return base / "badwords"


def fetch(url: str) -> Path:
    """Download a list once into the cache folder (atomically) and return its local path."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    target = cache_dir() / f"{digest}-{Path(url.split('?')[0]).name or 'list.txt'}"
    if target.is_file():
        return target
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise WinnowError(
            f"badwords: could not download the word list {url} ({exc}); download it by hand and "
            f"name the local file in `lists`, or place it at {target}."
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target


@cache
def read_list(source: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Read a list (a path, URL or built-in language code) into (words, exceptions).

    One word per line; blank lines and lines starting with '#' are skipped; a line starting
    with '!' is an exception, an innocent word containing a listed one (Korean 시발점).
    """
    if source.startswith("builtin:"):
        res = resources.files("winnow") / "resources" / "badwords" / f"{source[8:]}.txt"
        text = res.read_text(encoding="utf-8")
    else:
        path = fetch(source) if is_url(source) else Path(source).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise WinnowError(
                f"badwords: cannot read the word list {path} ({exc}); give a UTF-8 text file "
                "with one word per line."
            ) from exc
    words: set[str] = set()
    exceptions: set[str] = set()
    for line in text.splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if entry.startswith("!"):
            exceptions.add(entry[1:].strip().lower())
        else:
            words.add(entry.lower())
    by_length = sorted(words, key=lambda w: (-len(w), w))
    return tuple(by_length), tuple(sorted(exceptions, key=lambda w: (-len(w), w)))


def builtin_languages() -> dict[str, str]:
    """The languages that ship with a list, as sources for `read_list`."""
    folder = resources.files("winnow") / "resources" / "badwords"
    names = [p.name for p in folder.iterdir() if p.name.endswith(".txt")]
    return {name[:-4]: f"builtin:{name[:-4]}" for name in sorted(names)}


def boundary(char: str) -> str:
    """The word boundary to put beside a word's edge character.

    An ASCII letter or digit gets the ASCII boundary, which Rust's regex runs about 60 times
    faster than the Unicode one (a non-ASCII letter next to it counts as a boundary); other
    word characters get the Unicode boundary; punctuation gets none.
    """
    if char.isascii() and (char.isalnum() or char == "_"):
        return r"(?-u:\b)"
    return r"\b" if char.isalnum() else ""


def word_pattern(words: tuple[str, ...], substring: bool) -> str:
    """One case-insensitive alternation; whole words, or whole words containing a listed one.

    For substring languages the match widens to the surrounding word, so each count is one
    word, never more matches than words.
    """
    if substring:
        return r"(?i)\w*(?:" + "|".join(regex_escape(w) for w in words) + r")\w*"
    parts = [boundary(w[0]) + regex_escape(w) + boundary(w[-1]) for w in words]
    return "(?i)(?:" + "|".join(parts) + ")"


@register
@dataclass
class Badwords(Step):
    """Count listed bad words per row in the row's language; drop above `max_fraction`.

    Built-in lists: English (`en`) and Korean (`ko`); `lists` maps a language to a path or
    URL (downloaded once into the cache) and replaces or adds to them. Words match whole and
    case-insensitively, except in `substring_languages` (no spaces between words or particles
    attached to them), where a word containing a listed one counts. The row's language is
    read from `language_column` when it exists (null and missing fall back to
    `default_language`); rows in a language without a list score 0.
    Columns: `badwords_count`, `badwords_fraction` (matched words / words).
    Reason: `too_many_badwords`.
    """

    name: ClassVar[str] = "badwords"
    prefix: ClassVar[str] = "badwords_"
    lists: dict[str, str] = field(default_factory=dict)
    max_fraction: float = 0.0
    language_column: str = "language"
    default_language: str = "en"
    substring_languages: list[str] = field(default_factory=lambda: ["ko", "ja", "zh", "th"])

    def __post_init__(self) -> None:
        """Check local list files at recipe load, so a typo fails before any data is read."""
        if not isinstance(self.lists, dict):
            raise ValueError("lists must map a language to a path or URL, e.g. {en: words.txt}")
        for lang, source in self.lists.items():
            if not is_url(source) and not Path(source).expanduser().is_file():
                raise WinnowError(
                    f"badwords: the list for '{lang}' names {source}, which is not a file; give "
                    "a path to a text file with one word per line, or an http(s) URL."
                )

    def sources(self) -> dict[str, str]:
        """Each language's list source: the built-in one unless `lists` names another."""
        return {**builtin_languages(), **self.lists}

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Add the count and fraction, scanning each row with its own language's list."""
        if self.language_column in df.columns:
            lang = pl.col(self.language_column).fill_null(self.default_language)
        else:
            lang = pl.lit(self.default_language)
        text = pl.col("text").fill_null("")
        counts = []
        for language, source in self.sources().items():
            words, exceptions = read_list(source)
            if not words:
                continue
            mine = pl.when(lang == language).then(text)
            if exceptions:
                blank = dict.fromkeys(exceptions, " ")
                mine = mine.str.replace_many(blank, ascii_case_insensitive=True, leftmost=True)
            pattern = word_pattern(words, language in self.substring_languages)
            counts.append(mine.str.count_matches(pattern))
        count = pl.coalesce(counts) if counts else pl.lit(None, dtype=pl.UInt32)
        count = count.fill_null(0).cast(pl.Int64).alias(self.col("count"))
        words_in_text = text.str.count_matches(r"\w+")
        fraction = (
            pl.when(words_in_text > 0)
            .then(pl.col(self.col("count")) / words_in_text)
            .otherwise(0.0)
            .alias(self.col("fraction"))
        )
        return df.with_columns(count).with_columns(fraction)

    def rules(self) -> tuple[Rule, ...]:
        """A bad-word fraction above `max_fraction`."""
        return (Rule(self.col("fraction"), ">", self.max_fraction, "too_many_badwords"),)

    def reason(self) -> pl.Expr:
        """Drop rows whose bad-word fraction exceeds `max_fraction`."""
        return first_reason(*self.rules())
