"""Refusal and assistant-boilerplate answers ("As an AI language model...") in en, ko and zh."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import ClassVar

import polars as pl

from winnow.curate.steps.badwords import boundary, regex_escape
from winnow.curate.steps.base import Step, first_reason, register
from winnow.curate.steps.instruct.fields import check_fields, require_columns, text_field
from winnow.errors import WinnowError

BUILTIN_LANGUAGES = ("en", "ko", "zh")
GAP = r"[^.!?。\n]{0,80}?"
# A quotation after a non-letter (or at the start): reported speech and examples, such as an
# answer that teaches how to decline ("'죄송하지만 참석할 수 없습니다'라고 하세요"), not the
# answer's own voice. A straight ' after a letter is an apostrophe (I'm), so it opens nothing.
QUOTED = (
    r"(^|[^\p{L}\p{N}])(?:\"[^\"\n]{1,200}\"|“[^”\n]{1,200}”|‘[^’\n]{1,200}’|'[^'\n]{1,200}'"
    r"|「[^」\n]{1,200}」|『[^』\n]{1,200}』)"
)


def fold(text: pl.Expr) -> pl.Expr:
    """Text as phrases are matched: quotations dropped, NFKC, curly quotes straightened, lower
    case."""
    text = text.str.replace_all(QUOTED, "${1} ").str.normalize("NFKC")
    return text.str.replace_all("[\u2018\u2019\u02bc]", "'").str.to_lowercase()


def phrase_pattern(phrase: str) -> str:
    """The regex of one listed phrase: whitespace-tolerant, ' ... ' a short in-sentence gap.

    Whitespace between two ASCII characters matches a whitespace run; anywhere else spacing is
    optional, since Korean spacing varies ("도와드릴 수" and "도와드릴수") and Chinese has none
    ("AI语言" also matches "AI 语言").
    """
    phrase = unicodedata.normalize("NFKC", phrase).replace("\u2019", "'").lower()
    parts = []
    for piece in (p.strip() for p in phrase.split("...")):
        out = []
        for i, char in enumerate(piece):
            if char.isspace():
                continue
            before = piece[:i].rstrip()[-1:]
            spaced = bool(before) and before != piece[i - 1]
            if spaced and before.isascii() and char.isascii():
                out.append(r"\s+")
            elif spaced or (before and before.isascii() != char.isascii()):
                out.append(r"\s*")
            out.append(regex_escape(char))
        parts.append("".join(out))
    return edge(phrase[0]) + GAP.join(p for p in parts if p) + edge(phrase[-1])


def edge(char: str) -> str:
    """A word boundary beside an ASCII edge; none beside Chinese or Korean, which attach."""
    return boundary(char) if char.isascii() else ""


@cache
def read_phrases(source: str) -> tuple[str, ...]:
    """Phrases of a list (a path, or `builtin:LANG`); '#' lines and blank lines skipped."""
    if source.startswith("builtin:"):
        res = resources.files("winnow") / "resources" / "refusals" / f"{source[8:]}.txt"
        text = res.read_text(encoding="utf-8")
    else:
        try:
            text = Path(source).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise WinnowError(
                f"refusal: cannot read the phrase list {source} ({exc}); give a UTF-8 text file "
                "with one phrase per line."
            ) from exc
    lines = (line.strip() for line in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


@register
@dataclass
class Refusal(Step):
    """Drop answers that refuse or carry AI boilerplate, in English, Korean and Chinese.

    Examples: "As an AI language model", "죄송하지만 ... 도와드릴 수 없습니다",
    "作为一个AI语言模型", "I was trained by OpenAI".
    Built-in phrase lists live in winnow/resources/refusals/{en,ko,zh}.txt (where each comes
    from is written at its top); `languages` picks among them and `lists` adds phrase files.
    A phrase matches case-insensitively anywhere in the `fields` (default: the output) outside
    quotation marks (quoted text is reported speech or an example, as in an answer that
    teaches how to decline politely), after NFKC and straightened quotes; ' ... ' inside a
    phrase stands for up to 80 characters within one sentence; spaces are optional except
    between two ASCII characters (Korean spacing varies). Column: `refusal_match` (the first
    matched phrase as found, lower-cased; null when none). Reason: `refusal`.
    """

    name: ClassVar[str] = "refusal"
    prefix: ClassVar[str] = "refusal_"
    version: ClassVar[int] = 2
    languages: list[str] = field(default_factory=lambda: list(BUILTIN_LANGUAGES))
    lists: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=lambda: ["output"])

    def __post_init__(self) -> None:
        """Check the languages, extra lists and fields at recipe load."""
        check_fields(self.name, self.fields)
        if isinstance(self.languages, str) or not set(self.languages) <= set(BUILTIN_LANGUAGES):
            raise WinnowError(
                f"refusal: languages must be a list drawn from {', '.join(BUILTIN_LANGUAGES)}, "
                f"not {self.languages!r}; add other languages as files in `lists`."
            )
        if isinstance(self.lists, str):
            raise WinnowError(f"refusal: lists must be a list of files, e.g. [{self.lists}].")
        for source in self.lists:
            if not Path(source).expanduser().is_file():
                raise WinnowError(
                    f"refusal: the phrase list {source} is not a file; give a UTF-8 text file "
                    "with one phrase per line."
                )
        if not self.phrases():
            raise WinnowError("refusal: no phrases to match; name languages or lists with phrases.")

    def phrases(self) -> tuple[str, ...]:
        """Every phrase from the chosen built-in lists and the extra files."""
        sources = [f"builtin:{lang}" for lang in self.languages] + list(self.lists)
        return tuple(p for source in sources for p in read_phrases(source))

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Find the first listed phrase in each field, in field order."""
        require_columns(self.name, df, self.fields)
        pattern = "(" + "|".join(phrase_pattern(p) for p in self.phrases()) + ")"
        found = [fold(text_field(f)).str.extract(pattern, 1) for f in self.fields]
        return df.with_columns(pl.coalesce(found).alias(self.col("match")))

    def reason(self) -> pl.Expr:
        """Drop rows where a phrase matched."""
        return first_reason((pl.col(self.col("match")).is_not_null(), "refusal"))
