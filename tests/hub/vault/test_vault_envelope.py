"""hub.vault.envelope: associated data binds every context field; rewrap leaves the value's ciphertext alone."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mcpguard.errors import CryptoError

from hub.vault import envelope
from hub.vault.envelope import RecordContext
from hub.vault.kek import FileKEKProvider

CTX = RecordContext("dev", "alice@example.com", "github", "GITHUB_TOKEN", "rec-1")
VALUE = b"ghp_envelopeSecret"


@pytest.fixture
def kek(tmp_path: Path) -> FileKEKProvider:
    p = FileKEKProvider(tmp_path)
    p.create_version(), p.create_version()
    return p


def test_roundtrip_and_fresh_data_key_per_encryption(kek: FileKEKProvider) -> None:
    w1, c1 = envelope.encrypt(kek, 1, CTX, VALUE)
    w2, c2 = envelope.encrypt(kek, 1, CTX, VALUE)
    assert w1 != w2 and c1 != c2 and VALUE not in c1
    assert envelope.decrypt(kek, 1, CTX, w1, c1) == VALUE


@pytest.mark.parametrize("field", ["tenant", "user_id", "connector", "name", "record_id"])
def test_every_context_field_is_bound(kek: FileKEKProvider, field: str) -> None:
    wrapped, ct = envelope.encrypt(kek, 1, CTX, VALUE)
    moved = dataclasses.replace(CTX, **{field: "other"})
    with pytest.raises(CryptoError):
        envelope.decrypt(kek, 1, moved, wrapped, ct)


def test_kek_version_is_bound(kek: FileKEKProvider) -> None:
    wrapped, ct = envelope.encrypt(kek, 1, CTX, VALUE)
    with pytest.raises(CryptoError):
        envelope.decrypt(kek, 2, CTX, wrapped, ct)


def test_rewrap_moves_the_data_key_only(kek: FileKEKProvider) -> None:
    wrapped, ct = envelope.encrypt(kek, 1, CTX, VALUE)
    new = envelope.rewrap(kek, CTX, wrapped, 1, 2)
    assert envelope.decrypt(kek, 2, CTX, new, ct) == VALUE
    with pytest.raises(CryptoError):
        envelope.decrypt(kek, 1, CTX, new, ct)


def test_aad_encoding_is_unambiguous() -> None:
    a = RecordContext("t", "a|b", "c", "n", "r")
    b = RecordContext("t", "a", "b|c", "n", "r")
    assert envelope.data_aad(a) != envelope.data_aad(b)
    assert envelope.wrap_aad(a, 1) != envelope.wrap_aad(a, 2)


def test_fingerprint_is_keyed_short_and_scoped() -> None:
    k1, k2 = bytes(32), bytes([1] * 32)
    fp = envelope.fingerprint(k1, CTX, VALUE)
    assert len(fp) == 12 and VALUE.decode() not in fp
    assert fp == envelope.fingerprint(k1, dataclasses.replace(CTX, record_id="rec-2"), VALUE)
    assert fp != envelope.fingerprint(k2, CTX, VALUE)
    assert fp != envelope.fingerprint(k1, dataclasses.replace(CTX, user_id="bob"), VALUE)
