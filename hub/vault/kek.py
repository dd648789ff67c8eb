"""Key-encryption keys (KEKs): the keys that wrap the vault's per-record data keys.

A :class:`KeyEncryptionKeyProvider` holds numbered KEK versions (1, 2, …). The vault wraps each data key under the
provider's current version and records that version on the row; rotation creates a new version and re-wraps every
data key under it (:meth:`hub.vault.store.Vault.rotate_kek`); retiring destroys an old version once no row uses it.

Wrapping is AES-256-GCM (NIST SP 800-38D) via :func:`mcpguard.crypto.seal` with associated data that binds the
wrapped key to its row (see :mod:`hub.vault.envelope`). RFC 5649 key wrap would also do, but it carries no associated
data, and binding the wrapped key to (tenant, user, connector, name, KEK version, record id) is the point.

Providers here:

- :class:`FileKEKProvider`: ``kek-v{N}.key`` files (base64 of 32 bytes) in a ``0700`` directory, each ``0600``;
  created on demand. For development and single-host installs.
- :class:`EnvKEKProvider`: ``{prefix}V{N}`` environment variables (base64 of 32 bytes), e.g. from a Kubernetes
  Secret. New versions are added by the operator; the hub cannot create them.

Remote key services (Azure Key Vault ``wrapKey``/``unwrapKey``, HashiCorp Vault Transit ``encrypt``/``decrypt`` with
``associated_data``) plug in by implementing the same protocol; the KEK then never leaves the service.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from mcpguard.crypto import EnvKeyProvider, FileKeyProvider, open_sealed, seal
from mcpguard.errors import KeyUnavailable

_FILE_NAME = re.compile(r"^kek-v([1-9][0-9]{0,8})\.key$")


@runtime_checkable
class KeyEncryptionKeyProvider(Protocol):
    """Numbered KEK versions that wrap and unwrap 32-byte data keys. Every method raises
    :class:`mcpguard.errors.KeyUnavailable` when a version is missing and :class:`mcpguard.errors.CryptoError` when
    an unwrap fails authentication; messages never hold key bytes."""

    #: Short provider name recorded with each KEK version (``file``, ``env``, ``azure-keyvault`` …).
    name: str

    def versions(self) -> list[int]:
        """KEK versions this provider can use now, ascending."""
        ...

    def create_version(self) -> int:
        """Make a new version (``max(versions()) + 1``, or 1) and return it; providers that cannot (env) raise
        :class:`KeyUnavailable` saying what the operator must do."""
        ...

    def wrap(self, version: int, dek: bytes, aad: bytes) -> bytes:
        """Wrap data key ``dek`` under KEK ``version`` bound to ``aad``; returns opaque bytes."""
        ...

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        """Inverse of :meth:`wrap`; :class:`CryptoError` when ``wrapped`` or ``aad`` differ."""
        ...

    def check_value(self, version: int) -> str:
        """A public, key-dependent tag (hex) that tells whether the key behind ``version`` is the one the vault
        recorded when it first used it; never reveals the key."""
        ...

    def retire(self, version: int) -> None:
        """Destroy (or forget) ``version``. The vault calls this only when no row uses it."""
        ...


def _check_value(key: bytes) -> str:
    # A key commitment: HMAC under the KEK of a fixed label. Lets start-up detect a replaced key file before any
    # unwrap fails, without revealing anything about the key.
    return hmac.new(key, b"mcpguard-vault/kek-check/1", hashlib.sha256).hexdigest()[:32]


class FileKEKProvider:
    """KEK versions as files ``{directory}/kek-v{N}.key`` via :class:`mcpguard.crypto.FileKeyProvider` (directory
    ``0700``, files ``0600``; a file readable by group/other is refused). Keys are cached in memory after first use."""

    name = "file"

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory).expanduser()
        self._read = FileKeyProvider(self.directory, create=False)
        self._make = FileKeyProvider(self.directory, create=True)
        self._cache: dict[int, bytes] = {}
        self._lock = threading.Lock()

    def versions(self) -> list[int]:
        """KEK versions present as ``kek-v{N}.key`` files, ascending; [] if the directory is missing."""
        if not self.directory.is_dir():
            return []
        found = (_FILE_NAME.match(p.name) for p in self.directory.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def create_version(self) -> int:
        """Create ``kek-v{N+1}.key`` (32 random bytes, ``0600``) and return N+1."""
        with self._lock:
            version = max(self.versions(), default=0) + 1
            self._cache[version] = self._make.get(f"kek-v{version}")
            return version

    def _key(self, version: int) -> bytes:
        key = self._cache.get(version)
        if key is None:
            key = self._read.get(f"kek-v{int(version)}")
            self._cache[version] = key
        return key

    def wrap(self, version: int, dek: bytes, aad: bytes) -> bytes:
        """Seal ``dek`` under KEK ``version`` with ``aad`` (AES-256-GCM, ``mcpguard.crypto.seal``)."""
        return seal(self._key(version), dek, aad)

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        """Inverse of ``wrap``; raises ``CryptoError`` on a wrong key, tampering or other ``aad``."""
        return open_sealed(self._key(version), wrapped, aad)

    def check_value(self, version: int) -> str:
        """Key commitment of KEK ``version``: 32 hex chars of HMAC-SHA256 over a fixed label."""
        return _check_value(self._key(version))

    def retire(self, version: int) -> None:
        """Overwrite (best effort) and delete the key file of ``version``."""
        path = self.directory / f"kek-v{int(version)}.key"
        with self._lock:
            self._cache.pop(version, None)
            if path.exists():
                # Overwrite before unlinking: a best effort on filesystems that write in place (not on CoW/SSDs).
                size = path.stat().st_size
                with open(path, "r+b") as fh:
                    fh.write(os.urandom(size))
                    fh.flush()
                    os.fsync(fh.fileno())
                path.unlink()


class EnvKEKProvider:
    """KEK versions from environment variables ``{prefix}V{N}`` holding base64 of 32 bytes (e.g.
    ``MCPGUARD_VAULT_KEK_V1``). The highest present version is current. :meth:`create_version` cannot mint keys: it
    raises :class:`KeyUnavailable` naming the variable to set. :meth:`retire` forgets the cached key; the operator
    then removes the variable."""

    name = "env"

    def __init__(self, prefix: str = "MCPGUARD_VAULT_KEK_", environ: Mapping[str, str] | None = None) -> None:
        self.prefix = prefix
        self.environ = os.environ if environ is None else environ
        self._keys = EnvKeyProvider(prefix, environ=dict(self.environ) if environ is not None else None)
        self._pattern = re.compile("^" + re.escape(prefix) + r"V([1-9][0-9]{0,8})$")
        self._retired: set[int] = set()

    def versions(self) -> list[int]:
        """KEK versions set as ``{prefix}V{N}`` variables and not retired, ascending."""
        found = (self._pattern.match(k) for k in self.environ)
        return sorted(v for v in (int(m.group(1)) for m in found if m) if v not in self._retired)

    def create_version(self) -> int:
        """Always raises ``KeyUnavailable``: the operator must set ``{prefix}V{N+1}`` and restart."""
        want = max(self.versions(), default=0) + 1
        raise KeyUnavailable(
            f"the env KEK provider cannot create keys: set {self.prefix}V{want} to base64 of 32 random bytes "
            "(e.g. `openssl rand -base64 32`), restart, then rerun rotate-kek"
        )

    def _key(self, version: int) -> bytes:
        if version in self._retired:
            raise KeyUnavailable(f"KEK version {version} is retired")
        return self._keys.get(f"v{int(version)}")

    def wrap(self, version: int, dek: bytes, aad: bytes) -> bytes:
        """Seal ``dek`` under KEK ``version`` with ``aad`` (AES-256-GCM, ``mcpguard.crypto.seal``)."""
        return seal(self._key(version), dek, aad)

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        """Inverse of ``wrap``; raises ``CryptoError`` on a wrong key, tampering or other ``aad``."""
        return open_sealed(self._key(version), wrapped, aad)

    def check_value(self, version: int) -> str:
        """Key commitment of KEK ``version``: 32 hex chars of HMAC-SHA256 over a fixed label."""
        return _check_value(self._key(version))

    def retire(self, version: int) -> None:
        """Stop using ``version`` in this process (the variable itself is the operator's to remove)."""
        self._retired.add(version)


__all__ = ["EnvKEKProvider", "FileKEKProvider", "KeyEncryptionKeyProvider"]
