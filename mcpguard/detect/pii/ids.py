"""National identifiers validated with ``python-stdnum``: US SSN and, as ``national_id`` with the country in the rule
id, India Aadhaar (Verhoeff check), Brazil CPF (two mod-11 digits) and China resident identity card (ISO 7064 MOD
11-2, embedded birth date). A bare digit run needs a context word; the printed grouping alone suffices for SSN
(``3-2-4``; ``3 2 4`` and ``3.2.4`` at lower confidence), CPF (``3.3.3-2``) and Aadhaar (``4 4 4``).
"""

from __future__ import annotations

from typing import Callable

from mcpguard.detect.base import mentions
from mcpguard.detect.placeholders import TEST_SSNS

SSN_CONTEXT = ("ssn", "social security", "soc sec", "taxpayer")


def ssn_confidence(d: str, groups: tuple[int, ...], seps: bytes, context: Callable[[], str],
                   flag_placeholders: bool) -> float | None:
    """Confidence that the 9 digits ``d`` are a US SSN (SSA area/group/serial rules via ``stdnum.us.ssn``);
    ``context()`` returns the preceding text."""
    if groups == (3, 2, 4) and seps in (b"--", b"  ", b".."):
        conf = 0.9 if seps == b"--" or mentions(context(), SSN_CONTEXT) else 0.6
    elif groups == (9,) and mentions(context(), SSN_CONTEXT):
        conf = 0.85
    else:
        return None
    from stdnum.us import ssn as _ssn  # python-stdnum is imported on first use (start-up cost)

    if not _ssn.is_valid(d) or (d in TEST_SSNS and not flag_placeholders):
        return None
    return conf


def national_id(d: str, groups: tuple[int, ...], raw: bytes, context: Callable[[], str]) -> tuple[str, float] | None:
    """``(rule_id, confidence)`` for a national id other than SSN/RRN, or None; shape and context are checked
    before the (slower) validators."""
    from stdnum.br import cpf as _cpf
    from stdnum.cn import ric as _ric
    from stdnum.in_ import aadhaar as _aadhaar

    n = len(d)
    if n == 12 and d[0] not in "01" and (groups == (4, 4, 4) or (groups == (12,) and mentions(
            context(), ("aadhaar", "uidai", "आधार")))):
        return ("national_id.in_aadhaar", 0.85) if _aadhaar.is_valid(d) else None
    if n == 11 and ((groups == (3, 3, 3, 2) and raw[3:4] == b"." and raw[-3:-2] == b"-") or (
            groups == (11,) and mentions(context(), ("cpf",)))):
        return ("national_id.br_cpf", 0.9) if _cpf.is_valid(d) else None
    if (n == 18 or (n == 17 and raw[-1:] in (b"X", b"x"))) and groups == (n,) and d[0] in "123456789":
        if "19000101" <= d[6:14] <= "20991231" and _ric.is_valid(d if n == 18 else d + "X"):
            return "national_id.cn_ric", 0.9
    return None


__all__ = ["national_id", "ssn_confidence"]
