"""Korean resident registration numbers (주민등록번호, RRN) and business registration numbers (사업자등록번호, BRN).

RRN: ``YYMMDD-GSSSSSC``. ``G`` gives sex and century (1/2: 1900s, 3/4: 2000s, 5–8: foreign residents; 9/0, the 1800s,
are rejected). Numbers
issued since October 2020 have random digits after ``G``, so the historic mod-11 check digit cannot be required: a
valid birth date plus ``G`` is the test, and a passing checksum only adds confidence. Without the dash a 13-digit run
needs the checksum or a context word.

BRN: ``XXX-XX-XXXXX``, format rules from ``stdnum.kr.brn`` plus the National Tax Service check digit.
"""

from __future__ import annotations

import datetime
from typing import Callable

from mcpguard.detect.base import mentions

# python-stdnum is imported on first use (its util module costs ~50 ms at start-up).

# 9/0 (born in the 1800s) are left out on purpose: nobody holding one is alive, and 13-digit barcodes (EAN "880…")
# would otherwise pass as RRNs.
_CENTURY = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000}
RRN_CONTEXT = ("주민", "rrn", "resident", "registration", "jumin", "외국인등록")
BRN_CONTEXT = ("사업자", "business", "brn", "tax id", "법인", "business_no", "biz")


def rrn_date_ok(d: str, today: datetime.date | None = None) -> bool:
    """True when the 13 digits ``d`` start with a real birth date for the century its 7th digit encodes."""
    century = _CENTURY.get(d[6])
    if century is None:
        return False
    try:
        born = datetime.date(century + int(d[:2]), int(d[2:4]), int(d[4:6]))
    except ValueError:
        return False
    return born <= (today or datetime.date.today())


def ean13_ok(d: str) -> bool:
    """GS1 EAN-13 check digit (weights 1, 3 alternating over the first 12 digits)."""
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(d[:12]))
    return (10 - total % 10) % 10 == int(d[12])


def rrn_checksum_ok(d: str) -> bool:
    """The pre-2020 mod-11 check digit (``stdnum.kr.rrn``)."""
    from stdnum.kr import rrn as _rrn

    return d[-1] == _rrn.calc_check_digit(d[:-1])


def rrn_confidence(d: str, groups: tuple[int, ...], context: Callable[[], str]) -> float | None:
    """Confidence that ``d`` (13 digits, grouped as ``groups``) is an RRN; ``context()`` returns the preceding text."""
    if len(d) != 13 or groups not in ((6, 7), (13,)) or not rrn_date_ok(d):
        return None
    checksum = rrn_checksum_ok(d)
    has_context = mentions(context(), RRN_CONTEXT)
    if groups == (6, 7):
        return 0.97 if checksum or has_context else 0.9
    if groups == (13,):
        if has_context:
            return 0.9
        # A contiguous run that is also a valid EAN-13 (GS1 check digit) is more likely a barcode: Korea's GS1
        # prefix 880 reads as a 1988 birth date.
        # Likewise a millisecond Unix timestamp (2011-2036) reads as a 2011-2021 birth date.
        if not checksum or ean13_ok(d) or 1_300_000_000_000 <= int(d) < 2_100_000_000_000:
            return 0.45
        return 0.8
    return None


_BRN_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


def brn_checksum_ok(d: str) -> bool:
    """The National Tax Service check digit of a 10-digit BRN: weights 1,3,7,1,3,7,1,3,5 over the first nine digits,
    plus ``(9th digit × 5) // 10``; the check digit is ``(10 - sum % 10) % 10``. (``stdnum.kr.brn`` checks only the
    format, so the digit is verified here.)"""
    total = sum(int(c) * w for c, w in zip(d, _BRN_WEIGHTS)) + int(d[8]) * 5 // 10
    return (10 - total % 10) % 10 == int(d[9])


def brn_confidence(d: str, groups: tuple[int, ...], context: Callable[[], str]) -> float | None:
    """Confidence that ``d`` (10 digits) is a BRN; a contiguous run needs a context word."""
    if len(d) != 10 or groups not in ((3, 2, 5), (10,)):
        return None
    if groups == (10,) and not mentions(context(), BRN_CONTEXT):
        return None
    from stdnum.kr import brn as _brn

    if not _brn.is_valid(d) or not brn_checksum_ok(d):
        return None
    return 0.9 if groups == (3, 2, 5) else 0.85


__all__ = ["brn_confidence", "rrn_checksum_ok", "rrn_confidence", "rrn_date_ok"]
