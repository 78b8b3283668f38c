"""The pii step: each kind found and redacted, near misses left alone, counts and the reason."""

import polars as pl
import pytest

from winnow.curate.steps import build_step
from winnow.curate.steps.pii import Pii, luhn_valid, rrn_valid
from winnow.errors import WinnowError

PARAGRAPH = (
    "안녕하세요, 고객지원팀 김민수입니다. 문의는 minsu.kim@example.co.kr 또는 "
    "support+kr@help-desk.example.com으로 보내 주세요. 급한 경우 010-1234-5678로 전화하시거나 "
    "해외에서는 +82 10 9876 5432, 미국 지사는 (555) 123-4567 (toll free 1-800-555-0199)입니다. "
    "결제 카드 4111 1111 1111 1111는 승인되었고, 4111-1111-1111-1112는 오류입니다. "
    "주민등록번호 900101-1234567은 저장하지 않습니다. Our server at 172.217.3.110 and "
    "2606:4700:4700::1111 logged the request; the office router 192.168.0.1 did not. "
    "Release 1.2.3.4 shipped on 2023-10-15 (build 10.0.19041.1), priced at $1,299."
)

REDACTED = (
    "안녕하세요, 고객지원팀 김민수입니다. 문의는 <EMAIL> 또는 "
    "<EMAIL>으로 보내 주세요. 급한 경우 <PHONE>로 전화하시거나 "
    "해외에서는 <PHONE>, 미국 지사는 <PHONE> (toll free <PHONE>)입니다. "
    "결제 카드 <CREDIT_CARD>는 승인되었고, 4111-1111-1111-1112는 오류입니다. "
    "주민등록번호 <KR_RRN>은 저장하지 않습니다. Our server at <IP_ADDRESS> and "
    "<IP_ADDRESS> logged the request; the office router 192.168.0.1 did not. "
    "Release 1.2.3.4 shipped on 2023-10-15 (build 10.0.19041.1), priced at $1,299."
)

COUNTS = {
    "pii_email_count": 2,
    "pii_kr_rrn_count": 1,
    "pii_credit_card_count": 1,
    "pii_ip_address_count": 2,
    "pii_phone_count": 4,
}


def frame(*texts: str | None) -> pl.DataFrame:
    return pl.DataFrame({"id": [str(i) for i in range(len(texts))], "text": list(texts)})


def test_mixed_korean_english_paragraph() -> None:
    step = Pii()
    out = step.score(frame(PARAGRAPH, None))
    assert out["text"].to_list() == [REDACTED, None]
    assert out.columns == ["id", "text", *COUNTS]
    row, empty = out.to_dicts()
    assert {k: row[k] for k in COUNTS} == COUNTS
    assert {k: empty[k] for k in COUNTS} == dict.fromkeys(COUNTS, 0)
    assert out.with_columns(r=step.reason())["r"].to_list() == [None, None]


def test_count_without_redacting_and_too_much_pii() -> None:
    step = Pii(redact=False, max_matches=9)
    out = step.score(frame(PARAGRAPH, "no personal data here"))
    assert out["text"].to_list() == [PARAGRAPH, "no personal data here"]
    assert out.row(0, named=True)["pii_phone_count"] == 4
    assert out.select(step.reason()).to_series().to_list() == ["too_much_pii", None]
    assert out.select(Pii(max_matches=10).reason()).to_series().to_list() == [None, None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("전화 010 1234 5678, 01012345678", "전화 <PHONE>, <PHONE>"),
        ("서울 02-123-4567, 경기 (031) 123-4567", "서울 <PHONE>, 경기 <PHONE>"),
        ("+44 20 7946 0958 or 555.123.4567", "<PHONE> or <PHONE>"),
        (
            "dates 2023-10-15 and 1999-2000, pi 3.14, +1 2",
            "dates 2023-10-15 and 1999-2000, pi 3.14, +1 2",
        ),
        ("card 4111111111111111!", "card <CREDIT_CARD>!"),
        ("zeros 0000 0000 0000 0000", "zeros 0000 0000 0000 0000"),
        (
            "rrn 050505-3123456 bad 901301-1234567 900230-2234567 900101-5234567",
            "rrn <KR_RRN> bad 901301-1234567 900230-2234567 900101-5234567",
        ),
        (
            "ips 8.8.4.40 127.0.0.1 256.1.1.1 fe80::1 12:30:45 std::vector",
            "ips <IP_ADDRESS> 127.0.0.1 256.1.1.1 fe80::1 12:30:45 std::vector",
        ),
        ("mail a.b@c.io.", "mail <EMAIL>."),
    ],
)
def test_single_rules(text: str, expected: str) -> None:
    assert Pii().score(frame(text))["text"].to_list() == [expected]


def test_kinds_replacements_and_private_ips() -> None:
    step = Pii(
        kinds=["email", "ip_address"], replacements={"email": "[$mail]"}, public_ips_only=False
    )
    out = step.score(frame("x@y.org 010-1234-5678 192.168.0.1"))
    assert out.columns == ["id", "text", "pii_email_count", "pii_ip_address_count"]
    assert out["text"].to_list() == ["[$mail] 010-1234-5678 <IP_ADDRESS>"]


def test_validators() -> None:
    assert luhn_valid("4111 1111 1111 1111") and not luhn_valid("4111 1111 1111 1112")
    assert luhn_valid("378282246310005")  # a 15-digit Amex test number
    assert rrn_valid("000229-3123456", checksum=False)  # 2000 was a leap year
    assert not rrn_valid("010229-3123456", checksum=False)
    assert rrn_valid("900101-1234568", checksum=True)
    assert not rrn_valid("900101-1234567", checksum=True)


def test_bad_parameters() -> None:
    with pytest.raises(WinnowError, match="unknown PII kind 'ssn'"):
        build_step({"step": "pii", "kinds": ["email", "ssn"]}, "recipe.yaml")
    with pytest.raises(WinnowError, match="'max_matches' is -1, but it must be 0 or more"):
        build_step({"step": "pii", "max_matches": -1}, "recipe.yaml")


def test_a_match_in_one_row_is_not_replaced_in_another() -> None:
    """Issue 18: row A's phone, card and IP appear in row B inside longer numbers, where the
    patterns do not match them; only A is redacted, and B comes out exactly as it went in."""
    row_a = "Call 555-123-4567, card 4111 1111 1111 1111, host 8.8.4.40."
    row_b = "Part 1555-123-45678, serial 94111 1111 1111 11115, version 18.8.4.401."
    out = Pii().score(frame(row_a, row_b))
    assert out["text"].to_list() == [
        "Call <PHONE>, card <CREDIT_CARD>, host <IP_ADDRESS>.",
        row_b,
    ]
    assert out["pii_phone_count"].to_list() == [1, 0]
    assert out["pii_credit_card_count"].to_list() == [1, 0]
    assert out["pii_ip_address_count"].to_list() == [1, 0]


def test_the_same_string_in_and_out_of_context_within_one_row() -> None:
    """A row redacts its match where the pattern matched it, and not where it did not."""
    text = "Call 555-123-4567 (order 1555-123-45678)."
    out = Pii().score(frame(text, "555-123-4567"))
    assert out["text"].to_list() == ["Call <PHONE> (order 1555-123-45678).", "<PHONE>"]


def test_marker_characters_in_the_text_stay() -> None:
    """The markers used to delimit matches are chosen to be absent from the shard."""
    text = "\ufdd0\ufdd1 call 555-123-4567 \ufdd0x\ufdd1"
    out = Pii().score(frame(text))
    assert out["text"].to_list() == ["\ufdd0\ufdd1 call <PHONE> \ufdd0x\ufdd1"]
