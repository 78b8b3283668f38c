"""Rules for short user text (comments, chat, reviews), judged whole and never rewritten.

Document rules (Gopher, C4, FineWeb) reject one-line text for being one line; these ask what
matters in a comment instead: are there words (letters other than standalone Hangul jamo
such as ㅋㅋ or ㅠㅠ, outside links), is it one character or mostly one character repeated,
is it a platform's placeholder ("클린봇이 부적절한 표현을 감지한 댓글입니다."), and does it
carry a phone number or messenger contact (advertising). Counts are taken on the NFC form of
the text, so decomposed Hangul counts as syllables; the stored text is left as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import polars as pl

from winnow.curate.rules import Rule
from winnow.curate.steps.base import Step, bounds, first_reason, register
from winnow.curate.steps.pii import KR_SERVICE, PHONE

JAMO = r"[\x{1100}-\x{11FF}\x{3131}-\x{318E}\x{A960}-\x{A97F}\x{D7B0}-\x{D7FF}\x{FFA0}-\x{FFDC}]"
"""Standalone Hangul jamo (conjoining, compatibility, extended and half-width): letters to a
Unicode class, but ㅋㅋ, ㅎㅎ and ㅠㅠ are laughter and tears, not words."""
LETTER = r"[\p{L}--" + JAMO + "]"
"""A letter that makes words: any script's, standalone jamo aside."""
URL = (
    r"(?i)(?:https?://|www\.)\S+"
    r"|(?-u:\b)[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|net|org|kr|io|me|ly|gl|tv|be)"
    r"(?-u:\b)(?:/\S*)?"
)
"""Links with a scheme or www., and bare domains with a common top-level domain (naver.com,
bit.ly/x, open.kakao.com/o/x)."""
MESSENGER = (
    r"(?i)open\.kakao\.com|(?-u:\b)t\.me/"
    r"|(?:카톡|카카오톡|텔레그램|텔레|라인|kakao|telegram|line)\s*(?:id|아이디)?\s*[:：]\s*"
    r"[a-z0-9_.-]{3,}"
)
"""Messenger contacts as advertisers leave them: open-chat and t.me links, 카톡 ID: name."""


@register
@dataclass
class ShortText(Step):
    """Drop short rows with no words, one repeated character, a placeholder, or a contact.

    Reasons, the first that holds: `empty` (only whitespace); `placeholder` (the stripped
    text is one of `placeholders`); `link_only` (a link and fewer than `min_letters` letters
    beside it); `repeated_char` (one character repeated, spaces aside: ㅋㅋㅋㅋ, !!!!!,
    하하하); `jamo_only` (no letters but standalone jamo: ㅋㅋㅎㅎ, ㅠㅠ); `no_letters` (digits,
    punctuation or emoji only); `too_short` (fewer than `min_letters` letters); `repetitive`
    (more than `max_run_share` of the characters stand in runs of `min_run` or more of one
    character); `contact` (a phone number or messenger ID). Columns: `short_text_chars`
    (non-space characters), `short_text_letters` (letters outside links, jamo aside),
    `short_text_jamo`, `short_text_distinct` (distinct non-space characters),
    `short_text_run_share`, `short_text_links`, `short_text_contacts`,
    `short_text_placeholder`.
    """

    name: ClassVar[str] = "short_text"
    prefix: ClassVar[str] = "short_text_"
    min_letters: int = field(
        default=2,
        metadata={
            "help": "Fewest letters (jamo and links aside) a row needs; 0 turns the "
            "letter rules (link_only, jamo_only, no_letters, too_short) off."
        },
    )
    max_run_share: float = field(
        default=0.8,
        metadata={
            **bounds(0, 1),
            "help": "Most of a row's non-space characters that may stand in runs of one "
            "character (ㅋㅋㅋㅋ, !!!!!); 1 turns the rule off.",
        },
    )
    min_run: int = field(
        default=3,
        metadata={**bounds(2, None), "help": "Shortest run of one character that counts."},
    )
    placeholders: list[str] = field(
        default_factory=list,
        metadata={"help": "Texts a platform puts in place of a removed comment, matched whole."},
    )
    reject_contacts: bool = field(
        default=True,
        metadata={"help": "Drop rows with a phone number or messenger ID (advertising)."},
    )

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Count characters, letters, jamo, runs, links and contacts of every row."""
        text = df.get_column("text").fill_null("").str.normalize("NFC")
        bare = text.str.replace_all(URL, " ")
        stripped = text.str.strip_chars()
        contacts = bare.str.count_matches(PHONE) + bare.str.count_matches(KR_SERVICE)
        counts = pl.DataFrame(
            {
                self.col("letters"): bare.str.count_matches(LETTER).cast(pl.Int64),
                self.col("jamo"): text.str.count_matches(JAMO).cast(pl.Int64),
                self.col("links"): text.str.count_matches(URL).cast(pl.Int64),
                self.col("contacts"): (contacts + text.str.count_matches(MESSENGER)).cast(pl.Int64),
                self.col("placeholder"): stripped.is_in(self.placeholders),
            }
        )
        return pl.concat([df, self._runs(text), counts], how="horizontal")

    def _runs(self, text: pl.Series) -> pl.DataFrame:
        """Non-space characters, distinct ones and the share in long runs, per row."""
        rows = pl.DataFrame({"__i": pl.int_range(text.len(), eager=True)})
        chars = (
            pl.DataFrame({"__i": rows["__i"], "__c": text.str.split("")})
            .explode("__c")
            .filter(pl.col("__c").str.contains(r"^\S$").fill_null(False))
            .with_columns(pl.struct("__i", "__c").rle_id().alias("__run"))
        )
        runs = chars.group_by("__run").agg(pl.col("__i").first(), pl.len().alias("__n"))
        per_row = runs.group_by("__i").agg(
            pl.col("__n").sum().alias(self.col("chars")),
            pl.col("__n").filter(pl.col("__n") >= self.min_run).sum().alias("__in_runs"),
        )
        distinct = chars.group_by("__i").agg(pl.col("__c").n_unique().alias(self.col("distinct")))
        joined = rows.join(per_row, on="__i", how="left").join(distinct, on="__i", how="left")
        n = pl.col(self.col("chars")).fill_null(0).cast(pl.Int64)
        share = pl.when(n > 0).then(pl.col("__in_runs") / n).otherwise(0.0)
        return joined.sort("__i").select(
            n.alias(self.col("chars")),
            pl.col(self.col("distinct")).fill_null(0).cast(pl.Int64),
            share.cast(pl.Float64).alias(self.col("run_share")),
        )

    def rules(self) -> tuple[Rule, ...]:
        """The two thresholds; too few letters also decides the other letter rules."""
        return (
            Rule(self.col("letters"), "<", self.min_letters, "too_short"),
            Rule(self.col("run_share"), ">", self.max_run_share, "repetitive"),
        )

    def reason(self) -> pl.Expr:
        """The first rule a row breaks, in the order of the class docstring."""
        too_short, repetitive = self.rules()
        chars, letters = pl.col(self.col("chars")), pl.col(self.col("letters"))
        few = too_short.expr()
        return first_reason(
            (chars == 0, "empty"),
            (pl.col(self.col("placeholder")), "placeholder"),
            ((pl.col(self.col("links")) > 0) & few, "link_only"),
            ((pl.col(self.col("distinct")) == 1) & (chars > 1), "repeated_char"),
            ((letters == 0) & (pl.col(self.col("jamo")) > 0) & few, "jamo_only"),
            ((letters == 0) & few, "no_letters"),
            too_short,
            repetitive,
            ((pl.col(self.col("contacts")) > 0) & self.reject_contacts, "contact"),
        )
