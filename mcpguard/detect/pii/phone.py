"""Telephone numbers, validated with ``phonenumbers`` (Google's libphonenumber metadata).

A digit run counts as a phone number only when libphonenumber says the number is valid *and* its writing looks like
a phone number: international ``+CC …``, a national number starting with the trunk prefix ``0`` in the configured
region (``010-1234-5678``, ``02-123-4567``), the North American ``(415) 555-2671`` / ``415-555-2671`` shapes, or a
contiguous run preceded by a context word (``tel``, ``phone``, ``전화``, …). Bare digit runs in prose are not phones.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable


from mcpguard.detect.base import AnchoredRule, ScanContext, Span, mentions
from mcpguard.types import Category

PHONE_CONTEXT = ("tel", "phone", "mobile", "cell", "fax", "call", "called", "calling", "contact", "전화", "휴대", "연락처", "핸드폰", "팩스",
                 "phone_number", "msisdn")
_NANP = {(3, 3, 4)}


# Cheap shape screens run before libphonenumber (a parse costs ~100 µs): Korean national numbers (trunk 0, mobile
# 01x, Seoul 02, area 0[3-6]x, 070/050x/080 services) and NANP (area and exchange codes start with 2-9).
_KR_SHAPE = re.compile(r"0(?:1[016789]\d{7,8}|2\d{7,8}|[3-6][1-5]\d{7,8}|70\d{8}|50\d{8,9}|80\d{7,8})")
_NANP_SHAPE = re.compile(r"1?[2-9]\d\d[2-9]\d{6}")


@lru_cache(maxsize=8192)
def _valid(text: str, region: str | None) -> bool:
    import phonenumbers  # ~40 ms to import: deferred to the first candidate that needs it (wrapper start-up)

    try:
        num = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(num)


def _plausible(digits: str, region: str | None) -> bool:
    if region == "KR":
        return _KR_SHAPE.fullmatch(digits) is not None
    if region == "US":
        return _NANP_SHAPE.fullmatch(digits) is not None
    return True


def phone_confidence(text: str, digits: str, groups: tuple[int, ...], context: Callable[[], str],
                     region: str) -> float | None:
    """Confidence that ``text`` (the candidate as written, possibly with ``+``/parentheses) is a phone number;
    ``context()`` returns the preceding text."""
    n = len(digits)
    if not 7 <= n <= 15:
        return None
    if text.startswith("+"):
        return 0.92 if _valid(text, None) else None
    grouped = len(groups) > 1 or text.startswith("(")
    if digits[0] == "0":
        if not _plausible(digits, region):
            return None
        if grouped or digits.startswith("01") or mentions(context(), PHONE_CONTEXT):
            return (0.9 if grouped else 0.8) if _valid(text, region) else None
        return None
    if n == 10 and (groups in _NANP or text.startswith("(")):
        return 0.85 if _plausible(digits, "US") and _valid(text, "US") else None
    if not mentions(context(), PHONE_CONTEXT):
        return None
    if _plausible(digits, region) and _valid(text, region):
        return 0.8
    if n in (10, 11) and _plausible(digits, "US") and _valid(text, "US"):
        return 0.8
    return None


_DIGITS = re.compile(rb"[0-9]+")


def _labelled(m: re.Match[bytes], ctx: ScanContext):
    """A number glued to its label (``tel:010-1234-5678``, RFC 3966 ``tel:`` URIs, ``phone:01012345678``): the
    numeric pass skips runs right after ``:`` (times, ports), so the label's rule reads them, with the label as
    context."""
    s, e = m.span(1)
    buf = ctx.buf
    if e < len(buf) and buf[e] in b"0123456789":
        return ()
    raw = buf[s:e]
    groups = tuple(len(g) for g in _DIGITS.findall(raw))
    digits = b"".join(_DIGITS.findall(raw)).decode()
    conf = phone_confidence(raw.decode("ascii"), digits, groups, lambda: "tel", ctx.default_region)
    return (Span(s, e, "phone", "phone.labelled", Category.PII, conf),) if conf else ()


RULES = [
    AnchoredRule(
        id="phone.labelled",
        type="phone",
        category=Category.PII,
        pattern=re.compile(
            rb"(?<![A-Za-z])(?:tel|telephone|phone|mobile|cell|fax):(\+?[0-9(][0-9\-. ()]{5,22}[0-9])", re.IGNORECASE
        ),
        caseless_anchors=(b"tel:", b"telephone:", b"phone:", b"mobile:", b"cell:", b"fax:"),
        max_len=40,
        extract=_labelled,
    )
]

__all__ = ["PHONE_CONTEXT", "RULES", "phone_confidence"]
