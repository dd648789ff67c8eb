"""The facade's shared state and the helpers its endpoints use (URLs, error responses, token issuance).

One :class:`Facade` per app. Endpoint modules (``metadata``, ``authorize``, ``consent``, ``callback``, ``token``,
``register``, ``revoke``) are plain ``async def handle(facade, request) -> Response`` functions.
"""

from __future__ import annotations

import html
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit, parse_qsl

from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from hub.auth.config import EntraSettings, FacadeSettings
from hub.auth.facade.clients import ClientDirectory
from hub.auth.facade.keys import KeyRing
from hub.auth.facade.ratelimit import FacadeLimiter
from hub.auth.facade.store import FacadeStore, FamilyRow, dumps, token_hash
from hub.auth.facade.tokens import mint_access_token
from hub.auth.msal_app import EntraApp
from mcpguard.crypto import open_sealed, seal

#: Headers on every page the facade renders (consent, errors): no framing (clickjacking on the consent button),
#: no caching, no referrer leaking query parameters.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CONSENT_COOKIE = "__Host-mcpguard-consent"


@dataclass
class Facade:
    """Runtime state of the facade authorization server (settings, store, key ring, clients, Entra app) shared by its
    handlers."""
    settings: FacadeSettings
    entra_settings: EntraSettings
    store: FacadeStore
    keys: KeyRing
    clients: ClientDirectory
    entra: EntraApp
    seal_key: bytes
    issuer: str
    resource: str
    prefix: str = ""
    clock: Any = time.time
    stats: dict[str, int] = field(default_factory=lambda: {"codes": 0, "refresh": 0, "reuse": 0})
    #: Budgets for ``/register`` and ``/token`` (:mod:`hub.auth.facade.ratelimit`); None: unlimited.
    limiter: FacadeLimiter | None = None

    # --- URLs -----------------------------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        """Absolute URL of a facade endpoint: the issuer (trailing ``/`` dropped) followed by ``path``."""
        return f"{self.issuer.rstrip('/')}{path}"

    @property
    def callback_url(self) -> str:
        """The Entra redirect URI registered on the hub's app (``{issuer}/oauth/callback``)."""
        return self.url("/oauth/callback")

    # --- pages and errors -----------------------------------------------------------------------------------------
    @staticmethod
    def page(title: str, body_html: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
        """Minimal self-contained HTML page (escaped ``title``, trusted ``body_html``) with the no-store/CSP page
        headers."""
        doc = (
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>"
            + html.escape(title)
            + "</title><style>body{font:16px system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}"
            "code{background:#f3f3f3;padding:0 .2em}button{font-size:1em;padding:.4em 1.2em;margin-right:1em}"
            "</style></head><body><h1>" + html.escape(title) + "</h1>" + body_html + "</body></html>"
        )
        return HTMLResponse(doc, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})

    def error_page(self, title: str, message: str, status: int = 400) -> HTMLResponse:
        """HTML error page for browser-facing failures that must not redirect (RFC 6749 §4.1.2.1); ``message`` is
        escaped."""
        return self.page(title, f"<p>{html.escape(message)}</p>", status)

    def redirect_to_client(self, redirect_uri: str, **params: str | None) -> RedirectResponse:
        """302 to the client's registered redirect URI with ``params`` and ``iss`` (RFC 9207) added to its query."""
        parts = urlsplit(redirect_uri)
        query = parse_qsl(parts.query, keep_blank_values=True)
        query += [(k, v) for k, v in params.items() if v is not None]
        query.append(("iss", self.issuer))
        return RedirectResponse(urlunsplit(parts._replace(query=urlencode(query))), status_code=302, headers=NO_STORE)

    @staticmethod
    def oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
        """RFC 6749 §5.2 error body."""
        headers = dict(NO_STORE)
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="mcpguard-hub"'
        return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)

    # --- sealing --------------------------------------------------------------------------------------------------
    def seal_json(self, value: Any, context: str) -> bytes:
        """``value`` as compact JSON, sealed with ``seal_key`` (``mcpguard.crypto.seal``) and ``context`` as associated
        data."""
        return seal(self.seal_key, dumps(value).encode(), context.encode())

    def open_json(self, blob: bytes, context: str) -> Any:
        """Inverse of ``seal_json``; raises ``CryptoError`` if ``blob`` was sealed under another key or ``context``."""
        return json.loads(open_sealed(self.seal_key, blob, context.encode()))

    # --- issuance -------------------------------------------------------------------------------------------------
    def issue(self, family: FamilyRow, scopes: list[str]) -> dict[str, Any]:
        """A new access token and a new refresh token in ``family``; returns the RFC 6749 §5.1 body."""
        now = self.clock()
        access, _jti, _exp = mint_access_token(
            self.keys, issuer=self.issuer, resource=family.resource, user_id=family.user_id, email=family.email,
            tenant=family.tenant, roles=family.roles.split(), scopes=scopes, client_id=family.client_id,
            family_id=family.family_id, ttl=self.settings.access_token_ttl, now=now,
        )
        refresh = secrets.token_urlsafe(32)
        self.store.put_refresh(family.family_id, token_hash(refresh), now)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.settings.access_token_ttl,
            "refresh_token": refresh,
            "scope": " ".join(scopes),
        }
