"""Unfilled template markers in instruction rows: `{{name}}`, `<noinput>`, "[Insert ...]", and
the Alpaca/KoAlpaca prompt headings ("### Response:", "### 응답:") a generator echoed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import polars as pl

from winnow.curate.steps.base import Step, first_reason, register
from winnow.curate.steps.instruct.fields import (
    check_fields,
    require_columns,
    text_field,
    without_code,
)
from winnow.errors import WinnowError

# Searched case-insensitively after code blocks and inline code are removed. A lone {word}
# needs 3+ ASCII identifier characters, or 2+ Hangul syllables ({이름}, {회사 이름}), at the
# start or after a space, quote or bracket (Python format), which leaves LaTeX (\frac{a}{b},
# x^{2}, \text{거리}) and one- or two-letter set braces alone.
SINGLE_BRACE = (
    r"(?i)(?:^|[\s(\[\"'])(\{(?:[A-Za-z_][A-Za-z0-9_]{2,}|[가-힣][가-힣0-9_ ]{0,20}[가-힣])\})"
)
# Korean slots name the action last: "[링크 삽입]", "[이름을 입력하세요]", "[여기에 주소]"; a
# bare "[입력]" or "[삽입]" is a key or menu name, so the slot must say what goes in it.
MARKERS = (
    r"(?i)\{\{\s*[\p{L}_][\p{L}\p{N}_.]*\s*\}\}"
    r"|<\s*no\s*(?:input|output)\s*>"
    r"|\[(?:insert|enter|add|fill\s+in)\b[^\]\n]{0,60}\]"
    r"|lorem\s+ipsum"
    r"|\[[^\[\]\n]{1,40}(?:삽입|기입)\]"
    r"|\[[^\[\]\n]{1,40}(?:입력|작성)\s*(?:하세요|하십시오|해\s*주세요)\]"
    r"|\[여기에[^\]\n]{0,40}\]"
)
# A prompt-template heading at a line start: Alpaca's "### Instruction:", "### Response:" and
# KoAlpaca's "### Instruction(명령어):", "### 응답:", "### 질문:", "### 답변:", "### 맥락:". A
# markdown heading such as "### 응답 시간 줄이기" has no colon after the name, so it passes.
HEADING = (
    r"(?im)^[ \t]*#{2,}[ \t]*(?:instruction|input|response|명령어|입력|응답|질문|답변|맥락)"
    r"[ \t]*(?:\([^)\n]{0,20}\))?[ \t]*:"
)
# An answer that opens with a Korean template label ("답변: 네, 맞습니다"); searched in the
# output only, since an answer may list Q&A examples ("질문: ...") after its first line.
ANSWER_LABEL = r"^\s*((?:질문|답변|응답|명령어|입력)\s*:)"
# Letter and e-mail answers leave these for the reader to fill; flagged only on request.
LETTER = (
    r"(?i)\[(?:your|recipient'?s?|company|last|first|full)\b[^\]\n]{0,40}\]|\[name\]"
    r"|\[(?:이름|성함|(?:귀하|당신)의\s*이름|회사\s*이름|회사명|(?:받는|보내는)\s*사람|수신자|발신자"
    r"|날짜|주소|연락처|전화번호)\]"
)


@register
@dataclass
class TemplateLeftovers(Step):
    """Drop rows where an unfilled template marker survives in the instruction or answer.

    Code blocks (``` fences) and inline `code` spans are removed first, since code answers
    legitimately hold braces; what remains is searched for `{{word}}`, a lone `{word}` of 3 or
    more ASCII identifier characters or 2 or more Hangul syllables after a space, quote or
    bracket (so LaTeX `\\frac{a}{b}`, `x^{2}` and `\\text{거리}` pass), `<noinput>`,
    `[Insert ...]`, `[Add ...]`, `[Enter ...]`, `[Fill in ...]`, "lorem ipsum", Korean slots
    (`[링크 삽입]`, `[이름을 입력하세요]`, `[여기에 ...]`; a bare `[입력]` key passes), and
    prompt-template headings at a line start (`### Instruction:`, `### Response:`, KoAlpaca's
    `### Instruction(명령어):`, `### 응답:`, `### 질문:`, `### 답변:`); an output is also
    flagged when it opens with a Korean label (`답변:`, `응답:`, `질문:`). With
    `letter_blanks`, also `[Your Name]`, `[Company Name]`, `[Recipient's Name]`, `[Name]` and
    the Korean `[이름]`, `[회사명]`, `[날짜]`..., which letter and e-mail answers legitimately
    leave for the reader (LIMA keeps twenty such answers), so they are off by default.
    Column: `template_leftovers_match` (the first marker found, in field order).
    Reason: `template_leftover`.
    """

    name: ClassVar[str] = "template_leftovers"
    prefix: ClassVar[str] = "template_leftovers_"
    version: ClassVar[int] = 2
    fields: list[str] = field(default_factory=lambda: ["instruction", "input", "output"])
    letter_blanks: bool = False

    def __post_init__(self) -> None:
        """Check the fields at recipe load."""
        check_fields(self.name, self.fields)
        if not isinstance(self.letter_blanks, bool):
            raise WinnowError(
                f"template_leftovers: letter_blanks must be true or false, not "
                f"{self.letter_blanks!r}."
            )

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Find the first marker outside code in each field, in field order."""
        require_columns(self.name, df, self.fields)
        found = []
        for name in self.fields:
            text = without_code(text_field(name))
            found += [
                text.str.extract(f"({MARKERS})", 1),
                text.str.extract(SINGLE_BRACE, 1),
                text.str.extract(f"({HEADING})", 1),
            ]
            if name == "output":
                found.append(text.str.extract(ANSWER_LABEL, 1))
            if self.letter_blanks:
                found.append(text.str.extract(f"({LETTER})", 1))
        return df.with_columns(pl.coalesce(found).alias(self.col("match")))

    def reason(self) -> pl.Expr:
        """Drop rows with a marker."""
        return first_reason((pl.col(self.col("match")).is_not_null(), "template_leftover"))
