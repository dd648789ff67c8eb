"""JSON Web Tokens (RFC 7519) in JWS compact form (RFC 7515 §7.1): ``header.payload.signature``, base64url.

The anchor is ``.eyJ`` (a JSON object payload always base64url-encodes to ``eyJ``), the header is found by looking
back. A hit counts only when the header decodes to a JSON object with ``alg`` and the payload to a JSON object.
"""

from __future__ import annotations

import re

from mcpguard.detect.base import AnchoredRule, ScanContext, byte_table, ALNUM, run_start
from mcpguard.detect.placeholders import secret_placeholder
from mcpguard.detect.validators import jwt_ok
from mcpguard.types import Category

_B64URL = byte_table(ALNUM + b"_-")
#: jwt.io's default example token: documentation, not a credential.
JWT_IO_EXAMPLE = (
    b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIy"
    b"fQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


def _validate(value: bytes, ctx: ScanContext, start: int) -> float | None:
    if not jwt_ok(value):
        return None
    if not ctx.flag_placeholders and (value == JWT_IO_EXAMPLE or secret_placeholder(value)):
        return None
    return 0.99


RULES = [
    AnchoredRule(
        id="jwt.jws",
        type="jwt",
        category=Category.SECRET,
        pattern=re.compile(rb"eyJ[A-Za-z0-9_\-]{4,4096}\.eyJ[A-Za-z0-9_\-]{2,16384}\.[A-Za-z0-9_\-]{0,1024}"),
        anchors=(b".eyJ",),
        back=4100,
        locate=run_start(ALNUM + b"_-", 4100),
        max_len=17500,
        left=_B64URL,
        right=byte_table(ALNUM + b"_-"),
        validate=_validate,
    )
]
