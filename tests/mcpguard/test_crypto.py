import base64
import os
import threading

import pytest

from mcpguard.crypto import (EnvKeyProvider, FileKeyProvider, MemoryKeyProvider, keyed_hash, key_provider_from_config,
                             open_sealed, seal)
from mcpguard.config import KeysConfig
from mcpguard.errors import CryptoError, KeyUnavailable


def test_seal_binds_associated_data():
    key = os.urandom(32)
    blob = seal(key, b"v", b"ctx-a")
    assert open_sealed(key, blob, b"ctx-a") == b"v"
    with pytest.raises(CryptoError):
        open_sealed(key, blob, b"ctx-b")


def test_keyed_hash_is_keyed_and_separates_parts():
    k1, k2 = os.urandom(32), os.urandom(32)
    assert keyed_hash(k1, "a", "b") != keyed_hash(k2, "a", "b")
    assert keyed_hash(k1, "ab", "") != keyed_hash(k1, "a", "b")
    assert len(keyed_hash(k1, "x", length=12)) == 12


def test_file_provider_creates_private_keys_once_even_when_racing(tmp_path):
    results = []
    start = threading.Barrier(6)

    def get():
        start.wait()
        results.append(FileKeyProvider(tmp_path / "keys").get("token-id"))

    threads = [threading.Thread(target=get) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results[0]) == 32
    path = tmp_path / "keys" / "token-id.key"
    assert path.stat().st_mode & 0o077 == 0
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["token-id.key"]  # no temp files left


def test_file_provider_refuses_loose_permissions_and_missing_keys(tmp_path):
    p = FileKeyProvider(tmp_path)
    p.get("k")
    os.chmod(tmp_path / "k.key", 0o644)
    with pytest.raises(KeyUnavailable, match="chmod 600"):
        p.get("k")
    with pytest.raises(KeyUnavailable):
        FileKeyProvider(tmp_path, create=False).get("other")
    with pytest.raises(KeyUnavailable):
        p.get("../escape")


def test_env_provider_names_the_variable_not_the_value():
    key = base64.b64encode(os.urandom(32)).decode()
    assert len(EnvKeyProvider(environ={"MCPGUARD_KEY_TOKEN_ID": key}).get("token-id")) == 32
    with pytest.raises(KeyUnavailable, match="MCPGUARD_KEY_AUDIT_FP"):
        EnvKeyProvider(environ={}).get("audit-fp")
    with pytest.raises(KeyUnavailable) as exc:
        EnvKeyProvider(environ={"MCPGUARD_KEY_X": "c2hvcnQ="}).get("x")
    assert "c2hvcnQ" not in str(exc.value)


def test_memory_provider_and_config_factory(tmp_path):
    m = MemoryKeyProvider()
    assert m.get("a") == m.get("a") != m.get("b")
    with pytest.raises(KeyUnavailable):
        MemoryKeyProvider(create=False).get("a")
    assert isinstance(key_provider_from_config(KeysConfig(provider="env")), EnvKeyProvider)
    assert isinstance(key_provider_from_config(KeysConfig(dir=str(tmp_path))), FileKeyProvider)
