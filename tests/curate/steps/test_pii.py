"""The pii step: each kind found and redacted, near misses left alone, counts and the reason."""

import csv
from pathlib import Path

import polars as pl
import pytest

from tests.curate.steps.pii_cases import NEAR_MISSES, POSITIVES
from winnow.curate.steps import build_step
from winnow.curate.steps.pii import ORDER, REPLACEMENTS, Pii, brn_valid, luhn_valid, rrn_valid
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
    "pii_kr_brn_count": 0,
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
            "rrn 050505-3123456 900101-5234567 bad 901301-1234567 900230-2234567 900101-9234567",
            "rrn <KR_RRN> <KR_RRN> bad 901301-1234567 900230-2234567 900101-9234567",
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
    assert rrn_valid("900101-1234567", checksum=False)  # a hyphen: date and G suffice
    assert not rrn_valid("9001011234567", checksum=False)  # bare digits need the check digit
    assert not rrn_valid("900101 1234567", checksum=False)  # and so do spaced ones
    assert rrn_valid("9001011234568", checksum=False)
    assert rrn_valid("8805125102736", checksum=True)  # a foreigner: (13 - s % 11) % 10
    assert not rrn_valid("8805125102735", checksum=True)
    assert brn_valid("124-81-00998") and brn_valid("220-81-62517")
    assert not brn_valid("124-81-00997")


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


def test_labelled_set_precision_and_recall() -> None:
    """Issue 19: every positive of the labelled set found as its kind, and only it, and
    redacted to exactly its marker; no near miss touched or counted."""
    texts = [sentence.format(value) for _, value, sentence in POSITIVES] + NEAR_MISSES
    out = Pii().score(frame(*texts))
    counts = out.select(f"pii_{kind}_count" for kind in ORDER).rows()
    found = [{ORDER[i] for i, n in enumerate(row) if n} for row in counts]  # kinds matched
    true_pos = false_neg = false_pos = 0
    for i, (kind, _, sentence) in enumerate(POSITIVES):
        right = counts[i] == tuple(int(k == kind) for k in ORDER)
        right = right and out["text"][i] == sentence.format(REPLACEMENTS[kind])
        true_pos += right
        false_neg += not right
        false_pos += len(found[i] - {kind})
    for i, text in enumerate(NEAR_MISSES, start=len(POSITIVES)):
        false_pos += sum(counts[i]) + (out["text"][i] != text)
    assert len(POSITIVES) >= 50 and len(NEAR_MISSES) >= 40
    assert {kind for kind, _, _ in POSITIVES} == set(ORDER)
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / (true_pos + false_neg)
    assert (precision, recall) == (1.0, 1.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "홍길동(850315-1234566), 010-1234-5678, hong@example.co.kr로 연락 바랍니다.",
            "홍길동(<KR_RRN>), <PHONE>, <EMAIL>로 연락 바랍니다.",
        ),
        (
            "사업자등록번호 124-81-00998 / 대표전화 1588-1234 / 팩스 02-123-4567",
            "사업자등록번호 <KR_BRN> / 대표전화 <PHONE> / 팩스 <PHONE>",
        ),
        (
            "주민번호 8503151234566 (주문번호 8503151234567), 외국인 950830-6201145",
            "주민번호 <KR_RRN> (주문번호 8503151234567), 외국인 <KR_RRN>",
        ),
        (
            "+82 10-9876-5432 또는 01098765432, 임진왜란 1592-1598, 가격 1,000,000원",
            "<PHONE> 또는 <PHONE>, 임진왜란 1592-1598, 가격 1,000,000원",
        ),
    ],
)
def test_korean_redaction(text: str, expected: str) -> None:
    assert Pii().score(frame(text))["text"].to_list() == [expected]


def test_rrn_checksum_everywhere() -> None:
    """With kr_rrn_checksum a hyphenated number needs its check digit too."""
    out = Pii(kinds=["kr_rrn"], kr_rrn_checksum=True).score(frame("850315-1234566 850315-1234567"))
    assert out["text"].to_list() == ["<KR_RRN> 850315-1234567"]


def test_real_korean_text_without_pii_is_unchanged(shared_data: Path) -> None:
    """The Korean constitution and a sample of ChatbotData have no personal data: no match,
    every text byte for byte as it was (a search for digit runs finds only dates there)."""
    constitution = (shared_data / "korean" / "constitution.txt").read_text(encoding="utf-8")
    with (shared_data / "korean" / "ChatbotData.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[::4]
    texts = [constitution, *constitution.splitlines()]
    texts += [row["Q"] for row in rows] + [row["A"] for row in rows]
    assert len(rows) > 2900
    out = Pii().score(frame(*texts))
    assert out.select(pl.sum_horizontal(pl.col("^pii_.*_count$")).sum()).item() == 0
    assert out["text"].to_list() == texts
