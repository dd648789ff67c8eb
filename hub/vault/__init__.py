"""The hub's encrypted credential vault (envelope encryption over SQLAlchemy; see ``docs/vault.md``).

::

    settings.py   the [vault] section            kek.py        KEK providers (file, env; protocol for KMS)
    envelope.py   AAD, wrap/unwrap, fingerprint  models.py     tables;  migrations/  Alembic, run at start
    store.py      Vault: put/list/delete/reveal, rotate/retire KEKs
    service.py    VaultService: CredentialSource "secret", readiness probe, offboarding hook
    cli.py        `mcpguard hub vault rotate-kek | retire-kek | status`

:func:`build_vault` is what ``hub.app`` calls (see :mod:`hub.seams`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from hub.seams import Component
    from hub.settings import HubSettings
    from hub.vault.kek import KeyEncryptionKeyProvider
    from hub.vault.service import VaultService


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine for ``url``. SQLite: usable from worker threads, WAL, 5 s busy timeout; in-memory URLs
    share one connection. PostgreSQL (``postgresql+psycopg://``): pre-ping pooled connections. Bound parameters are never
    printed in errors or logs."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import StaticPool

    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url
        # hide_parameters: SQL errors and echo logs never print bound values (ciphertexts, user ids).
        kw: dict[str, Any] = {"connect_args": {"check_same_thread": False}, "hide_parameters": True}
        if memory:
            kw["poolclass"] = StaticPool
        engine = create_engine(url, **kw)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout = 5000")
            if not memory:
                cur.execute("PRAGMA journal_mode = WAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


#: Entry-point group for KEK provider plugins (Azure Key Vault, HashiCorp Vault Transit …). Each entry point names
#: a factory ``factory(options: dict, settings: HubSettings) -> KeyEncryptionKeyProvider``.
KEK_PLUGIN_GROUP = "mcpguard.vault.kek_providers"


def kek_provider(settings: HubSettings) -> tuple[KeyEncryptionKeyProvider, bytes]:
    """The configured KEK provider and the fingerprint key (``[vault] fingerprint_key``: ``file`` →
    ``{kek_dir}/fingerprint.key``, created ``0600``; ``env`` → ``{kek_env_prefix}FINGERPRINT``). Raises
    :class:`mcpguard.errors.ConfigError` for an unknown provider name, :class:`KeyUnavailable` for missing keys."""
    from importlib.metadata import entry_points

    from mcpguard.crypto import EnvKeyProvider, FileKeyProvider
    from mcpguard.errors import ConfigError

    from hub.vault.kek import EnvKEKProvider, FileKEKProvider, KeyEncryptionKeyProvider
    from hub.vault.settings import parse_vault_settings

    vs = parse_vault_settings(settings.vault)
    directory = vs.kek_path(settings.storage.data_path)
    provider: KeyEncryptionKeyProvider
    if vs.kek_provider == "file":
        provider = FileKEKProvider(directory)
    elif vs.kek_provider == "env":
        provider = EnvKEKProvider(vs.kek_env_prefix)
    else:
        found = [ep for ep in entry_points(group=KEK_PLUGIN_GROUP) if ep.name == vs.kek_provider]
        if not found:
            raise ConfigError(f"vault.kek_provider {vs.kek_provider!r} is neither file, env nor an installed plugin "
                              f"(entry-point group {KEK_PLUGIN_GROUP})")
        provider = found[0].load()(dict(vs.kek_options), settings)
        if not isinstance(provider, KeyEncryptionKeyProvider):
            raise ConfigError(f"vault.kek_provider {vs.kek_provider!r} did not return a KeyEncryptionKeyProvider")
    if vs.fingerprint_source == "file":
        fp_key = FileKeyProvider(directory, create=True).get("fingerprint")
    else:
        fp_key = EnvKeyProvider(vs.kek_env_prefix).get("fingerprint")
    return provider, fp_key


def open_vault(settings: HubSettings) -> VaultService:
    """Open (migrate, check KEKs) the vault and user directory described by ``settings``. Raises
    :class:`mcpguard.errors.KeyUnavailable` / :class:`mcpguard.errors.ConfigError` when it cannot."""
    from hub.users import UserDirectory
    from hub.vault.service import VaultService
    from hub.vault.settings import parse_vault_settings
    from hub.vault.store import Vault

    vs = parse_vault_settings(settings.vault)
    if settings.storage.database_url is None:
        settings.storage.data_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = make_engine(settings.storage.url)
    kek, fp_key = kek_provider(settings)
    store = Vault.open(engine, kek, fp_key, rotate_after_encryptions=vs.rotate_after_encryptions,
                       max_encryptions_per_kek=vs.max_encryptions_per_kek)
    return VaultService(store=store, users=UserDirectory(engine))


def admin_audit_log(settings: HubSettings) -> Any:
    """The hash-chained audit log admin actions go to: the same file and fingerprint key as the pipeline's log
    (``[policy]`` path or inline tables, else ``{data_dir}/audit.jsonl`` with keys in ``{data_dir}/keys``), so admin
    events and frame events share one chain. None when auditing is disabled (``[audit] path = ""``)."""
    import copy

    from mcpguard.config import load_config, parse_config
    from mcpguard.crypto import key_provider_from_config
    from mcpguard.runtime import build_audit

    pol = settings.policy
    if pol.path:
        config = load_config(pol.path)
    else:
        raw = copy.deepcopy(dict(pol.inline or {}))
        data = settings.storage.data_path
        raw.setdefault("keys", {}).setdefault("dir", str(data / "keys"))
        audit_path = settings.audit_path
        raw.setdefault("audit", {}).setdefault("path", str(audit_path) if audit_path else "")
        config = parse_config(raw, source="[policy]")
    return build_audit(config, key_provider_from_config(config.keys))


def build_vault(settings: HubSettings, *, audit: Any = None) -> Component:
    """The vault's :class:`~hub.seams.Component`: credential source ``secret``, readiness probe, offboarding hook;
    ``extras["vault"]`` (the :class:`VaultService` for ``admin_routes``), ``extras["users"]`` (the
    :class:`hub.users.UserDirectory`, whose ``admit(principal)`` refuses offboarded users) and ``extras["audit"]``
    (``audit`` when given, else :func:`admin_audit_log`)."""
    from hub.seams import Component

    service = open_vault(settings)
    if audit is None:
        audit = admin_audit_log(settings)

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        try:
            yield
        finally:
            service.store.engine.dispose()

    return Component(
        name="vault",
        lifespan=lifespan,
        credential_sources={"secret": service},
        probes=(service,),
        offboarding=(service,),
        extras={"vault": service, "users": service.users, "audit": audit},
    )


__all__ = ["KEK_PLUGIN_GROUP", "admin_audit_log", "build_vault", "kek_provider", "make_engine", "open_vault"]
