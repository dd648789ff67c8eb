"""E-mail addresses (RFC 5322 §3.4.1 ``addr-spec``, restricted to the dot-atom forms seen in practice).

Anchored on ``@``; the local part is found by looking back. Not reported: SSH/SCP remotes (``git@github.com:org/x``),
image density suffixes (``icon@2x.png``), package specifiers (``pkg@1.2.3``) and, unless ``flag_placeholders``,
addresses at reserved documentation domains (RFC 2606/6761: ``example.com``, ``*.test``, ``*.invalid``).
"""

from __future__ import annotations

import re

from mcpguard.detect.base import AnchoredRule, ScanContext, Span, byte_table, ALNUM, run_start
from mcpguard.detect.placeholders import email_placeholder
from mcpguard.types import Category

_PATTERN = re.compile(
    rb"([A-Za-z0-9!#$%&*+/=?^_{|}~\-](?:[A-Za-z0-9!#$%&*+/=?^_{|}~.\-]{0,63}))@"
    rb"((?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}([A-Za-z]{2,24}))"
)
_FILE_TLDS = frozenset(
    b"png jpg jpeg gif svg webp ico bmp js mjs ts tsx jsx css scss json yaml yml toml xml html md txt py rb go rs "
    b"java kt lock map pdf zip gz tar".split()
)
_LOCAL = byte_table(ALNUM + b"!#$%&*+/=?^_{|}~.-")


def _extract(m: re.Match[bytes], ctx: ScanContext):
    s, e = m.span()
    buf = ctx.buf
    local, domain, tld = m.group(1), m.group(2), m.group(3)
    if s > 0 and _LOCAL[buf[s - 1]]:
        return ()
    if e < len(buf) and (buf[e] in b"@-_" or (buf[e] in ALNUM)):
        return ()
    if s > 0 and buf[s - 1] in b":/" and not ctx.before(s, 8).endswith("mailto:"):
        return ()  # userinfo of a URL (``scheme://user:pass@host``), not an address
    if tld.lower() in _FILE_TLDS:
        return ()
    if e < len(buf) and buf[e : e + 1] == b":" and buf[e + 1 : e + 2] not in (b" ", b"\x00", b"") :
        return ()  # scp-style remote ``git@host:path``
    if local.startswith(b".") or local.endswith(b".") or b".." in local:
        return ()
    if not ctx.flag_placeholders and email_placeholder(domain):
        return ()
    return (Span(s, e, "email", "email.address", Category.PII, 0.95),)


RULES = [
    AnchoredRule(
        id="email.address",
        type="email",
        category=Category.PII,
        pattern=_PATTERN,
        anchors=(b"@",),
        back=64,
        locate=run_start(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&*+/=?^_{|}~.-", 64),
        max_len=260,
        extract=_extract,
    )
]
