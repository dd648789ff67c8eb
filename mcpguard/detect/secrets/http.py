"""Credentials in HTTP syntax: ``Authorization: Bearer …`` (RFC 6750 §2.1), ``Authorization: Basic`` user:password
pairs (RFC 7617 §2), userinfo in URLs (RFC 3986 §3.2.1, ``scheme://user:password@host``) and curl's ``-u``/``--user
user:password`` (curl(1) "-u, --user").

The header rules need the ``Authorization`` name (``Authorization: Bearer x``, ``"Authorization": "Bearer x"``,
``authorization = 'token x'``); a bare "bearer" in prose is not a credential. Any auth-scheme token other than
``Basic`` (``Bearer``, ``Token``, ``Api-Token``, …, RFC 9110 §11.4), and a credential with no scheme at all
(``Authorization: 5eb4223e-…``, common for API keys), is judged as a bearer credential. JSON headers objects reach
the same check through the engine's key context. The curl rule needs ``curl`` within the 512 bytes before the option.

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
#: An auth-scheme name (RFC 9110 §11.1 token, restricted to what schemes use in practice: letters, digits, ``-``).
_SCHEME = re.compile(rb"[a-z][a-z0-9\-]{1,24}")


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
    user, sep, password = decoded.partition(b":")
    # RFC 7617 §2.1 allows UTF-8 (and, in practice, Latin-1) passwords: only the user id must be printable ASCII.
    # Random base64 almost never decodes to that shape, so this still separates credentials from blobs.
    if not sep or not password or not (user.isascii() and (not user or user.decode().isprintable())):
        return None
    if any(c < 32 or c == 127 for c in password):
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
    if not cred:  # no scheme: the whole value is the credential
        lead = len(value) - len(value.lstrip())
        conf = bearer_confidence(value.strip(), flag_placeholders)
        return (lead, "bearer_token", "http.authorization_bearer", conf) if conf else None
    if sl == b"basic":
        conf = basic_confidence(cred, flag_placeholders)
        return (off, "generic_secret", "http.authorization_basic", conf) if conf else None
    if _SCHEME.fullmatch(sl):
        conf = bearer_confidence(cred, flag_placeholders)
        return (off, "bearer_token", "http.authorization_bearer", conf) if conf else None
    return None


def _authorization(m: re.Match[bytes], ctx: ScanContext):
    scheme = (m.group(1) or b"").lower()
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


_QUOTES = b"\"'"


def _curl_user(m: re.Match[bytes], ctx: ScanContext):
    s, e = m.span(1)
    if ctx.buf.rfind(b"curl", max(0, m.start() - 512), m.start()) < 0:
        return ()  # "-u" is also sudo's, ps's, git push's: only curl's takes user:password
    arg = m.group(1)
    colon = arg.find(b":")
    if colon < 0 or b"<" in arg or b">" in arg:  # no password, or a <user:password> template
        return ()
    # The password is the secret; with an empty password (API key as user name) the user name is.
    ps, pe = s + colon + 1, e
    while ps < pe and ctx.buf[ps] in _QUOTES:
        ps += 1
    while pe > ps and ctx.buf[pe - 1] in _QUOTES:
        pe -= 1
    if ps == pe:
        ps, pe = s, s + colon
        while ps < pe and ctx.buf[ps] in _QUOTES:
            ps += 1
        while pe > ps and ctx.buf[pe - 1] in _QUOTES:
            pe -= 1
    secret = ctx.buf[ps:pe]
    if not ctx.flag_placeholders and (
            len(secret) < 6 or secret[:1] in b"$[" or secret_placeholder(secret) or shannon_entropy(secret) < 2.5):
        return ()  # shell variables ($PASS, ${{ secrets.X }}, $(cat f)), [PASSWORD], short or repetitive stand-ins
    return (Span(ps, pe, "generic_secret", "http.curl_user", Category.SECRET, 0.85),)


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
        id="http.curl_user",
        type="generic_secret",
        category=Category.SECRET,
        pattern=re.compile(
            rb"[ \t](?:-u|--user)(?:=|[ \t]{1,5})(\"[^\"\s\x00]{1,256}\"|'[^'\s\x00]{1,256}'"
            rb"|(?:\"[^\"\s\x00]{0,128}\"|'[^'\s\x00]{0,128}'|[^\s\x00\"':]{0,128})"
            rb":(?:\"[^\"\s\x00]{0,256}\"|'[^'\s\x00]{0,256}'|[^\s\x00\"']{0,256}))"
            rb"(?![^\s\x00])"  # ends at whitespace, the leaf separator or the end
        ),
        anchors=(b" -u", b" --user", b"\t-u", b"\t--user"),
        max_len=400,
        extract=_curl_user,
    ),
    AnchoredRule(
        id="http.authorization",
        type="bearer_token",
        category=Category.SECRET,
        pattern=re.compile(
            rb"authorization(?:[\"']\]?)?[ \t]{0,2}[:=][ \t]{0,2}[\"']?(?:([A-Za-z][A-Za-z0-9\-]{1,24})[ \t]+)?"
            rb"([A-Za-z0-9\-._~+/]{8,4096}=*)",
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
