"""The hub's user directory: who has been seen, who is offboarded, and which connectors are granted to whom.

Rows live in the vault's database (tables ``hub_users`` and ``hub_grants``, created by the vault migrations). A user
becomes known the first time they authenticate or an admin acts on them; offboarding (``DELETE /v1/users/{user}``)
marks them ``offboarded``, after which every token for them is refused with ``USER_NOT_PROVISIONED`` (reason
``offboarded``) by :meth:`UserDirectory.admit`, which the admin API calls and the MCP route should call too.

Grants are kept for the gateway's use (connector → users and roles); the admin API of this issue does not expose them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio.to_thread
from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from hub.auth.base import Principal, UserNotProvisioned
from hub.vault.models import GrantRow, UserRow


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A hub user: ids, ``status`` (e.g. ``active`` | ``offboarded``) and aware UTC timestamps."""
    user_id: str
    tenant: str
    email: str | None
    status: str
    created_at: datetime
    offboarded_at: datetime | None


def _record(row: UserRow) -> UserRecord:
    return UserRecord(row.user_id, row.tenant, row.email, row.status, row.created_at, row.offboarded_at)


class UserDirectory:
    """Users and grants over the vault's engine (synchronous; the ``async`` helpers run in a worker thread)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.clock = clock

    def get(self, user_id: str) -> UserRecord | None:
        """The user's record, or None if never seen."""
        with self.sessions() as s:
            row = s.get(UserRow, user_id)
            return None if row is None else _record(row)

    def is_offboarded(self, user_id: str) -> bool:
        """True if the user exists and is offboarded."""
        rec = self.get(user_id)
        return rec is not None and rec.status == "offboarded"

    def seen(self, principal: Principal) -> UserRecord:
        """Record ``principal`` as known (first sight creates an ``active`` row). Raises
        :class:`UserNotProvisioned` for an offboarded user."""
        rec = self.get(principal.user_id)
        if rec is None:
            now = self.clock()
            try:
                with self.sessions.begin() as s:
                    s.add(UserRow(user_id=principal.user_id, tenant=principal.tenant, email=principal.email or None,
                                  status="active", created_at=now, updated_at=now))
            except IntegrityError:
                pass  # created concurrently
            rec = self.get(principal.user_id)
        assert rec is not None
        if rec.status == "offboarded":
            raise UserNotProvisioned("this user has been offboarded from the hub", reason="offboarded")
        return rec

    async def admit(self, principal: Principal) -> Principal:
        """For authenticators and routes: returns ``principal`` unless offboarded (:class:`UserNotProvisioned`)."""
        await anyio.to_thread.run_sync(self.seen, principal)
        return principal

    def offboard(self, user_id: str, *, tenant: str, by: str) -> UserRecord:
        """Mark ``user_id`` offboarded (creating the row when unknown, so a token minted later is still refused).
        Idempotent: an already offboarded user keeps the first time and actor."""
        now = self.clock()
        with self.sessions.begin() as s:
            row = s.get(UserRow, user_id, with_for_update=True)
            if row is None:
                row = UserRow(user_id=user_id, tenant=tenant, email=None, status="active", created_at=now,
                              updated_at=now)
                s.add(row)
            if row.status != "offboarded":
                row.status = "offboarded"
                row.offboarded_at = now
                row.offboarded_by = by
                row.updated_at = now
            s.flush()
            return _record(row)

    def reinstate(self, user_id: str) -> None:
        """Make an offboarded user active again (their credentials stay deleted)."""
        with self.sessions.begin() as s:
            row = s.get(UserRow, user_id)
            if row is not None:
                row.status = "active"
                row.offboarded_at = None
                row.offboarded_by = None
                row.updated_at = self.clock()

    # -- grants -----------------------------------------------------------------------------------------------------

    def grant(self, connector: str, *, user: str | None = None, role: str | None = None) -> None:
        """Grant ``connector`` to a user id or to a role (exactly one). Idempotent."""
        kind, subject = self._subject(user, role)
        try:
            with self.sessions.begin() as s:
                s.add(GrantRow(connector=connector, subject_kind=kind, subject=subject, created_at=self.clock()))
        except IntegrityError:
            pass

    def revoke(self, connector: str, *, user: str | None = None, role: str | None = None) -> bool:
        """Remove the grant of ``connector`` to ``user`` or ``role`` (exactly one); False if there was none."""
        kind, subject = self._subject(user, role)
        with self.sessions.begin() as s:
            done = s.execute(delete(GrantRow).where(GrantRow.connector == connector, GrantRow.subject_kind == kind,
                                                    GrantRow.subject == subject))
            return done.rowcount > 0

    def granted_connectors(self, principal: Principal) -> set[str]:
        """Connectors granted to the principal directly or through any of its roles."""
        with self.sessions() as s:
            rows = s.scalars(
                select(GrantRow.connector).where(
                    ((GrantRow.subject_kind == "user") & (GrantRow.subject == principal.user_id))
                    | ((GrantRow.subject_kind == "role") & GrantRow.subject.in_(_roles(principal.roles)))
                )
            )
            return set(rows)

    @staticmethod
    def _subject(user: str | None, role: str | None) -> tuple[str, str]:
        if (user is None) == (role is None):
            raise ValueError("give exactly one of user or role")
        return ("user", user) if user is not None else ("role", role)  # type: ignore[return-value]


def _roles(roles: Iterable[str]) -> list[str]:
    return sorted(roles) or [""]


__all__ = ["UserDirectory", "UserRecord"]
