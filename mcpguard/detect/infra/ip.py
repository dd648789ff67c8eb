"""Private network addresses.

- IPv4: the RFC 1918 ranges ``10/8``, ``172.16/12``, ``192.168/16`` in dotted-quad form; version strings and OIDs are
  excluded by requiring exactly four octets ≤ 255 with no digit or dot continuing on either side.
- IPv6: unique local ``fc00::/7`` (RFC 4193) and link-local ``fe80::/10`` (RFC 4291 §2.5.6), validated with
  :mod:`ipaddress`.
Loopback, public and documentation ranges are not reported.
"""

from __future__ import annotations

import ipaddress
import re

from mcpguard.detect.base import ALNUM, AnchoredRule, ScanContext, Span, bounded, byte_table, run_start
from mcpguard.types import Category

_V4_EDGE = byte_table(ALNUM + b"._")


def _v4(m: re.Match[bytes], ctx: ScanContext):
    s, e = m.span()
    buf = ctx.buf
    if s > 0 and (_V4_EDGE[buf[s - 1]] or buf[s - 1] == 45):  # 45: '-' (e.g. "v-10.0.0.1" build tags)
        return ()
    if e < len(buf) and (buf[e] in b"0123456789_" or (buf[e] == 46 and buf[e + 1 : e + 2].isdigit())):
        return ()
    if e < len(buf) and buf[e] in ALNUM:
        return ()
    octets = [int(x) for x in m.group().split(b".")]
    if max(octets) > 255 or any(len(x) > 1 and x[0] == 48 for x in m.group().split(b".")):
        return ()  # not a dotted quad (or a zero-padded one, which is usually a version or an OID)
    a, b = octets[0], octets[1]
    if not (a == 10 or (a == 172 and 16 <= b <= 31) or (a == 192 and b == 168)):
        return ()
    return (Span(s, e, "private_ipv4", "ip.private_ipv4", Category.INFRA, 0.9),)


#: Characters that must not touch an IPv6 address (``fe80::1text``, ``xfe80::1`` are words, not addresses).
_V6_EDGE = byte_table(ALNUM + b"_")


def _v6(m: re.Match[bytes], ctx: ScanContext):
    s, e = m.span()
    text = m.group().decode()
    # Strip a trailing ":" that belongs to prose or a port separator.
    while text.endswith(":") and not text.endswith("::"):
        text = text[:-1]
        e -= 1
    if not bounded(ctx.buf, s, e, _V6_EDGE, _V6_EDGE):
        return ()
    try:
        addr = ipaddress.IPv6Address(text)
    except ValueError:
        return ()
    if not (addr in _ULA or addr in _LINK_LOCAL):
        return ()
    return (Span(s, e, "private_ipv6", "ip.private_ipv6", Category.INFRA, 0.9),)


_ULA = ipaddress.IPv6Network("fc00::/7")
_LINK_LOCAL = ipaddress.IPv6Network("fe80::/10")

RULES = [
    AnchoredRule(
        id="ip.private_ipv4",
        type="private_ipv4",
        category=Category.INFRA,
        pattern=re.compile(rb"(?:10|172|192)\.\d{1,3}\.\d{1,3}\.\d{1,3}"),
        # Hyperscan: the first digit of the fourth octet of a private-range quad, so "section 10.2" and "macOS
        # 10.15.7" (~85 per MB of prose) are no hits; Python: the range prefixes. Either way the match starts where
        # the run of digits and dots starts (a quad with digits or dots before it is rejected by _v4 anyway).
        hs_anchors=((rb"(?:10\.[0-9]{1,3}|172\.(?:1[6-9]|2[0-9]|3[01])|192\.168)\.[0-9]{1,3}\.[0-9]", 1, False),),
        py_anchors=((b".", rb"(?<=10\.)", 2), (b".", rb"(?<=172\.)", 3), (b".", rb"(?<=192\.168\.)", 7)),
        locate=run_start(b"0123456789.", 16),
        max_len=15,
        extract=_v4,
    ),
    AnchoredRule(
        id="ip.private_ipv6",
        type="private_ipv6",
        category=Category.INFRA,
        pattern=re.compile(rb"[fF][cdeCDE][0-9a-fA-F]{2}:[0-9a-fA-F:]{2,36}(?:%[0-9A-Za-z]{1,16})?"),
        hs_anchors=((rb"[fF][cdeCDE][0-9a-fA-F]{2}:", 5, False),),
        py_anchors=((b":", rb"(?<=[fF][cdeCDE][0-9a-fA-F]{2}:)", 4),),
        max_len=56,
        extract=_v6,
    ),
]
