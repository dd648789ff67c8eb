"""The ``mask`` action: hide a value but keep a short tail (``****1234``) so a person can tell values apart.

The tail is at most ``keep`` characters and at most a quarter of the value (rounded down), so short values keep
nothing; the prefix is always four ``*`` whatever the value's length, so the mask does not leak the length either.
"""

from __future__ import annotations

MASK_PREFIX = "****"


def mask(value: str, keep: int = 4) -> str:
    """``value`` masked: ``"****"`` plus its last ``min(keep, len(value) // 4)`` characters."""
    tail = min(keep, len(value) // 4)
    return MASK_PREFIX + (value[-tail:] if tail > 0 else "")


__all__ = ["MASK_PREFIX", "mask"]
