"""PII detection and redaction: count personal data per kind, replace it with a marker per kind."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import ClassVar

import polars as pl

from winnow.curate.steps.base import Step, bounds, first_reason, register

# Polars uses Rust's regex engine: no look-around, so an ASCII word boundary (?-u:\b) marks
# where a number or address may start and end; it also holds next to Hangul ("...5678로").
B = r"(?-u:\b)"

EMAIL = (
    B
    + r"[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
    + B
)
# YYMMDD, then "-", a space or nothing, then G (1-8: sex and century, 5-8 foreigners) and six.
KR_RRN = B + r"[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[- ]?[1-8][0-9]{6}" + B
# 사업자등록번호 NNN-NN-NNNNN: tax office 101-999, type 01-99, serial and check digit.
KR_BRN = B + r"[1-9][0-9]{2}-(?:0[1-9]|[1-9][0-9])-[0-9]{5}" + B
CREDIT_CARD = B + r"[2-6][0-9](?:[ -]?[0-9]){11,17}" + B
IPV4 = B + r"[0-9]+(?:\.[0-9]+){3,}" + B
IPV6 = r"(?i)" + B + r"[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){1,6}:[0-9a-f]{1,4}" + B
# Korean area codes: 02 Seoul; 031-033, 041-044, 051-055, 061-064; 070 internet phones.
KR_AREA = r"(?:2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70)"
PHONE = "|".join(
    [
        # international: +CC then two to six groups, e.g. +82 10 1234 5678, +82-2-123-4567,
        # +82 (0)10-1234-5678, +821012345678, +1 (555) 123-4567
        r"\+[1-9][0-9]{0,2}(?:[ .-]?(?:\([0-9]{1,4}\)|[0-9]{1,4})){2,6}" + B,
        # Korean mobile, separated by "-", " ", "." or nothing: 010 takes a four-digit middle
        # (010-1234-5678, 01012345678), 011 and 016-019 three or four (011-123-4567)
        B + r"01(?:0[ .-]?[0-9]{4}|[16789][ .-]?[0-9]{3,4})[ .-]?[0-9]{4}" + B,
        # Korean landline, always separated: 02-123-4567, (031) 1234-5678, 070-1234-5678
        r"(?:\(0" + KR_AREA + r"\)[ .-]?|" + B + "0" + KR_AREA + r"[ .-])"
        r"[0-9]{3,4}[ .-][0-9]{4}" + B,
        # North American: (555) 123-4567, 555-123-4567, 1-800-555-1234
        r"(?:" + B + r"1[ .-])?(?:\([2-9][0-9]{2}\) ?|" + B + r"[2-9][0-9]{2}[ .-]?)"
        r"[0-9]{3}[ .-][0-9]{4}" + B,
    ]
)
# Korean nationwide service numbers, 15XX/16XX/18XX and four digits, only with a hyphen.
KR_SERVICE = B + r"1[568][0-9]{2}-[0-9]{4}" + B

# Each kind runs in this order on the text left by the kinds before it, so a card number is
# never also counted as a phone number, and an e-mail's digits never as anything else.
ORDER = ("email", "kr_rrn", "kr_brn", "credit_card", "ip_address", "phone")
REPLACEMENTS = {
    "email": "<EMAIL>",
    "phone": "<PHONE>",
    "ip_address": "<IP_ADDRESS>",
    "credit_card": "<CREDIT_CARD>",
    "kr_rrn": "<KR_RRN>",
    "kr_brn": "<KR_BRN>",
}


def digits_of(candidate: str) -> list[int]:
    """The ASCII digits of a candidate, in order."""
    return [int(c) for c in candidate if "0" <= c <= "9"]


# Issuer prefixes (inclusive ranges over the leading digits) and the lengths each issues:
# Visa, Mastercard, American Express, Diners Club, Discover, UnionPay, JCB.
CARD_ISSUERS = (
    ((4, 4), (13, 16, 19)),
    ((51, 55), (16,)),
    ((2221, 2720), (16,)),
    ((34, 34), (15,)),
    ((37, 37), (15,)),
    ((300, 305), (14, 15, 16, 17, 18, 19)),
    ((36, 36), (14, 15, 16, 17, 18, 19)),
    ((38, 39), (16, 17, 18, 19)),
    ((6011, 6011), (16, 17, 18, 19)),
    ((644, 649), (16, 17, 18, 19)),
    ((65, 65), (16, 17, 18, 19)),
    ((62, 62), (16, 17, 18, 19)),
    ((3528, 3589), (16, 17, 18, 19)),
)


def issuer_known(number: str) -> bool:
    """Whether a card number has a known issuer prefix and that issuer's length."""
    for (low, high), lengths in CARD_ISSUERS:
        prefix = int(number[: len(str(low))])
        if low <= prefix <= high and len(number) in lengths:
            return True
    return False


def luhn_valid(candidate: str) -> bool:
    """Whether a card number has a known issuer prefix and length and passes the Luhn check.

    The issuer check keeps long numeric ids that pass Luhn by chance (one in ten) unredacted.
    """
    digits = digits_of(candidate)
    if not issuer_known("".join(map(str, digits))):
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def rrn_valid(candidate: str, checksum: bool) -> bool:
    """Whether YYMMDD-GNNNNNN is a real birth date and, where it must, has its check digit.

    G gives the century: 1, 2 (citizens) and 5, 6 (foreigners) the 1900s; 3, 4, 7, 8 the
    2000s. The check digit is (11 - s % 11) % 10 for citizens and (13 - s % 11) % 10 for
    foreigners, s the sum of the first twelve digits weighted 2-9, 2-5. Numbers issued since
    October 2020 carry random digits instead, so a number written with a hyphen (the way
    people write it) needs only the date and G; one written with a space or as 13 bare digits,
    which an order or account number also may be, needs the check digit too, as every form
    does with `checksum`.
    """
    digits = digits_of(candidate)
    gender = digits[6]
    year = (1900 if gender in (1, 2, 5, 6) else 2000) + digits[0] * 10 + digits[1]
    try:
        datetime.date(year, digits[2] * 10 + digits[3], digits[4] * 10 + digits[5])
    except ValueError:
        return False
    if candidate[6] == "-" and not checksum:
        return True
    total = sum(d * w for d, w in zip(digits, RRN_WEIGHTS, strict=False))
    return ((11 if gender < 5 else 13) - total % 11) % 10 == digits[12]


def brn_valid(candidate: str) -> bool:
    """Whether NNN-NN-NNNNN has the check digit of a business registration number.

    s = the first nine digits weighted 1,3,7,1,3,7,1,3,5, plus the ninth digit times 5 over
    10 (rounded down); the tenth digit is (10 - s % 10) % 10.
    """
    digits = digits_of(candidate)
    total = sum(d * w for d, w in zip(digits, (1, 3, 7, 1, 3, 7, 1, 3, 5), strict=False))
    total += digits[8] * 5 // 10
    return (10 - total % 10) % 10 == digits[9]


def ip_valid(candidate: str, public_only: bool) -> bool:
    """Whether a candidate parses as an IP address, and is global when `public_only`.

    Like datatrove's PIIFormatter, dotted quads of single digits (1.2.3.4) are taken for
    version numbers and left alone; private, loopback and documentation ranges hold no
    personal data, so `public_only` keeps them.
    """
    parts = candidate.split(".")
    if len(parts) == 4 and all(len(p) == 1 for p in parts):
        return False
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return address.is_global or not public_only


def phone_valid(candidate: str) -> bool:
    """Whether a candidate has as many digits as a real phone number (9 to 15, per E.164)."""
    return 9 <= len(digits_of(candidate)) <= 15


def service_valid(candidate: str) -> bool:
    """Whether 1588-1234 is a service number rather than a range of years like 1592-1598."""
    first, second = (int(part) for part in candidate.split("-"))
    return not first < second <= first + 100


def replacement(text: str) -> str:
    """A literal replacement for Polars' regex replace, where '$' starts a group reference."""
    return text.replace("$", "$$")


@register
@dataclass
class Pii(Step):
    """Count e-mails, phones, IPs, cards, Korean RRNs and business numbers; redact them.

    Kinds: `email`, `phone` (international +CC, Korean mobile 010/011/016-019, landline with a
    real area code or 070, 15XX/16XX/18XX service numbers, North American),
    `ip_address` (IPv4 and IPv6; with `public_ips_only` only global addresses count),
    `credit_card` (13-19 digits, spaces or dashes, a known issuer's prefix and length,
    Luhn-valid), `kr_rrn` (YYMMDD-GNNNNNN, G 1-8, a real date; the check digit is required
    without a hyphen, and always with `kr_rrn_checksum`), `kr_brn` (NNN-NN-NNNNN with its
    check digit).
    Regexes find candidates; kinds that need a check (all but e-mail) test each distinct
    candidate of the shard once in Python, then each row's own matches (and nothing else) are
    replaced: a number valid in one row stays as it is in a row where it is part of something
    longer. Invalid candidates are never partly redacted.
    Columns: `pii_<kind>_count` for each kind. Reason: `too_much_pii`.
    """

    name: ClassVar[str] = "pii"
    prefix: ClassVar[str] = "pii_"
    version: ClassVar[int] = 3
    """3: Korean detection (RRN forms and foreigners, business numbers, area codes, service
    numbers); 2: replaced per row, only where the pattern matched (1: a match everywhere)."""
    kinds: list[str] = field(default_factory=lambda: list(ORDER))
    redact: bool = True
    max_matches: int | None = field(default=None, metadata=bounds(0, None))
    replacements: dict[str, str] = field(default_factory=dict)
    public_ips_only: bool = True
    kr_rrn_checksum: bool = False

    def __post_init__(self) -> None:
        """Reject unknown kinds and replacements for kinds that do not exist."""
        known = ", ".join(ORDER)
        if isinstance(self.kinds, str) or not self.kinds:
            raise ValueError(f"kinds must be a non-empty list drawn from: {known}")
        for kind in [*self.kinds, *self.replacements]:
            if kind not in REPLACEMENTS:
                raise ValueError(f"unknown PII kind '{kind}'; use any of: {known}")

    def checks(self, kind: str) -> list[tuple[str, Callable[[str], bool] | None]]:
        """The (candidate regex, validity check) pairs that find one kind."""
        if kind == "email":
            return [(EMAIL, None)]
        if kind == "kr_rrn":
            return [(KR_RRN, partial(rrn_valid, checksum=self.kr_rrn_checksum))]
        if kind == "kr_brn":
            return [(KR_BRN, brn_valid)]
        if kind == "credit_card":
            return [(CREDIT_CARD, luhn_valid)]
        if kind == "ip_address":
            check = partial(ip_valid, public_only=self.public_ips_only)
            return [(IPV6, check), (IPV4, check)]
        return [(PHONE, phone_valid), (KR_SERVICE, service_valid)]

    def score(self, df: pl.DataFrame) -> pl.DataFrame:
        """Add `pii_<kind>_count` columns and, with `redact`, the redacted `text`."""
        replacements = {**REPLACEMENTS, **self.replacements}
        work = df.get_column("text")
        counts = []
        for kind in ORDER:
            if kind not in self.kinds:
                continue
            total = pl.Series(self.col(f"{kind}_count"), [0] * df.height, dtype=pl.Int64)
            for pattern, check in self.checks(kind):
                found, work = find_and_replace(work, pattern, check, replacements[kind])
                total = total + found.fill_null(0).cast(pl.Int64)
            counts.append(total.alias(self.col(f"{kind}_count")))
        if self.redact:
            return df.with_columns(work.alias("text"), *counts)
        return df.with_columns(*counts)

    def reason(self) -> pl.Expr:
        """Drop rows with more PII matches, of all kinds together, than `max_matches`."""
        if self.max_matches is None:
            return first_reason()
        total = pl.sum_horizontal(pl.col(self.col(f"{k}_count")) for k in ORDER if k in self.kinds)
        return first_reason((total > self.max_matches, "too_much_pii"))


def find_and_replace(
    text: pl.Series, pattern: str, check: Callable[[str], bool] | None, replacement_text: str
) -> tuple[pl.Series, pl.Series]:
    """Count the valid matches of `pattern` per row and replace them with `replacement_text`.

    Only what the pattern matched in a row is replaced in that row: a string that is a valid
    match in one row is left alone in another where the pattern does not match it (inside a
    longer number, say). Every match is first wrapped in marker characters by one regex pass,
    so the Aho-Corasick pass that maps each distinct candidate to its replacement (or to
    itself, when its check fails) can only hit text the regex matched, in its context.
    """
    if check is None:
        return text.str.count_matches(pattern), text.str.replace_all(
            pattern, replacement(replacement_text)
        )
    found = text.str.extract_all(pattern)
    candidates = found.explode().drop_nulls().unique().to_list()
    valid = [c for c in candidates if check(c)]
    if not valid:
        return pl.Series([0] * len(text), dtype=pl.Int64), text
    valid_set = pl.Series(valid, dtype=pl.Utf8)
    counts = found.list.eval(pl.element().is_in(pl.lit(valid_set).implode())).list.sum()
    rows = counts.fill_null(0).gt(0).arg_true()
    some = text.gather(rows)
    start, end = markers(some)
    wrapped = some.str.replace_all(pattern, f"{start}${{0}}{end}")
    good = set(valid)
    mapping = {f"{start}{c}{end}": replacement_text if c in good else c for c in candidates}
    return counts, text.scatter(rows, wrapped.str.replace_many(mapping))


def markers(text: pl.Series) -> tuple[str, str]:
    """Two marker strings that occur nowhere in `text`: Unicode noncharacters, which no
    candidate (ASCII digits, letters and separators) contains, repeated until absent."""
    for times in range(1, 1 + 64):
        start, end = "\ufdd0" * times, "\ufdd1" * times
        present = text.str.contains(start, literal=True) | text.str.contains(end, literal=True)
        if not present.any():
            return start, end
    raise RuntimeError("no marker string is absent from the shard")  # 64 runs of U+FDD0 deep
