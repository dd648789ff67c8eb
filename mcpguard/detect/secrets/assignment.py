"""Secrets assigned to secret-looking names: ``password=…``, ``DB_PASSWORD: …``, ``"api_key": "…"``,
``aws_secret_access_key = …``, ``$cfg['password'] = '…'``, ``config["token"] = …``, ``'password' => '…'``,
``define('DB_PASSWORD', '…')``.

Anchored on the key word (case-insensitive). The key decides the type: an AWS secret key name with a 40-character
base64 value is ``aws_secret_access_key``; an Azure storage key name with an 88-character value is
``azure_storage_key``; everything else is ``generic_secret``. The value is the finding. Code that merely names a
secret (``password = get_password()``, ``token: str``, ``max_tokens = 4096``) and template placeholders are not.

:func:`classify_key` / :func:`value_confidence` are shared with the engine's JSON-key context (``{"password": "…"}``
arrives as a key leaf and a value leaf, which no text regex sees together).
"""

from __future__ import annotations

import re

from mcpguard.detect.base import AnchoredRule, ScanContext, Span, key_start, operator_anchors
from mcpguard.detect.placeholders import secret_placeholder
from mcpguard.detect.validators import char_classes, is_sequential, shannon_entropy
from mcpguard.types import Category

_PATTERN = re.compile(
    # key, then a closing quote, a quoted subscript ($cfg['password'] = …) or an empty one (apikey[] = …)
    rb"([A-Za-z][A-Za-z0-9_.\-]{0,63})(?:[\"']\]?|\[\])?[ \t]{0,2}(?::=|=>|[:=])[ \t]*@?"  # @"…": Objective-C literals
    rb"(?:\"([^\"\x00\n]{3,512})\"|'([^'\x00\n]{3,512})'|([^\s\"'`\x00,;{}()\[\]<>]{4,512}))"
)

#: A key is secret-ish when, normalized (lower case, ``-`` and ``.`` → ``_``), it matches this.
_SECRET_KEY = re.compile(
    r"(?:^|_)(?:pass(?:word|wd|phrase)?|pwd|secret|token|api_?key|apikey|access_?key|secret_?key|private_?key|"
    r"client_?secret|auth_?key|storage_?key|account_?key|signing_?key|encryption_?key|master_?key|credentials?|accountkey|sas_?token)$"
    r"|(?:password|passwd|secret|apikey|accesskey|privatekey|accountkey|authtoken|accesstoken|refreshtoken)$"
)
#: Names that mention a secret word but hold no secret (``max_tokens``, ``token_type``, ``password_hint``, …).
_NOT_SECRET_KEY = re.compile(
    r"(?:tokens|tokenizer|_?(?:type|name|id|url|uri|path|file|hint|length|len|count|expiry|expires|expires_in|ttl|"
    r"policy|required|enabled|version|endpoint|prompt|field|label|header|format|limit|usage|reset|ref|kind))$"
)
#: Qualifiers that make a secret word name a public or per-session anti-forgery value (``publicToken``,
#: ``csrf_token``, ``xsrf-token``): published by design, not credentials (gitleaks and detect-secrets agree).
_NOT_SECRET_QUALIFIER = re.compile(r"(?:^|_)(?:public|pub|csrf|xsrf)_")
#: Hyperscan anchor words (case-insensitive): every key word :data:`_SECRET_KEY` accepts ends with one of these.
KEY_WORDS = (b"pass", b"pwd", b"secret", b"token", b"key", b"credential", b"phrase")
_AWS_SECRET = re.compile(rb"^[A-Za-z0-9/+]{40}$")
_AZURE_STORAGE = re.compile(rb"^[A-Za-z0-9/+]{86}==$")
_IDENTIFIER = re.compile(rb"^[A-Za-z_][A-Za-z_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")
_KEY_CACHE: dict[str, str | None] = {}


def classify_key(key: str) -> str | None:
    """The secret family a key name announces (``"aws_secret"``, ``"azure_storage"``, ``"password"``, ``"secret"``)
    or None when the name is not secret-ish. Pure; cached."""
    hit = _KEY_CACHE.get(key, "")
    if hit != "":
        return hit
    k = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower().replace("-", "_").replace(".", "_").strip("_\"' ")
    result: str | None
    if not _SECRET_KEY.search(k) or _NOT_SECRET_KEY.search(k) or _NOT_SECRET_QUALIFIER.search(k):
        result = None
    elif "secret" in k and ("aws" in k or "access" in k):
        result = "aws_secret"
    elif "account_key" in k or "accountkey" in k or "storage" in k:
        result = "azure_storage"
    elif "pass" in k or "pwd" in k:
        result = "password"
    else:
        result = "secret"
    if len(_KEY_CACHE) < 4096:
        _KEY_CACHE[key] = result
    return result


def value_confidence(family: str, value: bytes, quoted: bool, flag_placeholders: bool) -> tuple[str, float] | None:
    """``(type, confidence)`` for ``value`` assigned to a key of ``family``, or None when it is not a secret
    (placeholder, code expression, too short, trivially sequential)."""
    v = value.strip()
    if len(v) < 4 or len(v) > 512:
        return None
    if not flag_placeholders and (secret_placeholder(v) or is_sequential(v)):
        return None
    if family == "aws_secret" and _AWS_SECRET.match(v):
        return "aws_secret_access_key", 0.95
    if family == "azure_storage" and _AZURE_STORAGE.match(v):
        return "azure_storage_key", 0.95
    if not quoted and _IDENTIFIER.match(v) and (b"." in v or v.lower() == v or v.isupper() is False and len(v) < 8):
        return None  # ``self.password``, ``getpass``, ``None`` — code, not a value
    if b" " in v and family != "password":
        return None  # prose after "Token:" is not a token
    if v.isdigit() and len(v) < 6:
        return None
    classes = char_classes(v)
    entropy = shannon_entropy(v)
    if len(v) >= 12 and entropy >= 3.2 and classes >= 2:
        conf = 0.9
    elif family == "password":
        conf = 0.75 if classes >= 2 else 0.6
    elif classes >= 2 and len(v) >= 8:
        conf = 0.75
    else:
        conf = 0.45
    return "generic_secret", conf


def _extract(m: re.Match[bytes], ctx: ScanContext):
    key = m.group(1).decode("ascii", "replace")
    family = classify_key(key)
    if family is None:
        return ()
    for g, quoted in ((2, True), (3, True), (4, False)):
        if m.start(g) >= 0:
            break
    value = m.group(g)
    s, e = m.span(g)
    if not quoted and e < len(ctx.buf) and ctx.buf[e : e + 1] in (b"(", b"["):
        return ()
    got = value_confidence(family, value, quoted, ctx.flag_placeholders)
    if got is None:
        return ()
    typ, conf = got
    # Trim surrounding spaces inside quotes so the span is the secret itself.
    lead = len(value) - len(value.lstrip())
    trail = len(value) - len(value.rstrip())
    return (Span(s + lead, e - trail, typ, f"assignment.{family}", Category.SECRET, conf),)


def _extract_define(m: re.Match[bytes], ctx: ScanContext):
    family = classify_key(m.group(2).decode("ascii"))
    if family is None:
        return ()
    got = value_confidence(family, m.group(4), True, ctx.flag_placeholders)
    if got is None:
        return ()
    s, e = m.span(4)
    return (Span(s, e, got[0], f"assignment.define.{family}", Category.SECRET, got[1]),)


RULES = [
    # PHP constants: define('DB_PASSWORD', '…') in wp-config.php and friends (PHP function names are case-insensitive).
    AnchoredRule(
        id="assignment.define",
        type="generic_secret",
        category=Category.SECRET,
        pattern=re.compile(
            rb"define\([ \t]*([\"'])([A-Za-z_][A-Za-z0-9_]{0,63})\1[ \t]*,[ \t]*([\"'])([^\"'\x00\n]{1,512})\3",
            re.IGNORECASE,
        ),
        caseless_anchors=(b"define(",),
        max_len=620,
        extract=_extract_define,
    ),
    AnchoredRule(
        id="assignment",
        type="generic_secret",
        category=Category.SECRET,
        pattern=_PATTERN,
        # Anchored on the operator after a key that holds a key word (the anchor is the operator: length 1), not on
        # the bare word: prose says "key" and "pass" ~180 times per MB, almost never followed by ":" or "=".
        hs_anchors=((rb"(?:" + rb"|".join(KEY_WORDS) + rb")[A-Za-z0-9_.\-]{0,63}(?:[\"']\]?|\[\])?[ \t]{0,2}[:=]", 1, True),),
        py_anchors=operator_anchors(),
        back=64,
        locate=key_start,
        max_len=600,
        extract=_extract,
    )
]
