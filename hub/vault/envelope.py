"""Envelope encryption of one vault record: pure functions over a KEK provider (no storage).

For a credential value ``v`` of record ``r``::

    dek         = 32 random bytes (fresh for every write; each DEK encrypts exactly one value, once)
    ciphertext  = AES-256-GCM(dek, v, aad = data_aad(r))                   nonce(12) || ct || tag(16)
    wrapped_dek = provider.wrap(kek_version, dek, aad = wrap_aad(r, kek_version))

``data_aad`` binds tenant, user id, connector, credential name and record id; ``wrap_aad`` binds the same plus the
KEK version. A ciphertext or wrapped key copied into another row, another user's row, or relabelled with another KEK
version fails authentication (:class:`mcpguard.errors.CryptoError`), and nothing is returned. The KEK version sits in
the wrap's associated data rather than the value's so that rotation re-wraps the 60-byte data key without decrypting
the value (NIST SP 800-38D for GCM; the envelope pattern of NIST SP 800-57 Part 1 §6.1.1).

The fingerprint is ``HMAC-SHA256(fingerprint_key, context || value)`` truncated to 12 hex characters: enough to tell
two values apart in a listing, useless for guessing a value without the key, and different per user for the same
value (so listings do not reveal that two users share a key).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import orjson

from mcpguard.crypto import generate_key, open_sealed, seal
from mcpguard.errors import CryptoError

from hub.vault.kek import KeyEncryptionKeyProvider

#: Format label at the front of every associated-data string; a new layout gets a new label.
AAD_LABEL = b"mcpguard-vault/1"
FINGERPRINT_HEX = 12


@dataclass(frozen=True, slots=True)
class RecordContext:
    """Who and what a record belongs to; every field is bound into the associated data."""

    tenant: str
    user_id: str
    connector: str
    name: str
    record_id: str

    def _fields(self) -> dict[str, str]:
        return {
            "tenant": self.tenant,
            "user": self.user_id,
            "connector": self.connector,
            "name": self.name,
            "record": self.record_id,
        }


def data_aad(ctx: RecordContext) -> bytes:
    """Associated data for the value's ciphertext: label, NUL, canonical JSON (sorted keys) of the context."""
    return AAD_LABEL + b"\0data\0" + orjson.dumps(ctx._fields(), option=orjson.OPT_SORT_KEYS)


def wrap_aad(ctx: RecordContext, kek_version: int) -> bytes:
    """Associated data for the wrapped data key: the context plus the KEK version."""
    fields = {**ctx._fields(), "kek_version": int(kek_version)}
    return AAD_LABEL + b"\0dek\0" + orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def encrypt(provider: KeyEncryptionKeyProvider, kek_version: int, ctx: RecordContext, value: bytes) -> tuple[bytes, bytes]:
    """Encrypt ``value`` under a fresh data key; returns ``(wrapped_dek, ciphertext)``."""
    dek = generate_key()
    ciphertext = seal(dek, value, data_aad(ctx))
    wrapped = provider.wrap(kek_version, dek, wrap_aad(ctx, kek_version))
    return wrapped, ciphertext


def decrypt(
    provider: KeyEncryptionKeyProvider, kek_version: int, ctx: RecordContext, wrapped_dek: bytes, ciphertext: bytes
) -> bytes:
    """Unwrap the data key and open the value; :class:`CryptoError` on any mismatch (never a partial value)."""
    dek = provider.unwrap(kek_version, wrapped_dek, wrap_aad(ctx, kek_version))
    if len(dek) != 32:
        raise CryptoError("unwrapped data key has the wrong length")
    return open_sealed(dek, ciphertext, data_aad(ctx))


def rewrap(
    provider: KeyEncryptionKeyProvider, ctx: RecordContext, wrapped_dek: bytes, old_version: int, new_version: int
) -> bytes:
    """Re-wrap a data key from KEK ``old_version`` to ``new_version`` without touching the value's ciphertext."""
    dek = provider.unwrap(old_version, wrapped_dek, wrap_aad(ctx, old_version))
    return provider.wrap(new_version, dek, wrap_aad(ctx, new_version))


def fingerprint(key: bytes, ctx: RecordContext, value: bytes) -> str:
    """Short keyed fingerprint of ``value`` for listings (12 hex chars of HMAC-SHA256; see the module docstring).
    The record id is left out so re-storing the same value keeps the fingerprint."""
    scope = orjson.dumps([ctx.tenant, ctx.user_id, ctx.connector, ctx.name])
    mac = hmac.new(key, AAD_LABEL + b"\0fp\0" + scope + b"\0" + value, hashlib.sha256)
    return mac.hexdigest()[:FINGERPRINT_HEX]


__all__ = ["RecordContext", "data_aad", "decrypt", "encrypt", "fingerprint", "rewrap", "wrap_aad"]
