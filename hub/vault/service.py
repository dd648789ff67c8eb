"""The vault as the hub's parts see it: one object that is the ``secret`` :class:`~hub.seams.CredentialSource`, a
:class:`~hub.seams.ReadinessProbe`, an :class:`~hub.seams.OffboardingHooks` and the ``vault`` the admin API takes.

It wraps the synchronous :class:`hub.vault.store.Vault` and :class:`hub.users.UserDirectory`, running their calls in
worker threads so the event loop never blocks on the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import anyio.to_thread

from hub.auth.base import Principal
from hub.seams import CredentialSpec
from hub.users import UserDirectory
from hub.vault.store import CredentialMeta, Vault


async def _run(fn: Any, /, *args: Any, **kw: Any) -> Any:
    return await anyio.to_thread.run_sync(partial(fn, *args, **kw))


@dataclass
class VaultService:
    """``store``: the encrypted credentials; ``users``: the user directory (offboarding state)."""

    store: Vault
    users: UserDirectory
    name: str = "vault"

    # CredentialSource (kind "secret")
    async def resolve(self, principal: Principal, connector: str, credential: CredentialSpec) -> str | None:
        """The user's value for ``connector``/``credential.name`` or None (absent or expired). Raises
        :class:`~mcpguard.errors.CryptoError` on tamper: the caller must fail the call, not run without it."""
        if credential.kind != "secret":
            return None
        return await _run(self.store.reveal, tenant=principal.tenant, user_id=principal.user_id,
                          connector=connector, name=credential.name)

    # ReadinessProbe
    async def check(self) -> None:
        """Readiness: raise if the vault store is unusable."""
        await _run(self.store.check)

    # OffboardingHooks (idempotent: the admin route already deleted the rows)
    async def on_user_deleted(self, user_id: str) -> None:
        """Offboarding hook: delete all of ``user_id``'s credentials in every tenant."""
        await _run(self.store.delete_user, user_id)

    # The admin API's operations
    async def put(self, tenant: str, user_id: str, connector: str, name: str, value: str,
                  expires_at: datetime | None) -> tuple[CredentialMeta, bool]:
        """``Vault.put`` in a worker thread: ``(metadata, created)``; ``ValueError``/``CryptoError`` as there."""
        return await _run(self.store.put, tenant=tenant, user_id=user_id, connector=connector, name=name,
                          value=value, expires_at=expires_at)

    async def list(self, tenant: str, user_id: str) -> list[CredentialMeta]:
        """Metadata (never values) of the user's credentials, in a worker thread."""
        return await _run(self.store.list, tenant=tenant, user_id=user_id)

    async def delete(self, tenant: str, user_id: str, connector: str, name: str) -> bool:
        """Delete one credential; False if absent. Runs in a worker thread."""
        return await _run(self.store.delete, tenant=tenant, user_id=user_id, connector=connector, name=name)

    async def delete_user(self, tenant: str, user_id: str) -> int:
        """Delete all of the user's credentials in ``tenant``; the number deleted."""
        return await _run(self.store.delete_user, user_id, tenant=tenant)


__all__ = ["VaultService"]
