"""PEM-armoured private keys (RFC 7468 §2; OpenSSH ``openssh-key-v1``; OpenPGP RFC 4880 §6.2 armour).

The finding spans from ``-----BEGIN … PRIVATE KEY-----`` to the matching ``-----END …-----``. A key with no end line
in the same leaf (truncated output) spans to the end of the leaf: failing closed beats leaking the rest of the key.
Public keys and certificates are not secrets and are not reported.
"""

from __future__ import annotations

import re

from mcpguard.detect.base import AnchoredRule, ScanContext, Span
from mcpguard.types import Category

_HEADER = re.compile(rb"-----BEGIN ((?:[A-Z0-9]+ ){0,3})PRIVATE KEY(?: BLOCK)?-----")
_LIMIT = 64 * 1024


def _extract(m: re.Match[bytes], ctx: ScanContext):
    buf = ctx.buf
    start, body = m.start(), m.end()
    leaf_end = buf.find(b"\x00", body, body + _LIMIT)
    stop = leaf_end if leaf_end >= 0 else min(len(buf), body + _LIMIT)
    end_marker = b"-----END " + m.group(1) + b"PRIVATE KEY"
    e = buf.find(end_marker, body, stop)
    if e < 0:
        return (Span(start, stop, "private_key", "pem.private_key", Category.SECRET, 0.9),)
    close = buf.find(b"-----", e + len(end_marker), stop)
    end = close + 5 if close >= 0 else e + len(end_marker)
    if body + 16 > e:  # an empty armour block in documentation
        return ()
    return (Span(start, end, "private_key", "pem.private_key", Category.SECRET, 0.99),)


RULES = [
    AnchoredRule(
        id="pem.private_key",
        type="private_key",
        category=Category.SECRET,
        pattern=_HEADER,
        anchors=(b"-----BEGIN ",),
        max_len=64,
        extract=_extract,
    )
]
