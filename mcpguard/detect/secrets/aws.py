"""AWS access key ids.

Format: a 4-letter kind prefix (``AKIA`` long-term user key, ``ASIA`` STS temporary key) and 16 characters of the
RFC 4648 base32 alphabet ``A-Z2-7`` (AWS IAM "Unique identifiers" documentation; the alphabet is why ``0``, ``1``,
``8`` and ``9`` never appear). Secret access keys (40 base64 characters, no prefix) carry no anchor of their own and
are found through their key name in :mod:`mcpguard.detect.secrets.assignment`.
"""

from __future__ import annotations

import re

from mcpguard.detect.base import AnchoredRule, ScanContext
from mcpguard.detect.placeholders import secret_placeholder
from mcpguard.types import Category


def _validate(value: bytes, ctx: ScanContext, start: int) -> float | None:
    if secret_placeholder(value) and not ctx.flag_placeholders:
        return None
    return 0.97


RULES = [
    AnchoredRule(
        id="aws.access_key_id",
        type="aws_access_key_id",
        category=Category.SECRET,
        pattern=re.compile(rb"(?:AKIA|ASIA)[A-Z2-7]{16}"),
        anchors=(b"AKIA", b"ASIA"),
        validate=_validate,
        max_len=20,
    )
]
