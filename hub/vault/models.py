"""SQLAlchemy 2.x tables of the vault and the user directory (schema created by the Alembic migrations in
``hub/vault/migrations``; keep the two in step).

::

    vault_credentials   one encrypted credential per (tenant, user_id, connector, name)
    vault_kek_versions  KEK versions seen by this vault: state active|retired, encryption count, key check value
    hub_users           the user directory: status active|offboarded
    hub_grants          connector grants to a user or a role

Times are stored as naive UTC and come back timezone-aware (SQLite keeps no offsets; PostgreSQL gets
``timestamp with time zone``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        """Aware datetime -> UTC (naive on SQLite); raises ``ValueError`` for a naive datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the vault; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if getattr(dialect, "name", "") == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        """Stored value -> aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the vault tables, with deterministic constraint names for migrations."""
    metadata = MetaData(naming_convention=NAMING)


class CredentialRow(Base):
    """An encrypted credential. ``ciphertext``/``wrapped_dek`` are opaque AEAD envelopes (see
    :mod:`hub.vault.envelope`); ``fingerprint`` is a 12-hex keyed HMAC prefix."""

    __tablename__ = "vault_credentials"
    __table_args__ = (
        UniqueConstraint("tenant", "user_id", "connector", "name", name="uq_vault_credentials_owner"),
        Index("ix_vault_credentials_user", "user_id"),
        Index("ix_vault_credentials_kek", "kek_version"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(320))
    connector: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    kek_version: Mapped[int] = mapped_column(Integer)
    wrapped_dek: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class KekVersionRow(Base):
    """A KEK version as this vault knows it. ``encryptions`` counts AES-GCM invocations (wraps) under it, for the
    NIST SP 800-38D §8.3 limit; ``check_value`` detects a key that was swapped behind the vault's back."""

    __tablename__ = "vault_kek_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    provider: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="active")
    check_value: Mapped[str] = mapped_column(String(64))
    encryptions: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class UserRow(Base):
    """A user the hub has seen or an admin has acted on. ``status`` is ``active`` or ``offboarded``."""

    __tablename__ = "hub_users"

    user_id: Mapped[str] = mapped_column(String(320), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    offboarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    offboarded_by: Mapped[str | None] = mapped_column(String(320), nullable=True)


class GrantRow(Base):
    """Connector ``connector`` granted to a ``user`` (``subject`` = user id) or a ``role`` (``subject`` = role)."""

    __tablename__ = "hub_grants"
    __table_args__ = (UniqueConstraint("connector", "subject_kind", "subject", name="uq_hub_grants_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connector: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


__all__ = ["Base", "CredentialRow", "GrantRow", "KekVersionRow", "UTCDateTime", "UserRow"]
