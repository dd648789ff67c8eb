"""Credentials in HTTP syntax: ``Authorization: Bearer …`` (RFC 6750 §2.1), ``Basic`` user:password pairs
(RFC 7617 §2) and userinfo in URLs (RFC 3986 §3.2.1, ``scheme://user:password@host``).

For a URL only the password is the finding: the user name and host stay readable, the credential does not.
"""

from __future__ import annotations

import base64
import binascii
import re

from mcpguard.detect.base import AnchoredRule, ScanContext, Span, byte_table, ALNUM
from mcpguard.detect.placeholders import secret_placeholder
from mcpguard.detect.validators import char_classes, shannon_entropy
from mcpguard.types import Category

_TOKEN68 = byte_table(ALNUM + b"-._~+/=")


def _bearer(value: bytes, ctx: ScanContext, start: int) -> float | None:
    if not ctx.flag_placeholders and (secret_placeholder(value) or shannon_entropy(value) < 3.0):
        return None
    if char_classes(value) < 2:
        return None
    return 0.92


def _basic(m: re.Match[bytes], ctx: ScanContext):
    value = m.group(1)
    try:
        decoded = base64.b64decode(value + b"=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return ()
    user, sep, password = decoded.partition(b":")
    if not sep or not password or not decoded.isascii() or not decoded.decode().isprintable():
        return ()
    if not ctx.flag_placeholders and secret_placeholder(password):
        return ()
    s, e = m.span(1)
    return (Span(s, e, "generic_secret", "http.basic_auth", Category.SECRET, 0.9),)


def _url(m: re.Match[bytes], ctx: ScanContext):
    password = m.group(2)
    if not ctx.flag_placeholders and (secret_placeholder(password) or password.lower() in (b"pass", b"pwd", b"pw")):
        return ()
    if password.isdigit() and len(password) <= 5:  # host:port@ in a malformed URL, not a password
        return ()
    s, e = m.span(2)
    return (Span(s, e, "url_credentials", "url.userinfo_password", Category.SECRET, 0.95),)


RULES = [
    AnchoredRule(
        id="http.bearer",
        type="bearer_token",
        category=Category.SECRET,
        pattern=re.compile(rb"[Bb][Ee][Aa][Rr][Ee][Rr][ \t]+([A-Za-z0-9\-._~+/]{16,4096}=*)"),
        caseless_anchors=(b"bearer",),
        group=1,
        max_len=4200,
        right=_TOKEN68,
        validate=_bearer,
    ),
    AnchoredRule(
        id="http.basic_auth",
        type="generic_secret",
        category=Category.SECRET,
        pattern=re.compile(rb"[Bb]asic[ \t]+([A-Za-z0-9+/]{8,1024}={0,2})(?![A-Za-z0-9+/=])"),
        anchors=(b"Basic ", b"basic "),
        max_len=1100,
        extract=_basic,
    ),
    AnchoredRule(
        id="url.userinfo_password",
        type="url_credentials",
        category=Category.SECRET,
        pattern=re.compile(
            rb"[A-Za-z][A-Za-z0-9+.\-]{1,30}://([^\s:/@\x00\"'<>]{1,128}):([^\s/@\x00\"'<>]{1,256})@[A-Za-z0-9\[]"
        ),
        anchors=(b"://",),
        back=32,
        max_len=400,
        extract=_url,
    ),
]
