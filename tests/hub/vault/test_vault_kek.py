"""hub.vault.kek: file and env KEK providers."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from mcpguard.errors import CryptoError, KeyUnavailable

from hub.vault.kek import EnvKEKProvider, FileKEKProvider, KeyEncryptionKeyProvider

DEK = bytes(range(32))


def test_file_provider_creates_private_versioned_keys(tmp_path: Path) -> None:
    p = FileKEKProvider(tmp_path / "keys")
    assert p.versions() == []
    assert p.create_version() == 1 and p.create_version() == 2
    assert p.versions() == [1, 2]
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    for v in (1, 2):
        assert stat.S_IMODE((tmp_path / "keys" / f"kek-v{v}.key").stat().st_mode) == 0o600
    assert isinstance(p, KeyEncryptionKeyProvider)


def test_file_provider_wraps_bound_to_version_and_aad(tmp_path: Path) -> None:
    p = FileKEKProvider(tmp_path)
    p.create_version(), p.create_version()
    wrapped = p.wrap(1, DEK, b"ctx")
    assert DEK not in wrapped
    assert FileKEKProvider(tmp_path).unwrap(1, wrapped, b"ctx") == DEK  # a fresh instance reads the file
    with pytest.raises(CryptoError):
        p.unwrap(2, wrapped, b"ctx")
    with pytest.raises(CryptoError):
        p.unwrap(1, wrapped, b"other")
    assert p.check_value(1) != p.check_value(2) and len(p.check_value(1)) == 32


def test_file_provider_refuses_group_readable_key_and_missing_version(tmp_path: Path) -> None:
    p = FileKEKProvider(tmp_path)
    p.create_version()
    os.chmod(tmp_path / "kek-v1.key", 0o640)
    with pytest.raises(KeyUnavailable, match="chmod 600"):
        FileKEKProvider(tmp_path).wrap(1, DEK, b"")
    with pytest.raises(KeyUnavailable):
        p.wrap(7, DEK, b"")  # never creates a key on use


def test_file_provider_retire_destroys_the_key(tmp_path: Path) -> None:
    p = FileKEKProvider(tmp_path)
    p.create_version(), p.create_version()
    wrapped = p.wrap(1, DEK, b"")
    p.retire(1)
    assert p.versions() == [2] and not (tmp_path / "kek-v1.key").exists()
    with pytest.raises(KeyUnavailable):
        p.unwrap(1, wrapped, b"")


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_env_provider_versions_and_errors_name_variables_not_values() -> None:
    k1, k2 = os.urandom(32), os.urandom(32)
    env = {"MCPGUARD_VAULT_KEK_V1": _b64(k1), "MCPGUARD_VAULT_KEK_V2": _b64(k2), "MCPGUARD_VAULT_KEK_FINGERPRINT": "x",
           "OTHER": "y"}
    p = EnvKEKProvider(environ=env)
    assert p.versions() == [1, 2]
    assert p.unwrap(2, p.wrap(2, DEK, b"a"), b"a") == DEK
    with pytest.raises(KeyUnavailable, match="MCPGUARD_VAULT_KEK_V3") as err:
        p.create_version()
    assert _b64(k1) not in str(err.value)
    p.retire(1)
    assert p.versions() == [2]
    with pytest.raises(KeyUnavailable):
        p.wrap(1, DEK, b"")


def test_env_provider_rejects_malformed_key() -> None:
    p = EnvKEKProvider(environ={"MCPGUARD_VAULT_KEK_V1": _b64(b"short")})
    with pytest.raises(KeyUnavailable, match="MCPGUARD_VAULT_KEK_V1") as err:
        p.wrap(1, DEK, b"")
    assert _b64(b"short") not in str(err.value)
