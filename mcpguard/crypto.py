"""AEAD envelope and key providers, shared by the ``encrypt`` action, the token store and the hub vault.

The envelope is AES-256-GCM (NIST SP 800-38D) with a 96-bit random nonce: ``nonce (12 bytes) || ciphertext || tag
(16 bytes)``. Associated data binds a ciphertext to its context (record id, user, server …): a ciphertext moved to
another context fails to open. Failures raise :class:`mcpguard.errors.CryptoError`; there is no plaintext fallback.

``cryptography`` is imported on the first :func:`seal` / :func:`open_sealed` (~15 ms): the stdio wrapper builds its
pipeline while an editor waits, and many sessions never seal anything (keys are read and HMACs computed with the
standard library).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from mcpguard.errors import CryptoError, KeyUnavailable

KEY_BYTES = 32
NONCE_BYTES = 12

#: Names of the keys the pipeline asks its :class:`KeyProvider` for. One key per purpose, so a leak of one (e.g. the
#: audit fingerprint key shared with an auditor) does not open the others.
TOKEN_ID_KEY = "token-id"  # HMAC-SHA256: derives token ids from values
TOKEN_SEAL_KEY = "token-seal"  # AES-256-GCM: seals token → value mappings at rest
AUDIT_FP_KEY = "audit-fp"  # HMAC-SHA256: value fingerprints in audit records
DEFAULT_ENCRYPT_KEY = "encrypt"  # AES-256-GCM: the inline ``encrypt`` action (its name is the envelope's key id)


@runtime_checkable
class KeyProvider(Protocol):
    """Anything that returns a named 32-byte key or raises :class:`KeyUnavailable`."""

    def get(self, name: str) -> bytes:
        """The key called ``name`` (32 bytes)."""
        ...


def keyed_hash(key: bytes, *parts: str, length: int = 32) -> str:
    """HMAC-SHA256 (RFC 2104) of ``parts`` joined with NUL, as ``length`` lowercase hex characters (≤ 64).

    Used for token ids and audit fingerprints: without the key a low-entropy value (a phone number) cannot be
    recovered by hashing candidates.
    """
    mac = hmac.new(key, "\0".join(parts).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return mac[:length]


def generate_key() -> bytes:
    """A fresh 256-bit key from the OS CSPRNG (``os.urandom``, as ``AESGCM.generate_key`` does)."""
    return os.urandom(KEY_BYTES)


def _aesgcm(key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def seal(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Encrypt ``plaintext`` under ``key`` (32 bytes) with associated data ``aad``; returns ``nonce || ct || tag``."""
    if len(key) != KEY_BYTES:
        raise CryptoError("AES-256-GCM needs a 32-byte key")
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _aesgcm(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    """Decrypt a :func:`seal` envelope; raises :class:`CryptoError` on a wrong key, tampered bytes or other ``aad``."""
    if len(key) != KEY_BYTES:
        raise CryptoError("AES-256-GCM needs a 32-byte key")
    if len(blob) < NONCE_BYTES + 16:
        raise CryptoError("ciphertext too short")
    from cryptography.exceptions import InvalidTag

    try:
        return _aesgcm(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag:
        raise CryptoError("ciphertext failed authentication (wrong key, tampered data or wrong context)") from None


class FileKeyProvider:
    """Named 32-byte keys stored one per file in ``directory`` (created ``0700``; key files ``0600``).

    ``get(name)`` creates a missing key when ``create`` is true; an existing key file with group/other permissions or
    the wrong length raises :class:`KeyUnavailable` rather than being used.
    """

    def __init__(self, directory: str | os.PathLike[str], *, create: bool = True) -> None:
        self.directory = Path(directory).expanduser()
        self.create = create

    def get(self, name: str) -> bytes:
        """The key called ``name`` (``[a-z0-9_-]+``), 32 bytes."""
        if not name.replace("-", "").replace("_", "").isalnum():
            raise KeyUnavailable(f"invalid key name {name!r}")
        path = self.directory / f"{name}.key"
        if not path.exists():
            if not self.create:
                raise KeyUnavailable(f"key {name!r} not found in {self.directory}")
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = generate_key()
            # Write a private temp file, then hard-link it into place: link() fails if the name exists, so two
            # processes starting at once never see a half-written key and agree on one key.
            tmp = self.directory / f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(base64.b64encode(key) + b"\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    return self.get(name)
            finally:
                tmp.unlink(missing_ok=True)
            return key
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyUnavailable(f"key file {path} is readable by group or others; chmod 600 it")
        try:
            key = base64.b64decode(path.read_bytes().strip(), validate=True)
        except (OSError, ValueError):
            raise KeyUnavailable(f"key file {path} is unreadable or not base64") from None
        if len(key) != KEY_BYTES:
            raise KeyUnavailable(f"key file {path} does not hold a 32-byte key")
        return key


class EnvKeyProvider:
    """Named keys from environment variables ``{prefix}{NAME}`` holding base64 of 32 bytes (``NAME`` upper-cased,
    ``-`` → ``_``). A missing or malformed variable raises :class:`KeyUnavailable` naming the variable, not its value."""

    def __init__(self, prefix: str = "MCPGUARD_KEY_", environ: dict[str, str] | None = None) -> None:
        self.prefix = prefix
        self.environ = os.environ if environ is None else environ

    def get(self, name: str) -> bytes:
        """The key called ``name`` from ``{prefix}{NAME}``."""
        var = self.prefix + name.upper().replace("-", "_")
        raw = self.environ.get(var)
        if not raw:
            raise KeyUnavailable(f"environment variable {var} is not set")
        try:
            key = base64.b64decode(raw.strip(), validate=True)
        except ValueError:
            raise KeyUnavailable(f"environment variable {var} is not base64") from None
        if len(key) != KEY_BYTES:
            raise KeyUnavailable(f"environment variable {var} does not hold a 32-byte key")
        return key


class MemoryKeyProvider:
    """Keys held in a dict (tests, the hub when it manages keys itself). ``create`` generates missing keys on first
    use; otherwise a missing name raises :class:`KeyUnavailable`."""

    def __init__(self, keys: dict[str, bytes] | None = None, *, create: bool = True) -> None:
        self._keys = dict(keys or {})
        self.create = create

    def get(self, name: str) -> bytes:
        """The key called ``name``."""
        key = self._keys.get(name)
        if key is None:
            if not self.create:
                raise KeyUnavailable(f"key {name!r} is not configured")
            key = self._keys[name] = generate_key()
        if len(key) != KEY_BYTES:
            raise KeyUnavailable(f"key {name!r} does not hold 32 bytes")
        return key


def key_provider_from_config(keys_config) -> KeyProvider:  # noqa: ANN001 - mcpguard.config.KeysConfig
    """The :class:`KeyProvider` described by a ``[keys]`` section: ``file`` → :class:`FileKeyProvider` on ``dir``
    (keys created on first use), ``env`` → :class:`EnvKeyProvider` with ``env_prefix``."""
    if keys_config.provider == "env":
        return EnvKeyProvider(keys_config.env_prefix)
    return FileKeyProvider(keys_config.dir)
