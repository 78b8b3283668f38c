"""C4 quality rules (Raffel et al. 2020), matching datatrove 0.10.1's C4QualityFilter.

Line rules, applied to each stripped line in order: drop a line with a word longer than
`max_word_length`; strip Wikipedia citations ("[1]", "[edit]", "[citation needed]"); drop a
line that does not end in terminal punctuation (. ? ! " ') or ends in "..."; drop a line
with fewer than `min_words_per_line` words; a line with "lorem ipsum" drops the document
(`lorem_ipsum`); drop a line mentioning "javascript"; a line with "{" drops the document
(`curly_bracket`); drop a line with a cookie or terms-of-use phrase. A document whose kept
lines hold fewer than `min_num_sentences` sentences is dropped (`too_few_sentences`);
otherwise its text becomes the kept lines joined by newlines, as datatrove rewrites it.
With `drop_docs: false` the step only removes lines: it never drops a document, and lines
with "lorem ipsum" or "{" are removed like other bad lines.

Sentences in each kept line are counted as datatrove's spaCy sentencizer finds them, by a
regex: a boundary is a sentence-final mark (not an ellipsis), closing quotes or brackets,
whitespace and then a word, unless the period belongs to a token spaCy keeps whole (an
initial, "U.S.", "Mr."). All lines of the shard are judged at once after one explode.

Korean needs no separate rule: words per line are whitespace-delimited eojeol and Korean
prose ends its sentences with ".", "?" or "!".

Score columns (numeric): `c4_n_lines`, `c4_n_kept_lines`, `c4_n_sentences` (in kept lines),
`c4_lorem_ipsum_line` and `c4_curly_bracket_line` (index of the first kept-so-far line that
drops the document, null when none). Because line rules decide what the text becomes, their
parameters take effect in `score`; `min_num_sentences` and `drop_docs` decide in `reason`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from winnow.curate.rules import Rule
from winnow.curate.steps.base import Step, first_reason, register
from winnow.curate.text.stats import normalized_lines

CITATION = r"\[\d*]|\[edit]|\[citation needed]"
POLICY_SUBSTRINGS = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)
# A sentence boundary as spaCy's sentencizer finds one on English text: a run of "." "!" "?"
# (not an ellipsis) and closing quotes or brackets, whitespace, then a word. The second
# pattern finds the periods that spaCy's tokenizer keeps inside a token (initials, dotted
# abbreviations, titles), which end no sentence.
_BOUNDARY = r"(?:[^.\s]\.|[!?。！？])[.!?。！？]*[\"'”’)\]]*\s+[\"'“‘(\[]*[\p{L}\p{N}]"
_NOT_BOUNDARY = (
    r"(?:^|[\s(\[\"'])(?:(?:\p{L}\.)+|(?i:mr|mrs|ms|dr|prof|jr|sr|st|mt|vs|inc|ltd|co|corp|jan"
    r"|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.)\s+[\"'“‘(\[]*[\p{L}\p{N}]"
)


def _sentence_count(line: pl.Expr) -> pl.Expr:
    """Sentences in a line: one plus each boundary that is not an abbreviation's period."""
    return 1 + line.str.count_matches(_BOUNDARY) - line.str.count_matches(_NOT_BOUNDARY)


@register
@dataclass
class C4Quality(Step):
    """Remove C4's bad lines and drop documents with lorem ipsum, code braces or few sentences."""

    name: ClassVar[str] = "c4"
    prefix: ClassVar[str] = "c4_"
    remove_citations: bool = True
    filter_no_terminal_punct: bool = True
    min_num_sentences: int = 5
    min_words_per_line: int = 3
    max_word_length: int = 1000
    filter_lorem_ipsum: bool = True
    filter_javascript: bool = True
    filter_curly_bracket: bool = True
    filter_policy: bool = True
    drop_docs: bool = True

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Judge every line of the shard at once, count sentences, and rewrite kept documents."""
        text = pl.col("text").fill_null("")
        rows = df.select(pl.int_range(pl.len()).alias("__i"))
        lines = (
            df.select(
                pl.int_range(pl.len()).alias("__i"),
                normalized_lines(text).str.split("\n").alias("line"),
            )
            .explode("line")
            .with_columns(pl.int_range(pl.len()).over("__i").alias("__n"))
            .with_columns(pl.col("line").fill_null("").str.strip_chars())
        )
        n_lines = lines.group_by("__i").agg(
            (pl.col("line").str.len_bytes() > 0).sum().alias(self.col("n_lines"))
        )
        candidates = self._line_verdicts(lines)
        kept = candidates.filter(pl.col("__keep"))
        kept = kept.with_columns(_sentence_count(pl.col("line")).alias("__sentences"))
        per_row = kept.group_by("__i").agg(
            pl.len().alias(self.col("n_kept_lines")),
            pl.col("__sentences").sum().alias(self.col("n_sentences")),
            pl.col("line").sort_by("__n").str.join("\n").str.strip_chars().alias("__text"),
        )
        events = candidates.group_by("__i").agg(
            pl.col("__n").filter(pl.col("__lorem")).min().alias(self.col("lorem_ipsum_line")),
            pl.col("__n").filter(pl.col("__curly")).min().alias(self.col("curly_bracket_line")),
        )
        stats = (
            rows.join(n_lines, on="__i", how="left")
            .join(per_row, on="__i", how="left")
            .join(events, on="__i", how="left")
            .with_columns(
                pl.col(self.col("n_lines"), self.col("n_kept_lines"), self.col("n_sentences"))
                .fill_null(0)
                .cast(pl.Int64),
                pl.col("__text").fill_null(""),
            )
            .drop("__i")
        )
        scored = df.with_columns(stats)
        new_text = pl.when(self.reason().is_null()).then(pl.col("__text"))
        return scored.with_columns(new_text.otherwise(pl.col("text")).alias("text")).drop("__text")

    def _line_verdicts(self, lines: pl.DataFrame) -> pl.DataFrame:
        """Lines that pass the line rules up to the document-level checks, with event flags."""
        line = pl.col("line")
        too_long = pl.lit(False)
        if self.max_word_length != -1:
            too_long = line.str.len_chars() > self.max_word_length
            long_lines = lines.filter(too_long).select(
                "__i",
                "__n",
                line.str.extract_all(r"\S+")
                .list.eval(pl.element().str.len_chars())
                .list.max()
                .gt(self.max_word_length)
                .alias("__long_word"),
            )
            lines = lines.join(long_lines, on=["__i", "__n"], how="left").filter(
                pl.col("__long_word").fill_null(False).not_()
            )
        if self.remove_citations:
            lines = lines.with_columns(line.str.replace_all(CITATION, ""))
        if self.filter_no_terminal_punct:
            ends = line.str.contains(r"[.?!\"']$") & line.str.ends_with("...").not_()
            lines = lines.filter(ends)
        n_words = line.str.count_matches(r"\S+")
        lines = lines.filter(n_words >= self.min_words_per_line)
        lorem = line.str.contains("(?i)lorem ipsum") & self.filter_lorem_ipsum
        javascript = line.str.contains("(?i)javascript") & self.filter_javascript
        curly = line.str.contains("{", literal=True) & self.filter_curly_bracket
        policy = line.str.contains("(?i)" + "|".join(POLICY_SUBSTRINGS)) & self.filter_policy
        return lines.with_columns(
            lorem.alias("__lorem"),
            (curly & javascript.not_() & lorem.not_()).alias("__curly"),
            (lorem | javascript | curly | policy).not_().alias("__keep"),
        )

    def rules(self) -> tuple[Rule, ...]:
        """Too few sentences in the kept lines, when the step drops documents at all."""
        if not self.drop_docs:
            return ()
        return (Rule(self.col("n_sentences"), "<", self.min_num_sentences, "too_few_sentences"),)

    def reason(self) -> pl.Expr:
        """Drop for the first document-level event, else for too few sentences in kept lines."""
        if not self.drop_docs:
            return pl.lit(None, dtype=pl.Utf8)
        lorem = pl.col(self.col("lorem_ipsum_line"))
        curly = pl.col(self.col("curly_bracket_line"))
        return first_reason(
            (lorem.is_not_null() & (curly.is_null() | (lorem < curly)), "lorem_ipsum"),
            (curly.is_not_null(), "curly_bracket"),
            *self.rules(),
        )
