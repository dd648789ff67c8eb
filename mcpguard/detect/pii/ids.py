"""National identifiers validated with ``python-stdnum``: US SSN and, as ``national_id`` with the country in the rule
id, India Aadhaar (Verhoeff check), Brazil CPF (two mod-11 digits) and China resident identity card (ISO 7064 MOD
11-2, embedded birth date). A bare digit run needs a context word; the printed grouping alone suffices for SSN
(``3-2-4``), CPF (``3.3.3-2``) and Aadhaar (``4 4 4``).
"""

from __future__ import annotations

from stdnum.br import cpf as _cpf
from stdnum.cn import ric as _ric
from stdnum.in_ import aadhaar as _aadhaar
from stdnum.us import ssn as _ssn

from mcpguard.detect.placeholders import TEST_SSNS

SSN_CONTEXT = ("ssn", "social security", "soc sec", "taxpayer")


def ssn_confidence(d: str, groups: tuple[int, ...], seps: bytes, context: str, flag_placeholders: bool) -> float | None:
    """Confidence that the 9 digits ``d`` are a US SSN (SSA area/group/serial rules via ``stdnum.us.ssn``)."""
    if len(d) != 9 or not _ssn.is_valid(d):
        return None
    if d in TEST_SSNS and not flag_placeholders:
        return None
    if groups == (3, 2, 4) and seps in (b"--", b"  "):
        return 0.9 if any(w in context for w in SSN_CONTEXT) or seps == b"--" else 0.6
    if groups == (9,) and any(w in context for w in SSN_CONTEXT):
        return 0.85
    return None


def national_id(d: str, groups: tuple[int, ...], raw: bytes, context: str) -> tuple[str, float] | None:
    """``(rule_id, confidence)`` for a national id other than SSN/RRN, or None."""
    n = len(d)
    if n == 12 and _aadhaar.is_valid(d):
        if groups == (4, 4, 4) or any(w in context for w in ("aadhaar", "uidai", "आधार")):
            return "national_id.in_aadhaar", 0.85
    if n == 11 and _cpf.is_valid(d):
        if (groups == (3, 3, 3, 2) and raw[3:4] == b"." and raw[-3:-2] == b"-") or "cpf" in context:
            return "national_id.br_cpf", 0.9
    if n == 18 or (n == 17 and raw[-1:] in (b"X", b"x")):
        if _ric.is_valid(d if n == 18 else d + "X"):
            return "national_id.cn_ric", 0.9
    return None


__all__ = ["national_id", "ssn_confidence"]
