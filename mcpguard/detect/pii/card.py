"""Payment card numbers (PANs): ISO/IEC 7812 issuer prefixes and lengths, Luhn check digit.

Accepted groupings: contiguous, groups of 4 (16/19 digits), 4-6-5 (Amex), 4-6-4 (Diners), with one consistent
separator. A grouped number gets higher confidence than a contiguous one (contiguous digit runs are more often ids).
"""

from __future__ import annotations

from mcpguard.detect.placeholders import TEST_CARDS
from mcpguard.detect.validators import luhn_ok

_GROUPINGS = {(4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4), (4, 4, 4, 4, 2), (4, 4, 4, 3), (4, 4, 4, 1)}


def issuer_ok(d: str) -> bool:
    """True when the PAN ``d`` (digits) has a known issuer prefix and a length that issuer uses."""
    n = len(d)
    p2, p4 = int(d[:2]), int(d[:4])
    if d[0] == "4":
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16
    if p2 in (34, 37):
        return n == 15
    if d.startswith("6011") or 644 <= int(d[:3]) <= 649 or p2 == 65:
        return 16 <= n <= 19
    if p2 == 35:  # JCB (3528-3589) and neighbouring ranges issued by JCB partners
        return 16 <= n <= 19
    if 300 <= int(d[:3]) <= 305 or p2 in (36, 38, 39):
        return 14 <= n <= 19
    if p2 == 62:
        return 16 <= n <= 19
    if p2 == 50 or 56 <= p2 <= 69:  # Maestro: 12-19 digits allowed, 16-19 in practice (shorter runs are ids)
        return 16 <= n <= 19
    return False


def card_confidence(digits: str, groups: tuple[int, ...], flag_placeholders: bool) -> float | None:
    """Confidence that ``digits`` (with digit-group lengths ``groups``) is a card number, or None."""
    if not 12 <= len(digits) <= 19 or not issuer_ok(digits) or not luhn_ok(digits):
        return None
    if not flag_placeholders and (digits in TEST_CARDS or len(set(digits)) < 4):
        return None
    if len(groups) == 1:
        return 0.85
    if groups in _GROUPINGS:
        return 0.95
    return None


__all__ = ["card_confidence", "issuer_ok"]
