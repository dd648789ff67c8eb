"""The hub's MSAL confidential client toward Entra, shared by the facade's login leg and OBO.

``msal.ConfidentialClientApplication`` is synchronous (requests) and fetches the authority's OIDC metadata in its
constructor, so :class:`EntraApp` builds it once, lazily in a worker thread, and runs every call through
``anyio.to_thread``. Its ``http_client`` is a :class:`hub.auth.entra_http.PinnedSession`: only the authority host,
rewritten to ``auth.entra.authority_transport_url`` when set (tests), everything else refused.
``instance_discovery=False``: no call to Microsoft's instance-discovery endpoint (the authority is configured).

MSAL's own token cache is replaced by a no-op: the hub keeps the few Entra tokens it needs sealed in its own store
(per grant family) and caches OBO results per user, so nothing accumulates in process memory across users.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import anyio
import msal

from hub.auth.config import EntraSettings
from hub.auth.entra_http import PinnedSession, host_map_for


class _NoCache(msal.TokenCache):
    """A token cache that never stores: results are returned to the caller and kept (sealed) by the hub."""

    def add(self, event: dict[str, Any], **kwargs: Any) -> None:  # noqa: D401 - MSAL hook
        return None


#: ``error`` value of the results below when Entra could not be reached or answered garbage (not a refusal).
UNREACHABLE = "entra_unreachable"


def _guard(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run an MSAL call; transport or metadata failures become ``{"error": UNREACHABLE}`` so callers can tell a
    refusal by Entra (which revokes grants) from an outage (which must not)."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - requests, HostNotAllowed, MSAL's ValueError on bad metadata …
        return {"error": UNREACHABLE, "error_description": type(exc).__name__}


class EntraApp:
    """Async facade over MSAL for one app registration. Methods return MSAL's result dicts (``error`` on failure)."""

    def __init__(self, settings: EntraSettings, *, client_secret: str | None = None) -> None:
        self.settings = settings
        self._secret = client_secret
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()
        self.authority = f"{settings.authority.rstrip('/')}/{settings.tenant_ids[0]}"

    def _build(self) -> msal.ConfidentialClientApplication:
        with self._lock:
            if self._app is None:
                timeout = (min(3.05, self.settings.http_timeout_seconds), self.settings.http_timeout_seconds)
                session = PinnedSession(
                    host_map_for(self.settings.authority, self.settings.authority_transport_url), timeout=timeout
                )
                self._app = msal.ConfidentialClientApplication(
                    self.settings.client_id,
                    client_credential=self._secret if self._secret is not None else self.settings.client_secret(),
                    authority=self.authority,
                    instance_discovery=False,
                    http_client=session,
                    token_cache=_NoCache(),
                )
            return self._app

    async def start(self) -> None:
        """Build the client now (fetches authority metadata); call from the app's lifespan. An unreachable authority
        is logged, not fatal: the client is built on first use instead (sign-ins fail with a clear page meanwhile)."""
        result = await anyio.to_thread.run_sync(lambda: _guard(lambda: (self._build(), {})[1]))
        if result.get("error"):
            logging.getLogger("hub.auth.entra").warning(
                "Entra authority metadata unavailable at start-up", extra={"reason": result.get("error_description")})

    async def initiate_login(self, redirect_uri: str, *, login_hint: str | None = None) -> dict[str, Any]:
        """``initiate_auth_code_flow`` for the hub's own delegated scope (PKCE S256, state and nonce by MSAL),
        answered by ``form_post``. The MCP ``resource`` parameter is deliberately not passed: Entra v2 rejects or
        strictly checks it (AADSTS9010010) and it names the hub, not an Entra resource."""
        scopes = [self.settings.hub_scope()]

        def run() -> dict[str, Any]:
            return self._build().initiate_auth_code_flow(
                scopes, redirect_uri=redirect_uri, response_mode="form_post", login_hint=login_hint
            )

        return await anyio.to_thread.run_sync(lambda: _guard(run))

    async def finish_login(self, flow: dict[str, Any], auth_response: dict[str, str]) -> dict[str, Any]:
        """``acquire_token_by_auth_code_flow``: checks state, exchanges the code with the PKCE verifier, checks the
        id token's nonce, issuer and audience."""

        def run() -> dict[str, Any]:
            app = self._build()
            try:
                return app.acquire_token_by_auth_code_flow(flow, auth_response)
            except ValueError as exc:  # MSAL raises on state/nonce mismatch
                return {"error": "invalid_state", "error_description": type(exc).__name__}

        return await anyio.to_thread.run_sync(lambda: _guard(run))

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Redeem an Entra refresh token: fails (``invalid_grant``) when the user was disabled or deleted."""
        scopes = [self.settings.hub_scope()]
        return await anyio.to_thread.run_sync(
            lambda: _guard(lambda: self._build().acquire_token_by_refresh_token(refresh_token, scopes))
        )

    async def on_behalf_of(self, assertion: str, scopes: list[str]) -> dict[str, Any]:
        """OBO (``urn:ietf:params:oauth:grant-type:jwt-bearer``, ``requested_token_use=on_behalf_of``)."""
        return await anyio.to_thread.run_sync(
            lambda: _guard(lambda: self._build().acquire_token_on_behalf_of(assertion, list(scopes)))
        )
