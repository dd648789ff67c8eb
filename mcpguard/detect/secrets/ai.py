"""AI provider API keys: OpenAI and Anthropic.

- OpenAI: ``sk-`` (legacy), ``sk-proj-``, ``sk-svcacct-``, ``sk-admin-`` followed by base64url characters that embed
  the marker ``T3BlbkFJ`` (base64 of "OpenAI"). A ``sk-`` token without the marker is reported at lower confidence.
- Anthropic: ``sk-ant-api03-`` (API), ``sk-ant-admin01-``, ``sk-ant-oat01-``/``ort01`` (OAuth) + ~95 characters.
"""

from __future__ import annotations

import re

from mcpguard.detect.base import AnchoredRule, ScanContext, byte_table, ALNUM
from mcpguard.detect.placeholders import secret_placeholder
from mcpguard.detect.validators import shannon_entropy
from mcpguard.types import Category

_TOKEN = byte_table(ALNUM + b"_-")


def _openai(value: bytes, ctx: ScanContext, start: int) -> float | None:
    if value.startswith(b"sk-ant-"):
        return None
    if not ctx.flag_placeholders and (secret_placeholder(value) or shannon_entropy(value) < 3.5):
        return None
    if b"T3BlbkFJ" in value:
        return 0.99
    # Without the marker only long, mixed-case random bodies count (``sk-`` also prefixes CSS classes and slugs).
    body = value[3:]
    if len(body) >= 40 and any(c in b"0123456789" for c in body) and body.lower() != body:
        return 0.75
    return None


def _anthropic(value: bytes, ctx: ScanContext, start: int) -> float | None:
    if not ctx.flag_placeholders and (secret_placeholder(value) or shannon_entropy(value) < 3.5):
        return None
    return 0.99


RULES = [
    AnchoredRule(
        id="openai.api_key",
        type="openai_key",
        category=Category.SECRET,
        pattern=re.compile(rb"sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{32,250}"),
        anchors=(b"sk-",),
        validate=_openai,
        left=byte_table(ALNUM + b"_-"),
        right=_TOKEN,
        max_len=270,
    ),
    AnchoredRule(
        id="anthropic.api_key",
        type="anthropic_key",
        category=Category.SECRET,
        pattern=re.compile(rb"sk-ant-(?:api|admin|oat|ort)\d\d-[A-Za-z0-9_\-]{40,200}"),
        anchors=(b"sk-",),
        validate=_anthropic,
        left=byte_table(ALNUM + b"_-"),
        right=_TOKEN,
        max_len=220,
        priority=1,
    ),
]
