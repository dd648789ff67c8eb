"""Google credentials.

- API keys (cloud.google.com "API keys"): ``AIza`` + 35 characters of ``[0-9A-Za-z_-]``, 39 in total.
- OAuth 2.0 client secrets issued since 2021: ``GOCSPX-`` + 28 characters.
"""

from __future__ import annotations

import re

from mcpguard.detect.base import AnchoredRule, ScanContext, byte_table, ALNUM
from mcpguard.detect.placeholders import secret_placeholder
from mcpguard.detect.validators import shannon_entropy
from mcpguard.types import Category

_TOKEN = byte_table(ALNUM + b"_-")


def _validate(conf: float):
    def validate(value: bytes, ctx: ScanContext, start: int) -> float | None:
        if not ctx.flag_placeholders and (secret_placeholder(value) or shannon_entropy(value) < 3.5):
            return None
        return conf

    return validate


RULES = [
    AnchoredRule(
        id="google.api_key",
        type="google_api_key",
        category=Category.SECRET,
        pattern=re.compile(rb"AIza[0-9A-Za-z_\-]{35}"),
        anchors=(b"AIza",),
        validate=_validate(0.97),
        left=_TOKEN,
        right=_TOKEN,
        max_len=39,
    ),
    AnchoredRule(
        id="google.oauth_client_secret",
        type="google_oauth_client_secret",
        category=Category.SECRET,
        pattern=re.compile(rb"GOCSPX-[0-9A-Za-z_\-]{28}"),
        anchors=(b"GOCSPX-",),
        validate=_validate(0.98),
        left=_TOKEN,
        right=_TOKEN,
        max_len=35,
    ),
]
