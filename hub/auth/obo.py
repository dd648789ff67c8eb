"""Credential kind ``entra_obo``: a token for an Entra-protected upstream, obtained on behalf of the signed-in user
(OAuth 2.0 On-Behalf-Of flow, Microsoft identity platform; RFC 7523 ``jwt-bearer`` grant with
``requested_token_use=on_behalf_of``).

The user assertion is an Entra access token whose audience is the hub: in ``entra`` mode the caller's own (verified)
bearer, in ``facade`` mode the one the hub obtained at sign-in and keeps sealed per grant (refreshed with Entra when
stale). The caller's hub token is never sent anywhere. Results are cached per (user, scopes) until 60 s before
expiry; offboarding drops a user's entries. Upstream scopes come from the connector manifest
(``credentials[].scopes``, e.g. ``api://downstream/.default``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio

from hub.auth.base import Principal
from hub.auth.msal_app import EntraApp
from hub.seams import CredentialSpec
from mcpguard.errors import MCPGuardError

AssertionFor = Callable[[Principal], Awaitable[str | None]]
EARLY_REFRESH = 60.0


class OboUnavailable(MCPGuardError):
    """Entra refused the on-behalf-of exchange (user disabled, consent missing, scope unknown …)."""

    reason = "obo_failed"
    status = 502
    jsonrpc_code = -32603


class OboCredentialSource:
    """:class:`hub.seams.CredentialSource` for kind ``entra_obo``; also :class:`hub.seams.OffboardingHooks`."""

    def __init__(self, entra: EntraApp, assertion_for: AssertionFor, *, clock: Callable[[], float] = time.time) -> None:
        self.entra = entra
        self.assertion_for = assertion_for
        self.clock = clock
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[str, float]] = {}
        self._locks: dict[str, anyio.Lock] = {}

    async def resolve(self, principal: Principal, connector: str, credential: CredentialSpec) -> str | None:
        """Access token for ``credential.scopes`` on behalf of ``principal`` (Entra on-behalf-of flow, a jwt-bearer
        grant per RFC 7523), cached until
        shortly before expiry; one exchange per user at a time. None when the user has no assertion to exchange.
        """
        scopes = tuple(sorted(credential.scopes))
        key = (principal.user_id, scopes)
        hit = self._cache.get(key)
        if hit is not None and hit[1] - EARLY_REFRESH > self.clock():
            return hit[0]
        lock = self._locks.setdefault(principal.user_id, anyio.Lock())
        async with lock:  # one exchange per user at a time: concurrent calls share the result
            hit = self._cache.get(key)
            if hit is not None and hit[1] - EARLY_REFRESH > self.clock():
                return hit[0]
            assertion = await self.assertion_for(principal)
            if assertion is None:
                return None
            result = await self.entra.on_behalf_of(assertion, list(scopes))
            token = result.get("access_token")
            if "error" in result or not isinstance(token, str):
                raise OboUnavailable(
                    f"Microsoft Entra refused the on-behalf-of token for connector {connector!r} "
                    f"({result.get('error', 'no token')})"
                )
            self._cache[key] = (token, self.clock() + float(result.get("expires_in", 300) or 300))
            return token

    async def on_user_deleted(self, user_id: str) -> None:
        """Offboarding hook: drop the user's cached tokens and lock."""
        for key in [k for k in self._cache if k[0] == user_id]:
            del self._cache[key]
        self._locks.pop(user_id, None)
