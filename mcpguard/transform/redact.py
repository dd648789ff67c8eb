"""The ``redact`` action: replace a value with ``[REDACTED:<type>]``. Irreversible; the type stays visible so the
model can still reason about what was there."""

from __future__ import annotations


def redact(type_: str) -> str:
    """The replacement text for a redacted value of detected type ``type_`` (e.g. ``[REDACTED:email]``)."""
    return f"[REDACTED:{type_}]"


__all__ = ["redact"]
