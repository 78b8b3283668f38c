"""A labelled set for the pii step: real-looking Korean and English PII, and near misses.

Every positive is one value of one kind inside a sentence; `{}` marks where it goes, so the
expected output is the sentence with that kind's marker. The check digits were computed for
these made-up numbers (none belongs to anyone). Near misses must come out unchanged.
"""

POSITIVES: list[tuple[str, str, str]] = [
    # (kind, value, sentence)
    # 주민등록번호: hyphen (check digit not needed), bare 13 digits and space (check digit needed)
    ("kr_rrn", "850315-1234566", "주민등록번호: {}"),
    ("kr_rrn", "921124-2048175", "본인 확인용 주민번호 {} 입니다."),
    ("kr_rrn", "010709-3123450", "아이 주민번호는 {}이고"),
    ("kr_rrn", "030228-4510239", "({})"),
    ("kr_rrn", "201015-3987654", "2020년 10월 이후 발급: {} (검증번호 없음)"),
    ("kr_rrn", "8805125102736", "외국인등록번호 {}로 조회"),
    ("kr_rrn", "950830-6201145", "외국인 {} 님"),
    ("kr_rrn", "050101-7302200", "외국인등록번호:{}"),
    ("kr_rrn", "1006208401355", "번호={}"),
    ("kr_rrn", "7701011123453", "주민번호 {}"),
    ("kr_rrn", "850315 1234566", "주민번호 {} 확인"),
    # 사업자등록번호
    ("kr_brn", "124-81-00998", "사업자등록번호 {}"),
    ("kr_brn", "220-81-62517", "사업자번호: {} | 대표: 홍길동"),
    ("kr_brn", "105-87-01232", "(사업자 {})"),
    ("kr_brn", "617-81-09870", "등록번호 {}입니다"),
    # mobile
    ("phone", "010-1234-5678", "연락처 {}로 문자 주세요"),
    ("phone", "010 9876 5432", "휴대폰 {}"),
    ("phone", "010.2468.1357", "H.P {}"),
    ("phone", "01055556666", "전화번호:{}"),
    ("phone", "011-234-5678", "옛 번호 {}"),
    ("phone", "016-9123-4567", "{} 으로 연락"),
    ("phone", "019 345 6789", "번호 {}"),
    ("phone", "+82 10-1234-5678", "해외에서는 {}"),
    ("phone", "+82-10-9876-5432", "Call {} from abroad"),
    ("phone", "+821012345678", "WhatsApp {}"),
    ("phone", "+82 (0)10 1234 5678", "Tel {}"),
    # landline, internet phone, service numbers
    ("phone", "02-123-4567", "서울 본사 {}"),
    ("phone", "02-3456-7890", "대표전화 {}"),
    ("phone", "(031) 987-6543", "경기 지사 {}"),
    ("phone", "051-234-5678", "부산 {}"),
    ("phone", "064 712 3456", "제주 {}"),
    ("phone", "044.868.1234", "세종 {}"),
    ("phone", "070-1234-5678", "인터넷전화 {}"),
    ("phone", "+82 2 123 4567", "Seoul office {}"),
    ("phone", "1588-1234", "고객센터 {}"),
    ("phone", "1644-0000", "콜센터({})"),
    ("phone", "1800-5678", "상담 {}"),
    # North American and other international
    ("phone", "(555) 123-4567", "US office {}"),
    ("phone", "+44 20 7946 0958", "London {}"),
    # e-mail
    ("email", "minsu.kim@example.co.kr", "메일 {}로 보내 주세요"),
    ("email", "hong_gildong+news@mail.example.com", "{}으로 회신"),
    ("email", "a.b@c.io", "mail {}."),
    # cards (Luhn and issuer), spaced, hyphenated, bare
    ("credit_card", "4111 1111 1111 1111", "카드번호 {}"),
    ("credit_card", "5361-4820-1937-4653", "결제 카드 {} 승인"),
    ("credit_card", "378282246310005", "Amex {}"),
    ("credit_card", "6011009901394242", "Discover {}"),
    ("credit_card", "3566 0020 2036 0505", "JCB {}"),
    ("credit_card", "4222222222222", "Visa(13) {}"),
    # IP addresses (public ones)
    ("ip_address", "121.134.5.67", "DNS {}"),
    ("ip_address", "211.234.10.5", "접속 IP: {}"),
    ("ip_address", "172.217.3.110", "server {} logged"),
    ("ip_address", "2606:4700:4700::1111", "IPv6 {}"),
    ("ip_address", "2001:4860:4860:0:0:0:0:8888", "IPv6 {} (full)"),
]

NEAR_MISSES: list[str] = [
    # dates and times
    "2023-10-15 12:30:45에 접수되었습니다.",
    "생년월일 1985.03.15, 가입일 20231015",
    "1999-2000 시즌, 2023.10.15.",
    "임진왜란(1592-1598)과 병자호란(1636-1637), 1588-1600년",
    "2023년 10월 15일, 제10조 ①항, 3.1운동",
    # order, account and tracking numbers
    "주문번호 20231015-0001234",
    "주문번호 231015-0012345 (일곱째 자리 0)",
    "송장번호 2310151234567",
    "계좌번호 110-123-456789",
    "회원번호 8503151234567",
    "13자리 7701011123454 (검증번호 불일치)",
    "공백 850315 1234567 (검증번호 불일치)",
    # RRN-shaped with an impossible date or digit
    "901301-1234567",
    "900230-2234567",
    "900101-9234567",
    "010229-3123456",
    # business-number-shaped with a bad check digit or shape
    "124-81-00997",
    "024-81-00998",
    "124-00-00998",
    # phone-like numbers with wrong prefixes or lengths
    "012-3456-7890",
    "015-1234-5678",
    "034-123-4567",
    "020-1234-5678",
    "010-12-5678",
    "0101234567890",
    "15881234",
    "10-1234-5678",
    # cards failing Luhn or issuer, ISBNs
    "4111-1111-1111-1112",
    "0000 0000 0000 0000",
    "1234 5678 9012 3456",
    "ISBN 978-89-7914-063-4",
    "ISBN 89-7914-063-0",
    "9788979140634",
    # version strings and private or invalid addresses
    "Release 1.2.3.4, build 10.0.19041.1, v1.2.10.4",
    "Python 3.11.4 and numpy 1.26.4",
    "router 192.168.0.1, localhost 127.0.0.1, 10.0.0.1",
    "256.1.1.1",
    "fe80::1, std::vector, 12:30:45, 00:1a:2b:3c:4d:5e",
    # prices and quantities
    "가격 1,000,000원, 할인가 ₩990,000",
    "총 12,345,678원 (부가세 1,234,567원)",
    "인구 51,780,579명",
    # almost e-mails
    "user@localhost, @mention, a@b",
]
