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

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from hub.seams import Component
    from hub.settings import HubSettings
    from hub.vault.kek import KeyEncryptionKeyProvider
    from hub.vault.service import VaultService


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine for ``url``. SQLite: usable from worker threads, WAL, 5 s busy timeout; in-memory URLs
    share one connection. PostgreSQL (``postgresql+psycopg://``): pre-ping pooled connections."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import StaticPool

    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url
        kw: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
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
    return create_engine(url, pool_pre_ping=True)


def kek_provider(settings: HubSettings) -> tuple[KeyEncryptionKeyProvider, bytes]:
    """The configured KEK provider and the fingerprint key (file: ``fingerprint.key`` beside the KEKs; env:
    ``{prefix}FINGERPRINT``)."""
    from mcpguard.crypto import EnvKeyProvider, FileKeyProvider

    from hub.vault.kek import EnvKEKProvider, FileKEKProvider
    from hub.vault.settings import parse_vault_settings

    vs = parse_vault_settings(settings.vault)
    if vs.kek_provider == "env":
        return EnvKEKProvider(vs.kek_env_prefix), EnvKeyProvider(vs.kek_env_prefix).get("fingerprint")
    directory = vs.kek_path(settings.storage.data_path)
    return FileKEKProvider(directory), FileKeyProvider(directory, create=True).get("fingerprint")


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


def build_vault(settings: HubSettings, *, audit: Any = None) -> Component:
    """The vault's :class:`~hub.seams.Component`: credential source ``secret``, readiness probe, offboarding hook;
    ``extras["vault"]`` (the :class:`VaultService` for ``admin_routes``) and ``extras["users"]`` (the
    :class:`hub.users.UserDirectory`, whose ``admit(principal)`` refuses offboarded users)."""
    from hub.seams import Component

    service = open_vault(settings)
    return Component(
        name="vault",
        credential_sources={"secret": service},
        probes=(service,),
        offboarding=(service,),
        extras={"vault": service, "users": service.users},
    )


__all__ = ["build_vault", "kek_provider", "make_engine", "open_vault"]
_ = os  # keep the import for type checkers of callers that patch the environment
