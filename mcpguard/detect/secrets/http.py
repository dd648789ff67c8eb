"""Credentials in HTTP syntax: ``Authorization: Bearer …`` (RFC 6750 §2.1), ``Authorization: Basic`` user:password
pairs (RFC 7617 §2) and userinfo in URLs (RFC 3986 §3.2.1, ``scheme://user:password@host``).

The header rules need the ``Authorization`` name (``Authorization: Bearer x``, ``"Authorization": "Bearer x"``,
``authorization = 'token x'``); a bare "bearer" in prose is not a credential. JSON headers objects reach the same
check through the engine's key context.

For a URL only the password is the finding: the user name and host stay readable, the credential does not.
"""

from __future__ import annotations

import base64
import binascii
import re

from mcpguard.detect.base import AnchoredRule, ScanContext, Span, byte_table, ALNUM, key_start, operator_anchors, run_start
from mcpguard.detect.placeholders import secret_placeholder
from mcpguard.detect.validators import char_classes, shannon_entropy
from mcpguard.types import Category

_TOKEN68 = byte_table(ALNUM + b"-._~+/=")


def bearer_confidence(value: bytes, flag_placeholders: bool) -> float | None:
    """Confidence that ``value`` (the credentials after ``Bearer``) is a real token: not a placeholder, random-looking."""
    if not flag_placeholders and (secret_placeholder(value) or shannon_entropy(value) < 3.0):
        return None
    if char_classes(value) < 2 or len(value) < 16:
        return None
    return 0.92


def basic_confidence(value: bytes, flag_placeholders: bool) -> float | None:
    """Confidence that ``value`` is RFC 7617 ``base64(user:password)`` with a real password."""
    try:
        decoded = base64.b64decode(value + b"=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    _user, sep, password = decoded.partition(b":")
    if not sep or not password or not decoded.isascii() or not decoded.decode().isprintable():
        return None
    if not flag_placeholders and secret_placeholder(password):
        return None
    return 0.9


def authorization_value(value: bytes, flag_placeholders: bool) -> tuple[int, str, str, float] | None:
    """For an ``Authorization`` header value (``Bearer x``, ``Basic x``, ``token x``): ``(offset of the credentials,
    type, rule id, confidence)`` or None."""
    scheme, _, cred = value.partition(b" ")
    cred = cred.strip()
    off = len(value) - len(value.lstrip()) + len(scheme) + 1 + (len(value.partition(b" ")[2]) - len(
        value.partition(b" ")[2].lstrip()))
    sl = scheme.strip().lower()
    if sl in (b"bearer", b"token"):
        conf = bearer_confidence(cred, flag_placeholders)
        return (off, "bearer_token", "http.authorization_bearer", conf) if conf else None
    if sl == b"basic":
        conf = basic_confidence(cred, flag_placeholders)
        return (off, "generic_secret", "http.authorization_basic", conf) if conf else None
    return None


def _authorization(m: re.Match[bytes], ctx: ScanContext):
    scheme = m.group(1).lower()
    s, e = m.span(2)
    value = m.group(2)
    if scheme == b"basic":
        conf = basic_confidence(value, ctx.flag_placeholders)
        typ, rule = "generic_secret", "http.authorization_basic"
    else:
        conf = bearer_confidence(value, ctx.flag_placeholders)
        typ, rule = "bearer_token", "http.authorization_bearer"
    if conf is None or (e < len(ctx.buf) and _TOKEN68[ctx.buf[e]]):
        return ()
    return (Span(s, e, typ, rule, Category.SECRET, conf),)


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
        id="http.authorization",
        type="bearer_token",
        category=Category.SECRET,
        pattern=re.compile(
            rb"authorization[\"']?[ \t]{0,2}[:=][ \t]{0,2}[\"']?(bearer|basic|token)[ \t]+([A-Za-z0-9\-._~+/]{8,4096}=*)",
            re.IGNORECASE,
        ),
        hs_anchors=((b"authorization", 13, True),),
        py_anchors=operator_anchors(),
        back=20,
        locate=key_start,
        max_len=4200,
        extract=_authorization,
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
        locate=run_start(ALNUM + b"+.-", 31),
        max_len=400,
        extract=_url,
    ),
]
