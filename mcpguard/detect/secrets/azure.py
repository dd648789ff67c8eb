"""Microsoft Azure credentials.

- Storage connection strings (learn.microsoft.com "Configure Azure Storage connection strings"):
  ``DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net``, and Service Bus /
  Event Hubs ``Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…``. The whole string is the finding.
- Storage account keys: 64 random bytes in base64, i.e. 86 characters + ``==`` (88). Alone they look like any SHA-512
  digest in base64 (``sha512-…`` integrity strings), so they count only next to a storage key name.
- Entra ID (Azure AD) client secrets issued since 2021: 40 characters with ``Q~`` at offset 3–4 (3 characters, a
  digit, ``Q~``, 34 more from ``[A-Za-z0-9_~.-]``).
"""

from __future__ import annotations

import re

from mcpguard.detect.base import AnchoredRule, ScanContext, Span, byte_table, ALNUM
from mcpguard.detect.placeholders import secret_placeholder
from mcpguard.detect.validators import shannon_entropy
from mcpguard.types import Category

_CONN = re.compile(
    rb"(?:DefaultEndpointsProtocol|Endpoint|AccountName|BlobEndpoint|SharedAccessKeyName)=[^\s\"'\x00;]+"
    rb"(?:;[A-Za-z]+=[^\s\"'\x00;]*){1,12};?"
)
_KEY_IN_CONN = re.compile(rb"(?:AccountKey|SharedAccessKey)=([^;\s\"'\x00]{20,})")
_B64 = byte_table(ALNUM + b"+/=")
_STORAGE_CONTEXT = ("accountkey", "account_key", "storage", "azure", "access_key", "accesskey", "primarykey",
                    "secondarykey", "key1", "key2")


def _conn(m: re.Match[bytes], ctx: ScanContext):
    value = m.group(0)
    k = _KEY_IN_CONN.search(value)
    if k is None:
        return ()
    if not ctx.flag_placeholders and (secret_placeholder(k.group(1)) or shannon_entropy(k.group(1)) < 3.5):
        return ()
    s, e = m.span()
    if value.endswith(b";"):
        e -= 1
    return (Span(s, e, "azure_connection_string", "azure.connection_string", Category.SECRET, 0.98),)


def _storage_key(value: bytes, ctx: ScanContext, start: int) -> float | None:
    if not ctx.flag_placeholders and (secret_placeholder(value) or shannon_entropy(value) < 4.5):
        return None
    before = ctx.before(start, 48)
    if before.endswith(("sha512-", "sha-512-", "sha512=")):
        return None
    return 0.95 if any(w in before for w in _STORAGE_CONTEXT) else 0.4


def _client_secret(value: bytes, ctx: ScanContext, start: int) -> float | None:
    if not ctx.flag_placeholders and (secret_placeholder(value) or shannon_entropy(value) < 3.5):
        return None
    return 0.95


RULES = [
    AnchoredRule(
        id="azure.connection_string",
        type="azure_connection_string",
        category=Category.SECRET,
        pattern=_CONN,
        anchors=(b"AccountKey=", b"SharedAccessKey="),
        back=400,
        max_len=600,
        extract=_conn,
    ),
    AnchoredRule(
        id="azure.storage_key",
        type="azure_storage_key",
        category=Category.SECRET,
        pattern=re.compile(rb"[A-Za-z0-9+/]{86}=="),
        anchors=(b"==",),
        back=86,
        locate=lambda buf, pos: max(0, pos - 86),
        max_len=2,
        left=byte_table(ALNUM + b"+/"),
        right=_B64,
        validate=_storage_key,
    ),
    AnchoredRule(
        id="azure.client_secret",
        type="azure_client_secret",
        category=Category.SECRET,
        pattern=re.compile(rb"[A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}"),
        anchors=(b"Q~",),
        back=4,
        max_len=40,
        left=byte_table(ALNUM + b"_~.-"),
        right=byte_table(ALNUM + b"_~-"),
        validate=_client_secret,
    ),
]
