"""hub.vault.store on SQLite and PostgreSQL: write-only reads, tamper and row swaps fail closed, rotation, limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select, update

from mcpguard.errors import CryptoError, KeyUnavailable

from hub.vault import make_engine
from hub.vault.kek import FileKEKProvider
from hub.vault.migrate import current_revision, downgrade, head_revision, upgrade
from hub.vault.models import CredentialRow, KekVersionRow
from hub.vault.store import KekInUse, Vault

FP_KEY = bytes(range(32))

SECRET = "ghp_s3cretValue0123456789abcdefABCDEF"
OWNER = dict(tenant="dev", user_id="alice@example.com", connector="github", name="token")


def _row(vault: Vault, user_id: str = "alice@example.com", name: str = "token") -> CredentialRow:
    with vault.sessions() as s:
        return s.scalars(select(CredentialRow).where(CredentialRow.user_id == user_id,
                                                     CredentialRow.name == name)).one()


def _set(vault: Vault, record_id: str, **values: object) -> None:
    with vault.sessions.begin() as s:
        s.execute(update(CredentialRow).where(CredentialRow.id == record_id).values(**values))


def _flip(blob: bytes, at: int) -> bytes:
    b = bytearray(blob)
    b[at] ^= 0x01
    return bytes(b)


def test_migrations_reach_head_and_rerun_is_a_no_op(vault: Vault, engine: Engine) -> None:
    assert current_revision(engine) == head_revision() != ""
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"vault_credentials", "vault_kek_versions", "hub_users", "hub_grants", "vault_alembic_version"} <= tables


def test_put_reveal_and_metadata_only_reads(vault: Vault) -> None:
    meta, created = vault.put(**OWNER, value=SECRET)
    assert created and meta.kek_version == 1 and len(meta.fingerprint) == 12
    assert vault.reveal(**OWNER) == SECRET
    listed = vault.list(tenant="dev", user_id="alice@example.com")
    assert [(m.connector, m.name) for m in listed] == [("github", "token")]
    # No read path carries the value, in any field.
    for m in [*listed, vault.get_meta(**OWNER)]:
        assert SECRET not in repr(m)
    # And the database holds no plaintext either.
    row = _row(vault)
    assert SECRET.encode() not in row.ciphertext + row.wrapped_dek


def test_replace_keeps_id_and_created_new_fingerprint_and_dek(vault: Vault) -> None:
    first, _ = vault.put(**OWNER, value=SECRET)
    before = _row(vault)
    second, created = vault.put(**OWNER, value=SECRET + "x")
    after = _row(vault)
    assert not created
    assert after.id == before.id and second.created_at == first.created_at
    assert second.fingerprint != first.fingerprint
    assert after.wrapped_dek != before.wrapped_dek and after.ciphertext != before.ciphertext
    assert vault.reveal(**OWNER) == SECRET + "x"


def test_fingerprint_is_per_user_and_stable_for_the_same_value(vault: Vault) -> None:
    a, _ = vault.put(**OWNER, value=SECRET)
    a2, _ = vault.put(**OWNER, value=SECRET)
    b, _ = vault.put(**{**OWNER, "user_id": "bob@example.com"}, value=SECRET)
    assert a.fingerprint == a2.fingerprint != b.fingerprint


def test_users_and_tenants_are_isolated(vault: Vault) -> None:
    vault.put(**OWNER, value=SECRET)
    assert vault.reveal(**{**OWNER, "user_id": "bob@example.com"}) is None
    assert vault.reveal(**{**OWNER, "tenant": "other"}) is None
    assert vault.list(tenant="dev", user_id="bob@example.com") == []


def test_expired_credentials_are_not_revealed(engine: Engine, kek: FileKEKProvider) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    vault = Vault.open(engine, kek, FP_KEY, clock=lambda: now[0])
    vault.put(**OWNER, value=SECRET, expires_at=now[0] + timedelta(hours=1))
    assert vault.reveal(**OWNER) == SECRET
    now[0] += timedelta(hours=2)
    assert vault.reveal(**OWNER) is None
    meta = vault.get_meta(**OWNER)
    assert meta is not None and meta.expired(now[0])


def test_last_used_is_updated_at_most_once_a_minute(engine: Engine, kek: FileKEKProvider) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    vault = Vault.open(engine, kek, FP_KEY, clock=lambda: now[0])
    vault.put(**OWNER, value=SECRET)
    assert vault.get_meta(**OWNER).last_used_at is None  # type: ignore[union-attr]
    vault.reveal(**OWNER)
    t1 = vault.get_meta(**OWNER).last_used_at  # type: ignore[union-attr]
    assert t1 == now[0]
    now[0] += timedelta(seconds=10)
    vault.reveal(**OWNER)
    assert vault.get_meta(**OWNER).last_used_at == t1  # type: ignore[union-attr]
    now[0] += timedelta(seconds=60)
    vault.reveal(**OWNER)
    assert vault.get_meta(**OWNER).last_used_at == now[0]  # type: ignore[union-attr]


@pytest.mark.parametrize("field", ["ciphertext", "wrapped_dek"])
@pytest.mark.parametrize("where", ["nonce", "middle", "tag"])
def test_flipped_byte_fails_closed(vault: Vault, field: str, where: str) -> None:
    vault.put(**OWNER, value=SECRET)
    row = _row(vault)
    blob: bytes = getattr(row, field)
    at = {"nonce": 0, "middle": len(blob) // 2, "tag": len(blob) - 1}[where]
    _set(vault, row.id, **{field: _flip(blob, at)})
    with pytest.raises(CryptoError) as err:
        vault.reveal(**OWNER)
    assert SECRET not in str(err.value)


def test_truncated_ciphertext_fails_closed(vault: Vault) -> None:
    vault.put(**OWNER, value=SECRET)
    row = _row(vault)
    _set(vault, row.id, ciphertext=row.ciphertext[:20])
    with pytest.raises(CryptoError):
        vault.reveal(**OWNER)


def test_rows_swapped_between_users_fail_closed(vault: Vault) -> None:
    bob = {**OWNER, "user_id": "bob@example.com"}
    vault.put(**OWNER, value=SECRET)
    vault.put(**bob, value="bob-" + SECRET)
    a, b = _row(vault), _row(vault, "bob@example.com")
    _set(vault, a.id, ciphertext=b.ciphertext, wrapped_dek=b.wrapped_dek)
    _set(vault, b.id, ciphertext=a.ciphertext, wrapped_dek=a.wrapped_dek)
    for owner in (OWNER, bob):
        with pytest.raises(CryptoError):
            vault.reveal(**owner)


def test_ciphertext_only_swap_between_names_fails_closed(vault: Vault) -> None:
    other = {**OWNER, "name": "other"}
    vault.put(**OWNER, value=SECRET)
    vault.put(**other, value="x" + SECRET)
    a, b = _row(vault), _row(vault, name="other")
    _set(vault, a.id, ciphertext=b.ciphertext)
    with pytest.raises(CryptoError):
        vault.reveal(**OWNER)


def test_row_relabelled_to_another_user_fails_closed(vault: Vault) -> None:
    vault.put(**OWNER, value=SECRET)
    _set(vault, _row(vault).id, user_id="mallory@example.com")
    with pytest.raises(CryptoError):
        vault.reveal(**{**OWNER, "user_id": "mallory@example.com"})


def test_kek_version_relabel_fails_closed(vault: Vault) -> None:
    vault.put(**OWNER, value=SECRET)
    vault.rotate_kek()
    # Point the row back at version 1 (still available): the wrap's associated data names version 2.
    _set(vault, _row(vault).id, kek_version=1)
    with pytest.raises(CryptoError):
        vault.reveal(**OWNER)


def test_rotation_rewraps_online_and_retires_old_version(vault: Vault, kek: FileKEKProvider) -> None:
    for i in range(5):
        vault.put(**{**OWNER, "user_id": f"u{i}@example.com"}, value=f"{SECRET}-{i}")
    cipher_before = _row(vault, "u0@example.com").ciphertext
    with pytest.raises(KekInUse):
        vault.retire_kek(1)  # current
    report = vault.rotate_kek(batch=2)
    assert report.version == 2 and report.rewrapped == 5 and report.remaining == {}
    row = _row(vault, "u0@example.com")
    assert row.kek_version == 2 and row.ciphertext == cipher_before  # only the data key was re-wrapped
    # A write after rotation uses the new version.
    meta, _ = vault.put(**OWNER, value=SECRET)
    assert meta.kek_version == 2
    vault.retire_kek(1)
    assert kek.versions() == [2]
    for i in range(5):
        assert vault.reveal(**{**OWNER, "user_id": f"u{i}@example.com"}) == f"{SECRET}-{i}"
    st = vault.status()
    assert st.current == 2
    assert {k.version: k.state for k in st.keks} == {1: "retired", 2: "active"}
    with pytest.raises(KekInUse):
        vault.retire_kek(1)  # already retired


def test_retire_refused_while_records_use_the_version(vault: Vault, kek: FileKEKProvider) -> None:
    vault.put(**OWNER, value=SECRET)
    kek.create_version()
    vault.sync_keks()
    with pytest.raises(KekInUse, match="still use"):
        vault.retire_kek(1)
    assert vault.reveal(**OWNER) == SECRET


def test_resume_rotation_finishes_rows_left_on_old_version(vault: Vault) -> None:
    vault.put(**OWNER, value=SECRET)
    vault.rotate_kek()
    vault.put(**{**OWNER, "name": "late"}, value=SECRET)
    # Simulate a row a slow writer stored under version 1 during the rotation.
    row = _row(vault, name="late")
    from hub.vault import envelope

    ctx = envelope.RecordContext(row.tenant, row.user_id, row.connector, row.name, row.id)
    _set(vault, row.id, kek_version=1, wrapped_dek=envelope.rewrap(vault.kek, ctx, row.wrapped_dek, 2, 1))
    report = vault.rotate_kek(new_version=False)
    assert report.version == 2 and report.rewrapped == 1 and report.remaining == {}
    assert vault.reveal(**{**OWNER, "name": "late"}) == SECRET


def test_encryptions_are_counted_and_the_limit_is_enforced(engine: Engine, kek: FileKEKProvider) -> None:
    vault = Vault.open(engine, kek, FP_KEY, rotate_after_encryptions=2, max_encryptions_per_kek=3)
    for i in range(3):
        vault.put(**OWNER, value=f"{SECRET}{i}")
    st = vault.status()
    assert st.keks[0].encryptions == 3 and st.rotation_due
    with pytest.raises(CryptoError, match="rotate-kek") as err:
        vault.put(**OWNER, value=SECRET)
    assert err.value.reason == "kek_exhausted"
    vault.rotate_kek()
    vault.put(**OWNER, value=SECRET)
    assert vault.reveal(**OWNER) == SECRET


def test_replaced_kek_file_is_detected_at_open(vault: Vault, engine: Engine, kek: FileKEKProvider) -> None:
    vault.put(**OWNER, value=SECRET)
    path = kek.directory / "kek-v1.key"
    path.unlink()
    FileKEKProvider(kek.directory).create_version()  # a different key under the same version number
    with pytest.raises(KeyUnavailable, match="not the key"):
        Vault.open(engine, FileKEKProvider(kek.directory), FP_KEY)


def test_missing_kek_is_detected_at_open(vault: Vault, engine: Engine, kek: FileKEKProvider) -> None:
    vault.put(**OWNER, value=SECRET)
    (kek.directory / "kek-v1.key").unlink()
    with pytest.raises(KeyUnavailable):
        Vault.open(engine, FileKEKProvider(kek.directory), FP_KEY)


def test_check_passes_and_fails_closed_on_key_swap(vault: Vault, kek: FileKEKProvider) -> None:
    vault.check()
    with vault.sessions.begin() as s:
        s.execute(update(KekVersionRow).values(check_value="0" * 32))
    with pytest.raises(KeyUnavailable):
        vault.check()


def test_delete_and_delete_user(vault: Vault) -> None:
    vault.put(**OWNER, value=SECRET)
    vault.put(**{**OWNER, "name": "second"}, value=SECRET)
    vault.put(**{**OWNER, "user_id": "bob@example.com"}, value=SECRET)
    assert vault.delete(**OWNER) is True
    assert vault.delete(**OWNER) is False
    assert vault.delete_user("alice@example.com") == 1
    assert vault.delete_user("alice@example.com") == 0
    assert vault.list(tenant="dev", user_id="alice@example.com") == []
    assert vault.reveal(**{**OWNER, "user_id": "bob@example.com"}) == SECRET


@pytest.mark.parametrize("value", ["", "x" * (16 * 1024 + 1)])
def test_value_size_bounds(vault: Vault, value: str) -> None:
    with pytest.raises(ValueError) as err:
        vault.put(**OWNER, value=value)
    assert "x" * 20 not in str(err.value)


def test_naive_datetimes_are_refused(vault: Vault) -> None:
    with pytest.raises(Exception):
        vault.put(**OWNER, value=SECRET, expires_at=datetime(2030, 1, 1))


def test_rotation_is_online_with_concurrent_writers(vault: Vault) -> None:
    import threading

    for i in range(40):
        vault.put(**{**OWNER, "user_id": f"u{i}"}, value=f"v{i}")
    stop = threading.Event()
    errors: list[BaseException] = []
    latest: dict[str, str] = {}

    def writer() -> None:
        n = 0
        try:
            while not stop.is_set():
                user = f"u{n % 40}"
                vault.put(**{**OWNER, "user_id": user}, value=f"w{n}")
                latest[user] = f"w{n}"
                n += 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    try:
        report = vault.rotate_kek(batch=7)
    finally:
        stop.set()
        t.join(30)
    assert not errors, errors
    assert report.remaining == {}
    vault.retire_kek(1)
    for i in range(40):
        user = f"u{i}"
        assert vault.reveal(**{**OWNER, "user_id": user}) == latest.get(user, f"v{i}")


def test_migrations_downgrade_and_upgrade_again(tmp_path: Path, kek: FileKEKProvider) -> None:
    # SQLite only: the PostgreSQL database is shared by the session, and the upgrade path is covered on both above.
    engine = make_engine(f"sqlite:///{tmp_path / 'down.sqlite3'}")
    upgrade(engine)
    downgrade(engine, "base")
    assert "vault_credentials" not in inspect(engine).get_table_names()
    upgrade(engine)
    vault = Vault.open(engine, kek, FP_KEY)
    vault.put(**OWNER, value=SECRET)
    assert vault.reveal(**OWNER) == SECRET
    engine.dispose()


def test_open_warns_when_rotation_is_due(engine: Engine, kek: FileKEKProvider, caplog: pytest.LogCaptureFixture) -> None:
    vault = Vault.open(engine, kek, FP_KEY, rotate_after_encryptions=1)
    vault.put(**OWNER, value=SECRET)
    with caplog.at_level("WARNING", logger="hub.vault"):
        Vault.open(engine, kek, FP_KEY, rotate_after_encryptions=1)
    assert "rotate-kek" in caplog.text and SECRET not in caplog.text


def test_a_rotation_between_a_writes_select_and_update_leaves_a_consistent_row(tmp_path: Path, kek: FileKEKProvider,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite ignores FOR UPDATE: a KEK rotation can re-wrap the row while a replace is between its SELECT and its
    UPDATE. The replace must not pair its new data key with the rotation's KEK version (the credential would no
    longer decrypt), nor leave a row under the version the rotation swept (found under load, Dec 8)."""
    from hub.vault import store

    engine = make_engine(f"sqlite:///{tmp_path / 'race.sqlite3'}")
    upgrade(engine)
    vault = Vault.open(engine, kek, FP_KEY)
    vault.put(**OWNER, value="first")
    real = store.envelope.encrypt
    rotated = []

    def encrypt_after_a_rotation(*args, **kwargs):
        if not rotated:
            rotated.append(vault.rotate_kek())  # runs between the replace's SELECT and its UPDATE
        return real(*args, **kwargs)

    monkeypatch.setattr(store.envelope, "encrypt", encrypt_after_a_rotation)
    vault.put(**OWNER, value="second")
    assert rotated and vault.reveal(**OWNER) == "second"
    vault.retire_kek(rotated[0].version - 1)  # nothing is left under the swept version
    assert vault.reveal(**OWNER) == "second"
    engine.dispose()
