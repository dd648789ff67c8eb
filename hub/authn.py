"""Authenticating HTTP requests: bearer extraction, the verified-token cache, admission, grants, and the MCP route's
wrapper that binds SDK sessions to the verified user.

``make_authenticate(authenticator, admit, cache)`` is the one function every authenticated route uses (the MCP route
and the admin API): ``Authorization: Bearer <token>`` only (RFC 6750 §2.1; a token in the query string is refused,
RFC 6750 §2.3 / RFC 9700 §4.3.2), then the auth mode's verifier, then ``admit`` (offboarded users refused). Errors are
:class:`~hub.auth.base.AuthError` subclasses; the app turns them into 401/403 bodies (:mod:`hub.errors`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.auth.base import AuthError, Authenticator, InvalidToken, MissingToken, Principal
from hub.errors import error_response

#: The verified user of the request being served, for SDK callbacks that receive no request (e.g. the
#: ``Mcp-Param-*`` schema lookup); ``None`` outside an authenticated request.
current_user_id: ContextVar[str | None] = ContextVar("hub_current_user_id", default=None)

if TYPE_CHECKING:
    from hub.app import HubState


class Admission:
    """Wraps ``admit(principal)`` (the user directory's offboarding check, a database round trip) with a short
    per-user cache; :meth:`on_user_deleted` drops the user at once, so offboarding is not delayed by the cache."""

    def __init__(self, admit: Callable[[Principal], Any] | None, ttl: float = 30.0) -> None:
        self.admit = admit
        self.ttl = ttl
        self._ok: dict[str, float] = {}

    async def __call__(self, principal: Principal) -> Principal:
        if self.admit is None:
            return principal
        now = time.monotonic()
        if self._ok.get(principal.user_id, 0.0) > now:
            return principal
        principal = await self.admit(principal)
        if len(self._ok) > 10_000:
            self._ok.clear()
        self._ok[principal.user_id] = now + self.ttl
        return principal

    async def on_user_deleted(self, user_id: str) -> None:
        """Offboarding hook: forget the user's cached admission."""
        self._ok.pop(user_id, None)


class TokenCache:
    """Verified tokens by SHA-256, so a client's repeated calls do not pay a signature check each time (ES256
    verification costs ~0.1–0.5 ms here). An entry lives ``ttl`` seconds at most and never past the token's ``exp``.
    :meth:`invalidate` (subscribed to the auth mode's :class:`~hub.auth.revocations.Revocations`: ``/revoke``,
    refresh-token reuse, a deleted client) and :meth:`on_user_deleted` (offboarding) drop entries at once, so a
    revoked token is refused on its next request rather than after the TTL."""

    def __init__(self, ttl: float = 60.0, size: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self.ttl, self.size, self.clock = ttl, size, clock
        self._d: dict[bytes, tuple[Principal, float]] = {}

    @staticmethod
    def key(token: str) -> bytes:
        """Cache key of ``token``: its SHA-256 digest (32 bytes), so raw tokens are not held."""
        import hashlib

        return hashlib.sha256(token.encode()).digest()

    def get(self, token: str) -> Principal | None:
        """Cached principal for ``token``, or None if absent or expired (expired entries are dropped)."""
        hit = self._d.get(self.key(token))
        if hit is None:
            return None
        if hit[1] <= self.clock():
            self._d.pop(self.key(token), None)
            return None
        return hit[0]

    def put(self, token: str, principal: Principal) -> None:
        """Cache ``principal`` for ``token`` until ``ttl`` s or the token's ``expires_at``, whichever is first; cleared
        when full."""
        until = self.clock() + self.ttl
        if principal.expires_at is not None:
            until = min(until, principal.expires_at)
        if len(self._d) >= self.size:
            self._d.clear()
        self._d[self.key(token)] = (principal, until)

    def invalidate(self, *, user_id: str | None = None, token_id: str | None = None) -> int:
        """Drop the entries of ``user_id`` (all their tokens) and/or of the token whose ``jti`` is ``token_id``;
        returns how many were dropped. With neither argument nothing is dropped."""
        doomed = [k for k, (p, _) in list(self._d.items())
                  if (user_id is not None and p.user_id == user_id)
                  or (token_id is not None and p.token_id == token_id)]
        for k in doomed:
            self._d.pop(k, None)
        return len(doomed)

    async def on_user_deleted(self, user_id: str) -> None:
        """Offboarding hook: invalidate the user's cached tokens."""
        self.invalidate(user_id=user_id)


class Grants:
    """``await grants(principal)`` → connector names granted to the user or their roles (a database query, run in a
    worker thread), cached per user for ``ttl`` seconds; offboarding drops the user's entry."""

    def __init__(self, lookup: Callable[[Principal], Any], ttl: float = 15.0) -> None:
        self.lookup, self.ttl = lookup, ttl
        self._d: dict[tuple[str, frozenset[str]], tuple[frozenset[str], float]] = {}

    async def __call__(self, principal: Principal) -> frozenset[str]:
        key = (principal.user_id, frozenset(principal.roles))
        hit = self._d.get(key)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        granted = frozenset(await anyio.to_thread.run_sync(self.lookup, principal))
        if len(self._d) > 10_000:
            self._d.clear()
        self._d[key] = (granted, now + self.ttl)
        return granted

    async def on_user_deleted(self, user_id: str) -> None:
        """Offboarding hook: drop the user's cached grants."""
        for k in [k for k in self._d if k[0] == user_id]:
            self._d.pop(k, None)


def make_authenticate(authenticator: Authenticator, admit: Callable[[Principal], Any] | None = None,
                      cache: TokenCache | None = None) -> Callable[[Request], Any]:
    """``await authenticate(request)`` → :class:`Principal` (also stored as ``scope["hub.principal"]``) or raises
    :class:`AuthError`. Reads ``Authorization: Bearer <token>`` only (RFC 6750 §2.1). ``admit(principal)``, when given,
    may refuse a verified user (e.g. offboarded: :class:`~hub.auth.base.UserNotProvisioned`)."""

    async def authenticate(request: Request) -> Principal:
        cached = request.scope.get("hub.principal")
        if isinstance(cached, Principal):
            return cached
        if "access_token" in request.query_params:
            raise InvalidToken("tokens in the query string are refused; use the Authorization header",
                               reason="token_in_query")
        header = request.headers.get("authorization")
        if not header:
            raise MissingToken("no bearer token in the Authorization header")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            raise InvalidToken("the Authorization header must be 'Bearer <token>'", reason="malformed_header")
        principal = cache.get(token) if cache is not None else None
        if principal is None:
            principal = await authenticator.authenticate(token)
            if cache is not None:
                cache.put(token, principal)
        if admit is not None:
            principal = await admit(principal)
        request.scope["hub.principal"] = principal
        return principal

    return authenticate


class McpEndpoint:
    """ASGI wrapper for the SDK's Streamable HTTP app: authenticates, then binds the SDK's session ownership to the
    verified user (``scope["user"]``), so a session id presented by another user answers 404 (CVE-2026-25536 class)."""

    def __init__(self, app: ASGIApp, authenticate: Callable[[Request], Any], on_auth_error: Callable[..., Response],
                 state: HubState | None = None):
        self.app = app
        self.authenticate = authenticate
        self.on_auth_error = on_auth_error
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
        from mcp.server.auth.provider import AccessToken

        request = Request(scope, receive)
        try:
            principal = await self.authenticate(request)
        except AuthError as err:
            await self.on_auth_error(request, err)(scope, receive, send)
            return
        # The SDK compares (client_id, iss, sub) of the creating and the using request; no token is kept.
        scope["user"] = AuthenticatedUser(AccessToken(
            token="", client_id="mcpguard-hub", scopes=sorted(principal.scopes), subject=principal.user_id,
            claims={"iss": principal.tenant},
        ))
        state = self.state
        if state is not None and state.draining:
            # Shutting down: refuse new work so the drain can finish; clients retry (on another replica).
            await error_response(503, "NOT_READY", "hub is shutting down", "draining",
                                 headers={"retry-after": "1"})(scope, receive, send)
            return
        counted = state is not None and scope.get("method") == "POST"
        if counted:
            state.inflight += 1
        reset = current_user_id.set(principal.user_id)
        try:
            await self.app(scope, receive, send)
        finally:
            current_user_id.reset(reset)
            if counted:
                state.inflight -= 1


__all__ = ["Admission", "Grants", "McpEndpoint", "TokenCache", "current_user_id", "make_authenticate"]
