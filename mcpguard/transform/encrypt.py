"""The ``encrypt`` action: replace a value with an inline AES-256-GCM envelope ``[[ENC:v1:<kid>:<base64url>]]``.

``kid`` names the key in the key provider (so keys can rotate: old envelopes name their key); the payload is
``nonce (12) ‖ ciphertext ‖ tag (16)`` (:func:`mcpguard.crypto.seal`, NIST SP 800-38D) in unpadded base64url
(RFC 4648 §5), with associated data ``mcpguard-enc:v1:<kid>`` so an envelope cannot be re-labelled with another key id.
The pipeline never decrypts envelopes on the wire; a key holder opens them with :func:`decrypt_envelope`.
"""

from __future__ import annotations

import base64
import re

from mcpguard.crypto import KeyProvider, open_sealed, seal
from mcpguard.errors import CryptoError

ENVELOPE_RE = re.compile(r"\[\[ENC:v1:([a-z0-9_-]{1,64}):([A-Za-z0-9_-]+)\]\]")


def _aad(kid: str) -> bytes:
    return f"mcpguard-enc:v1:{kid}".encode()


def encrypt(value: str, key: bytes, kid: str) -> str:
    """The envelope for ``value`` under ``key`` (32 bytes) named ``kid``."""
    blob = seal(key, value.encode("utf-8", "surrogatepass"), _aad(kid))
    return f"[[ENC:v1:{kid}:{base64.urlsafe_b64encode(blob).rstrip(b'=').decode()}]]"


def decrypt_envelope(envelope: str, keys: KeyProvider) -> str:
    """The value inside one envelope string; raises :class:`CryptoError` if it is malformed, its key is unknown
    (:class:`mcpguard.errors.KeyUnavailable`) or it fails authentication."""
    m = ENVELOPE_RE.fullmatch(envelope.strip())
    if m is None:
        raise CryptoError("not an mcpguard encryption envelope")
    kid, payload = m.groups()
    try:
        blob = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except ValueError:
        raise CryptoError("envelope payload is not base64url") from None
    return open_sealed(keys.get(kid), blob, _aad(kid)).decode("utf-8", "surrogatepass")


def opens_with(envelope: str, key: bytes, kid: str) -> bool:
    """True when ``envelope`` is exactly one envelope naming ``kid`` that authenticates under ``key`` (so mcpguard
    made it). Never raises; the value is decrypted and discarded."""
    m = ENVELOPE_RE.fullmatch(envelope)
    if m is None or m.group(1) != kid:
        return False
    try:
        blob = base64.urlsafe_b64decode(m.group(2) + "=" * (-len(m.group(2)) % 4))
        open_sealed(key, blob, _aad(kid))
    except (ValueError, CryptoError):
        return False
    return True


__all__ = ["ENVELOPE_RE", "decrypt_envelope", "encrypt", "opens_with"]
