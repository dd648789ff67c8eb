"""hub.vault (build_vault) and hub.vault.service: the seams the app plugs in."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from mcpguard.errors import ConfigError, CryptoError, KeyUnavailable

from hub.auth.base import Principal
from hub.seams import CredentialSource, CredentialSpec, OffboardingHooks, ReadinessProbe
from hub.settings import parse_settings
from hub.vault import build_vault
from hub.vault.models import CredentialRow

pytestmark = pytest.mark.anyio

ALICE = Principal(user_id="alice@example.com", email="alice@example.com", tenant="dev")
BOB = Principal(user_id="bob@example.com", email="bob@example.com", tenant="dev")
SPEC = CredentialSpec(name="EVERYTHING_API_KEY", inject={"env": "EVERYTHING_API_KEY"})
SECRET = "sk-service-secret-000111222"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _settings(tmp_path: Path, **vault: object):  # type: ignore[no-untyped-def]
    return parse_settings({"storage": {"data_dir": str(tmp_path / "data")}, "vault": vault})


async def test_component_shape_and_resolve(tmp_path: Path) -> None:
    comp = build_vault(_settings(tmp_path))
    svc = comp.extras["vault"]
    assert comp.credential_sources["secret"] is svc and comp.extras["users"] is svc.users
    assert isinstance(svc, CredentialSource) and isinstance(svc, ReadinessProbe) and isinstance(svc, OffboardingHooks)
    await svc.check()
    assert await svc.resolve(ALICE, "everything", SPEC) is None
    await svc.put("dev", ALICE.user_id, "everything", SPEC.name, SECRET, None)
    assert await svc.resolve(ALICE, "everything", SPEC) == SECRET
    assert await svc.resolve(BOB, "everything", SPEC) is None
    obo = CredentialSpec(name=SPEC.name, kind="entra_obo", scopes=("x",), inject={"env": "X"})
    assert await svc.resolve(ALICE, "everything", obo) is None
    await svc.on_user_deleted(ALICE.user_id)
    assert await svc.resolve(ALICE, "everything", SPEC) is None
    # Files: database and keys under the data dir, keys private.
    keys = tmp_path / "data" / "vault-keys"
    assert sorted(p.name for p in keys.iterdir()) == ["fingerprint.key", "kek-v1.key"]


async def test_resolve_fails_closed_on_tamper_and_skips_expired(tmp_path: Path) -> None:
    svc = build_vault(_settings(tmp_path)).extras["vault"]
    await svc.put("dev", ALICE.user_id, "everything", SPEC.name, SECRET, datetime.now(UTC) + timedelta(days=1))
    with svc.store.sessions.begin() as s:
        row = s.query(CredentialRow).one()
        s.execute(update(CredentialRow).values(ciphertext=row.ciphertext[:-1] + bytes([row.ciphertext[-1] ^ 1])))
    with pytest.raises(CryptoError) as err:
        await svc.resolve(ALICE, "everything", SPEC)
    assert SECRET not in str(err.value)
    await svc.put("dev", ALICE.user_id, "everything", SPEC.name, SECRET, datetime.now(UTC) - timedelta(seconds=1))
    assert await svc.resolve(ALICE, "everything", SPEC) is None


async def test_reopen_keeps_values_readable(tmp_path: Path) -> None:
    svc = build_vault(_settings(tmp_path)).extras["vault"]
    await svc.put("dev", ALICE.user_id, "everything", SPEC.name, SECRET, None)
    again = build_vault(_settings(tmp_path)).extras["vault"]
    assert await again.resolve(ALICE, "everything", SPEC) == SECRET


async def test_env_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(KeyUnavailable, match="MCPGUARD_VAULT_KEK_FINGERPRINT"):
        build_vault(_settings(tmp_path, kek_provider="env"))
    monkeypatch.setenv("MCPGUARD_VAULT_KEK_FINGERPRINT", base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(KeyUnavailable, match="MCPGUARD_VAULT_KEK_V1"):
        build_vault(_settings(tmp_path, kek_provider="env"))
    monkeypatch.setenv("MCPGUARD_VAULT_KEK_V1", base64.b64encode(os.urandom(32)).decode())
    svc = build_vault(_settings(tmp_path, kek_provider="env")).extras["vault"]
    await svc.put("dev", ALICE.user_id, "everything", SPEC.name, SECRET, None)
    assert await svc.resolve(ALICE, "everything", SPEC) == SECRET
    assert not (tmp_path / "data" / "vault-keys").exists()


def test_bad_vault_settings_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="kek_providr"):
        build_vault(_settings(tmp_path, kek_providr="file"))


def test_admin_audit_log_shares_the_pipelines_file(tmp_path: Path) -> None:
    comp = build_vault(_settings(tmp_path))
    audit = comp.extras["audit"]
    assert audit is not None and Path(audit.path) == tmp_path / "data" / "audit.jsonl"
    off = parse_settings({"storage": {"data_dir": str(tmp_path / "d2")}, "audit": {"path": ""}})
    assert build_vault(off).extras["audit"] is None


def test_kek_provider_plugin_from_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata as md

    from hub.vault import KEK_PLUGIN_GROUP, kek_provider
    from hub.vault.kek import FileKEKProvider

    seen: dict[str, object] = {}

    def factory(options: dict, settings: object) -> FileKEKProvider:  # a stand-in for a KMS-backed provider
        seen.update(options)
        return FileKEKProvider(tmp_path / "kms")

    class EP:
        name = "fake-kms"

        def load(self):  # type: ignore[no-untyped-def]
            return factory

    real = md.entry_points
    monkeypatch.setattr(md, "entry_points", lambda **kw: [EP()] if kw.get("group") == KEK_PLUGIN_GROUP else real(**kw))
    settings = _settings(tmp_path, kek_provider="fake-kms", kek_options={"vault_url": "https://kv.example"},
                         fingerprint_key="file")
    provider, fp = kek_provider(settings)
    assert isinstance(provider, FileKEKProvider) and len(fp) == 32 and seen == {"vault_url": "https://kv.example"}
    svc = build_vault(settings).extras["vault"]
    assert svc.store.status().keks[0].provider == "file"
    with pytest.raises(ConfigError, match="no-such"):
        kek_provider(_settings(tmp_path, kek_provider="no-such"))
