"""OAuth clients of the facade: who may ask for hub tokens, and where codes may be sent.

Three kinds (MCP authorization spec 2025-11-25 "Client Registration Approaches"):

* ``registered``: pre-registered confidential clients, created by an admin (``mcpguard hub facade client add`` or
  :func:`register_confidential`): the client id and secret a claude.ai admin types into the connector's Advanced
  settings. The secret is shown once and stored as a SHA-256 hash.
* ``dynamic``: RFC 7591 registrations, allowed only for redirect URIs on the allowlist (claude.ai / claude.com
  callbacks) or loopback (RFC 8252 §7.3, for CLI clients). Public clients (``none``) unless they ask for a secret.
* ``cimd``: https client ids resolved through :mod:`hub.auth.facade.cimd`; public.

Redirect URIs always match exactly (RFC 6749 §3.1.2.3, OAuth 2.1 §4.1.1.3): no prefix, case or port games.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from hub.auth.config import DcrSettings
from hub.auth.facade.cimd import CimdError, CimdResolver, is_cimd_client_id
from hub.auth.facade.store import ClientRow, FacadeStore, token_hash


@dataclass(frozen=True)
class Client:
    """An OAuth client of the facade: admin-registered, dynamically registered (RFC 7591) or CIMD."""
    client_id: str
    kind: str  # registered | dynamic | cimd
    name: str
    redirect_uris: tuple[str, ...]
    auth_method: str  # none | client_secret_post | client_secret_basic
    secret_hash: str | None = None
    scope: str | None = None

    @property
    def confidential(self) -> bool:
        """True if the client authenticates at the token endpoint (RFC 6749 §2.3.1), i.e. ``auth_method != "none"``."""
        return self.auth_method != "none"

    def check_secret(self, secret: str | None) -> bool:
        """Constant-time check of ``secret`` against the stored SHA-256; always True for public clients."""
        if not self.confidential:
            return True
        if not secret or self.secret_hash is None:
            return False
        return hmac.compare_digest(token_hash(secret), self.secret_hash)


def _row_to_client(row: ClientRow) -> Client:
    return Client(client_id=row.client_id, kind=row.kind, name=row.name,
                  redirect_uris=tuple(json.loads(row.redirect_uris)), auth_method=row.auth_method,
                  secret_hash=row.secret_hash, scope=row.scopes or None)


def is_loopback_redirect(uri: str) -> bool:
    """True for an ``http`` loopback redirect URI (``localhost`` or a loopback IP; RFC 8252 §7.3) with no fragment or
    userinfo."""
    parts = urlsplit(uri)
    if parts.scheme != "http" or parts.fragment or parts.username:
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dcr_redirect_allowed(uri: str, settings: DcrSettings) -> bool:
    """True if dynamic registration (RFC 7591) may use ``uri``: listed in settings, or loopback when allowed."""
    return uri in settings.allowed_redirect_uris or (settings.allow_loopback and is_loopback_redirect(uri))


class ClientDirectory:
    """Looks clients up by id across the three kinds."""

    def __init__(self, store: FacadeStore, cimd: CimdResolver) -> None:
        self.store = store
        self.cimd = cimd

    async def get(self, client_id: str) -> Client | None:
        """The client, or None if unknown. Raises :class:`CimdError` when a CIMD document cannot be used."""
        if is_cimd_client_id(client_id):
            doc = await self.cimd.get(client_id)
            return Client(client_id=doc.client_id, kind="cimd", name=doc.client_name,
                          redirect_uris=doc.redirect_uris, auth_method="none", scope=doc.scope)
        row = self.store.get_client(client_id)
        if row is None or row.disabled:
            return None
        return _row_to_client(row)


def prepare_confidential(name: str, redirect_uris: list[str], *,
                         auth_method: str = "client_secret_post") -> tuple[ClientRow, str]:
    """A new pre-registered confidential client, not yet stored: ``(row, client_secret)``. Lets a caller audit the
    client id before the client exists. Raises ``ValueError`` when a redirect URI is not https or loopback (or has a
    fragment) or ``auth_method`` is not a secret method."""
    for uri in redirect_uris:
        parts = urlsplit(uri)
        if parts.fragment or not (parts.scheme == "https" or is_loopback_redirect(uri)):
            raise ValueError(f"redirect URI must be https or loopback without fragment: {uri}")
    if auth_method not in ("client_secret_post", "client_secret_basic"):
        raise ValueError("auth_method must be client_secret_post or client_secret_basic")
    client_id = "hub-" + secrets.token_urlsafe(12)
    secret = secrets.token_urlsafe(32)
    row = ClientRow(client_id=client_id, kind="registered", name=name[:200], secret_hash=token_hash(secret),
                    auth_method=auth_method, redirect_uris=json.dumps(redirect_uris), scopes="",
                    created_at=time.time(), disabled=False)
    return row, secret


def register_confidential(store: FacadeStore, name: str, redirect_uris: list[str], *,
                          auth_method: str = "client_secret_post") -> tuple[str, str]:
    """Create a pre-registered confidential client; returns ``(client_id, client_secret)``. The secret is not
    stored and cannot be shown again. Raises like :func:`prepare_confidential`."""
    row, secret = prepare_confidential(name, redirect_uris, auth_method=auth_method)
    store.put_client(row)
    return row.client_id, secret


__all__ = ["Client", "ClientDirectory", "CimdError", "dcr_redirect_allowed", "is_loopback_redirect",
           "prepare_confidential", "register_confidential"]
