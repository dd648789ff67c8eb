"""Korean RRN date/century rules (post-2020 numbers have no checksum) and BRN."""

import datetime

from mcpguard.detect.pii.kr import brn_confidence, rrn_checksum_ok, rrn_confidence, rrn_date_ok

NO_CONTEXT = lambda: ""  # noqa: E731


def test_rrn_dates_and_century_digit():
    assert rrn_date_ok("9001011234568")
    assert rrn_date_ok("0210153987654")  # 2002, G=3
    assert not rrn_date_ok("9002301234567")  # 30 February
    assert not rrn_date_ok("9001019234567")  # 1800s: rejected
    assert not rrn_date_ok("3001013234567", today=datetime.date(2026, 1, 1))  # born 2030: future


def test_rrn_checksum_is_extra_confidence_only():
    assert rrn_checksum_ok("9001011234568") and not rrn_checksum_ok("9001011234567")
    assert rrn_confidence("9001011234567", (6, 7), NO_CONTEXT) == 0.9
    assert rrn_confidence("9001011234568", (6, 7), NO_CONTEXT) == 0.97
    assert rrn_confidence("9001011234567", (13,), NO_CONTEXT) == 0.45
    assert rrn_confidence("9001011234567", (13,), lambda: "주민등록번호") == 0.9


def test_brn():
    assert brn_confidence("1248100998", (3, 2, 5), NO_CONTEXT) == 0.9
    assert brn_confidence("1248100998", (10,), NO_CONTEXT) is None
    assert brn_confidence("1248100998", (10,), lambda: "사업자등록번호") == 0.85
    assert brn_confidence("1248100997", (3, 2, 5), NO_CONTEXT) is None
