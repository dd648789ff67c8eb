"""Storage of the facade authorization server: SQLAlchemy models on the hub's database (``storage.database_url``),
in tables of their own (``facade_*``), apart from the vault's.

Nothing secret is stored in the clear: client secrets, authorization codes and refresh tokens are stored as SHA-256
hashes (they are 256-bit random strings, so an unsalted hash is enough: RFC 6819 §5.1.4.1.3); the signing keys and
the Entra refresh/access tokens kept for re-checks and OBO are sealed with AES-256-GCM (:func:`mcpguard.crypto.seal`)
with the row's identity as associated data. Times are UNIX seconds (float).

Tables: ``facade_clients`` (pre-registered and DCR clients; CIMD clients are fetched, not stored), ``facade_pending``
(an authorization request from ``/authorize`` until consent, then the Entra leg), ``facade_codes`` (hub
authorization codes), ``facade_families`` (one per grant: user, client, scopes, resource, the sealed Entra tokens,
revoked flag; access tokens name their family in ``fid``, so revoking the family revokes them), ``facade_refresh``
(every refresh token ever issued in a family, so reuse of a rotated one is detected), ``facade_keys`` (signing key
ring) and ``facade_offboarded`` (a record of offboardings).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Boolean, Float, Index, LargeBinary, MetaData, String, Text, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from hub.auth.revocations import Revocations


def token_hash(value: str) -> str:
    """Hex SHA-256 of a high-entropy token: the only form in which codes, refresh tokens and secrets are stored."""
    return hashlib.sha256(value.encode()).hexdigest()


class Base(DeclarativeBase):
    """Declarative base of the facade tables, with deterministic constraint/index names for migrations."""
    metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s", "ix": "ix_%(table_name)s_%(column_0_name)s"})


class ClientRow(Base):
    """A registered (admin) or dynamic (RFC 7591) client; ``redirect_uris`` JSON list, ``secret_hash`` hex SHA-256."""
    __tablename__ = "facade_clients"
    client_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "registered" (admin) | "dynamic" (RFC 7591)
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    auth_method: Mapped[str] = mapped_column(String(32), default="none")
    redirect_uris: Mapped[str] = mapped_column(Text)  # JSON list
    scopes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class PendingRow(Base):
    """An authorization request between ``/authorize`` and the Entra callback; keyed by the hashed transaction id."""
    __tablename__ = "facade_pending"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # hash of the consent transaction id
    client_id: Mapped[str] = mapped_column(String(2048))
    request: Mapped[str] = mapped_column(Text)  # JSON: redirect_uri, state, code_challenge, scopes, resource
    csrf_hash: Mapped[str] = mapped_column(String(64))
    entra_state: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # hash, set after consent
    entra_flow: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # sealed MSAL flow
    stage: Mapped[str] = mapped_column(String(16), default="consent")  # consent | entra | done
    expires_at: Mapped[float] = mapped_column(Float)


class CodeRow(Base):
    """An authorization code (RFC 6749 §4.1.2), by SHA-256; single use, bound to client, redirect URI and PKCE challenge
    (RFC 7636)."""
    __tablename__ = "facade_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(2048))
    redirect_uri: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    resource: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(Text)
    family_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[float] = mapped_column(Float)
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class FamilyRow(Base):
    """A grant: one user's consent for one client, shared by all access/refresh tokens issued from it; epoch-second
    times."""
    __tablename__ = "facade_families"
    family_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(2048))
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    email: Mapped[str] = mapped_column(String(320))
    tenant: Mapped[str] = mapped_column(String(64))
    roles: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[str] = mapped_column(Text)
    resource: Mapped[str] = mapped_column(Text)
    entra_tokens: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # sealed JSON
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RefreshRow(Base):
    """A refresh token (by SHA-256) of a family; ``rotated`` once exchanged, so reuse is detectable (rotation, RFC 9700
    §4.14.2)."""
    __tablename__ = "facade_refresh"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(64), index=True)
    rotated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)


class KeyRow(Base):
    """A facade signing key: public JWK, sealed private PEM; ``retired_at`` (epoch s) once superseded."""
    __tablename__ = "facade_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(8))
    private_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    retired_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class OffboardedRow(Base):
    """When a user was offboarded (a record for operators; admission is decided by ``hub.users``)."""

    __tablename__ = "facade_offboarded"
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    at: Mapped[float] = mapped_column(Float)


Index("ix_facade_families_user_client", FamilyRow.user_id, FamilyRow.client_id)


class FacadeStore:
    """Thin transactional access to the ``facade_*`` tables. Calls are short indexed statements; each method is
    one transaction. Opening it migrates the tables to head (:func:`hub.auth.facade.migrate.upgrade`: the facade's
    own Alembic history and version table, independent of the vault's). Every method that revokes grants publishes the affected users on :attr:`revocations` after its
    transaction committed."""

    def __init__(self, engine: Engine, revocations: Revocations | None = None) -> None:
        self.engine = engine
        #: Told (after commit) whose grants were revoked, so the app's verified-token cache drops them.
        self.revocations = revocations or Revocations()
        from hub.auth.facade.migrate import upgrade

        upgrade(engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transactional ORM session: commits on normal exit, rolls back on error; objects stay usable after."""
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            yield s

    # --- clients --------------------------------------------------------------------------------------------------
    def put_client(self, row: ClientRow) -> None:
        """Insert or replace a client row."""
        with self.session() as s:
            s.merge(row)

    def get_client(self, client_id: str) -> ClientRow | None:
        """The client row for ``client_id``, or None."""
        with self.session() as s:
            return s.get(ClientRow, client_id)

    def list_clients(self) -> list[ClientRow]:
        """All client rows, oldest first."""
        with self.session() as s:
            return list(s.scalars(select(ClientRow).order_by(ClientRow.created_at)))

    def delete_client(self, client_id: str) -> bool:
        """Delete a client and revoke its live grant families (announcing the users); False if unknown."""
        with self.session() as s:
            row = s.get(ClientRow, client_id)
            if row is None:
                return False
            s.delete(row)
            users = set(s.scalars(select(FamilyRow.user_id).where(FamilyRow.client_id == client_id,
                                                                  FamilyRow.revoked.is_(False))))
            s.execute(update(FamilyRow).where(FamilyRow.client_id == client_id)
                      .values(revoked=True, revoked_reason="client_deleted"))
        self._announce(users)
        return True

    # --- pending authorizations -----------------------------------------------------------------------------------
    def put_pending(self, row: PendingRow) -> None:
        """Store a new pending authorization request."""
        with self.session() as s:
            s.add(row)

    def take_pending_for_consent(self, txn_hash: str, now: float) -> PendingRow | None:
        """The pending request in stage ``consent`` (not expired), atomically moved to stage ``deciding`` so a
        second POST of the same form finds nothing (single use)."""
        with self.session() as s:
            res = s.execute(
                update(PendingRow)
                .where(PendingRow.id == txn_hash, PendingRow.stage == "consent", PendingRow.expires_at > now)
                .values(stage="deciding")
            )
            if res.rowcount != 1:
                return None
            return s.get(PendingRow, txn_hash)

    def set_entra_leg(self, txn_hash: str, state_hash: str, sealed_flow: bytes, expires_at: float) -> None:
        """Move a pending request to stage ``entra``: store the hashed Entra ``state``, the sealed MSAL flow and the new
        expiry (epoch s)."""
        with self.session() as s:
            s.execute(update(PendingRow).where(PendingRow.id == txn_hash)
                      .values(stage="entra", entra_state=state_hash, entra_flow=sealed_flow, expires_at=expires_at))

    def take_pending_by_state(self, state_hash: str, now: float) -> PendingRow | None:
        """The pending request awaiting the Entra callback with this (hashed) state; single use."""
        with self.session() as s:
            row = s.scalars(select(PendingRow).where(PendingRow.entra_state == state_hash)).first()
            if row is None:
                return None
            res = s.execute(update(PendingRow).where(PendingRow.id == row.id, PendingRow.stage == "entra",
                                                     PendingRow.expires_at > now).values(stage="done"))
            return row if res.rowcount == 1 else None

    def purge(self, now: float) -> None:
        """Delete pending requests and codes expired over 1 h before ``now``, and families (with refresh tokens) expired
        over 24 h before."""
        with self.session() as s:
            s.query(PendingRow).filter(PendingRow.expires_at < now - 3600).delete()
            s.query(CodeRow).filter(CodeRow.expires_at < now - 3600).delete()
            expired = select(FamilyRow.family_id).where(FamilyRow.expires_at < now - 86400)
            s.query(RefreshRow).filter(RefreshRow.family_id.in_(expired)).delete(synchronize_session=False)
            s.query(FamilyRow).filter(FamilyRow.expires_at < now - 86400).delete(synchronize_session=False)

    # --- codes ----------------------------------------------------------------------------------------------------
    def put_code(self, row: CodeRow) -> None:
        """Store a new authorization code row."""
        with self.session() as s:
            s.add(row)

    def take_code(self, code_hash: str) -> tuple[CodeRow | None, bool]:
        """``(row, first_use)``: the code row and whether this call consumed it. A second use returns the row with
        ``first_use`` False so the caller can revoke what the first use issued (RFC 6749 §4.1.2)."""
        with self.session() as s:
            res = s.execute(update(CodeRow).where(CodeRow.code_hash == code_hash, CodeRow.used.is_(False))
                            .values(used=True))
            return s.get(CodeRow, code_hash), res.rowcount == 1

    # --- families and refresh tokens ------------------------------------------------------------------------------
    def put_family(self, row: FamilyRow) -> None:
        """Store a new grant family."""
        with self.session() as s:
            s.add(row)

    def get_family(self, family_id: str) -> FamilyRow | None:
        """The grant family ``family_id``, or None."""
        with self.session() as s:
            return s.get(FamilyRow, family_id)

    def set_family_entra(self, family_id: str, sealed: bytes) -> None:
        """Replace the family's sealed Entra token set."""
        with self.session() as s:
            s.execute(update(FamilyRow).where(FamilyRow.family_id == family_id).values(entra_tokens=sealed))

    def set_family_roles(self, family_id: str, roles: str) -> None:
        """Replace the family's roles (space-separated)."""
        with self.session() as s:
            s.execute(update(FamilyRow).where(FamilyRow.family_id == family_id).values(roles=roles))

    def revoke_family(self, family_id: str, reason: str) -> None:
        """Revoke one grant family (``reason``: a short machine string such as ``refresh_reuse``); its refresh tokens
        die now, and its access tokens on their next request (the owner's cached tokens are dropped)."""
        with self.session() as s:
            user_id = s.scalar(select(FamilyRow.user_id).where(FamilyRow.family_id == family_id))
            s.execute(update(FamilyRow).where(FamilyRow.family_id == family_id)
                      .values(revoked=True, revoked_reason=reason))
        self._announce([user_id] if user_id else [])

    def active_families_for(self, user_id: str, now: float) -> list[FamilyRow]:
        """``user_id``'s unrevoked, unexpired grant families at ``now`` (epoch s), newest first."""
        with self.session() as s:
            return list(s.scalars(select(FamilyRow).where(
                FamilyRow.user_id == user_id, FamilyRow.revoked.is_(False), FamilyRow.expires_at > now
            ).order_by(FamilyRow.created_at.desc())))

    def revoke_user(self, user_id: str, now: float) -> None:
        """Offboarding: revoke every grant family of the user (refresh tokens die now, access tokens on their next
        request). Whether the person may sign in again is the user directory's decision (``hub.users``)."""
        with self.session() as s:
            s.execute(update(FamilyRow).where(FamilyRow.user_id == user_id)
                      .values(revoked=True, revoked_reason="offboarded"))
            s.merge(OffboardedRow(user_id=user_id, at=now))
        self._announce([user_id])

    def _announce(self, user_ids: Iterable[str]) -> None:
        for user_id in sorted(set(user_ids)):
            self.revocations.publish(user_id=user_id)

    def put_refresh(self, family_id: str, hashed: str, now: float) -> None:
        """Store a new, unrotated refresh token of ``family_id`` by its hash; ``now`` in epoch s."""
        with self.session() as s:
            s.add(RefreshRow(token_hash=hashed, family_id=family_id, rotated=False, created_at=now))

    def rotate_refresh(self, hashed: str) -> tuple[RefreshRow | None, bool]:
        """``(row, fresh)``: marks the token rotated; ``fresh`` is False when it had been rotated already (reuse)."""
        with self.session() as s:
            res = s.execute(update(RefreshRow).where(RefreshRow.token_hash == hashed, RefreshRow.rotated.is_(False))
                            .values(rotated=True))
            return s.get(RefreshRow, hashed), res.rowcount == 1

    def refresh_row(self, hashed: str) -> RefreshRow | None:
        """The refresh token row for a token hash, or None."""
        with self.session() as s:
            return s.get(RefreshRow, hashed)

    def family_of_refresh(self, hashed: str) -> str | None:
        """Family id of the refresh token with this hash, or None."""
        with self.session() as s:
            row = s.get(RefreshRow, hashed)
            return row.family_id if row else None

    # --- keys -----------------------------------------------------------------------------------------------------
    def keys(self) -> list[KeyRow]:
        """All signing key rows, oldest first (retired ones included)."""
        with self.session() as s:
            return list(s.scalars(select(KeyRow).order_by(KeyRow.created_at)))

    def put_key(self, row: KeyRow) -> None:
        """Store a new signing key row."""
        with self.session() as s:
            s.add(row)

    def retire_key(self, kid: str, now: float) -> None:
        """Mark key ``kid`` retired at ``now`` (epoch s)."""
        with self.session() as s:
            s.execute(update(KeyRow).where(KeyRow.kid == kid).values(retired_at=now))


def dumps(value: Any) -> str:
    """Canonical compact JSON (sorted keys, no spaces)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def now() -> float:
    """Current time in epoch seconds (float)."""
    return time.time()
