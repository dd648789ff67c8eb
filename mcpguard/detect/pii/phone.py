"""Telephone numbers, validated with ``phonenumbers`` (Google's libphonenumber metadata).

A digit run counts as a phone number only when libphonenumber says the number is valid *and* its writing looks like
a phone number: international ``+CC …``, a national number starting with the trunk prefix ``0`` in the configured
region (``010-1234-5678``, ``02-123-4567``), the North American ``(415) 555-2671`` / ``415-555-2671`` shapes, or a
contiguous run preceded by a context word (``tel``, ``phone``, ``전화``, …). Bare digit runs in prose are not phones.
"""

from __future__ import annotations

import phonenumbers

PHONE_CONTEXT = ("tel", "phone", "mobile", "cell", "fax", "call", "contact", "전화", "휴대", "연락처", "핸드폰", "팩스")
_NANP = {(3, 3, 4)}


def _valid(text: str, region: str | None) -> bool:
    try:
        num = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(num)


def phone_confidence(text: str, digits: str, groups: tuple[int, ...], context: str, region: str) -> float | None:
    """Confidence that ``text`` (the candidate as written, possibly with ``+``/parentheses) is a phone number."""
    n = len(digits)
    if not 7 <= n <= 15:
        return None
    has_context = any(w in context for w in PHONE_CONTEXT)
    if text.startswith("+"):
        return 0.92 if _valid(text, None) else None
    grouped = len(groups) > 1 or text.startswith("(")
    if digits[0] == "0" and (grouped or has_context or digits.startswith("01")):
        if _valid(text, region):
            return 0.9 if grouped else 0.8
        return None
    if (groups in _NANP or text.startswith("(")) and n == 10 and _valid(text, "US"):
        return 0.85
    if has_context and (_valid(text, region) or (n == 10 and _valid(text, "US"))):
        return 0.8
    return None


__all__ = ["PHONE_CONTEXT", "phone_confidence"]
