"""``POST /token`` (RFC 6749 §3.2, §4.1.3, §6; RFC 7636 §4.6; RFC 8707 §2.2; OAuth 2.1 §4.3.1 refresh rotation).

Client authentication: confidential clients by ``client_secret_basic`` or ``client_secret_post`` (RFC 6749
§2.3.1); public clients (DCR ``none``, CIMD) by ``client_id`` alone, their grant protected by PKCE.

``authorization_code``: the code is single use — a second presentation revokes the family the first one started
(RFC 6749 §4.1.2) — and must match the client, the exact redirect URI, the PKCE verifier (S256) and, when given,
the resource. ``refresh_token``: rotated on every use; presenting a rotated one again revokes the whole family
(refresh-token reuse detection, OAuth 2.0 Security BCP §4.14.2). Before re-issuing, the user is re-checked with
Entra by redeeming the Entra refresh token held for the family: a user disabled in Entra loses access here.

Requests are rate limited per client address and per (address, claimed ``client_id``) before the client is
authenticated (``auth.facade.rate_limits``; 429 with ``Retry-After``, :mod:`hub.auth.facade.ratelimit`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.auth.facade.callback import entra_tokens
from hub.auth.facade.clients import Client
from hub.auth.facade.cimd import CimdError
from hub.auth.facade.server import NO_STORE, Facade
from hub.auth.facade.store import FamilyRow, token_hash
from hub.auth.msal_app import UNREACHABLE
from hub.auth.roles import map_roles


def claimed_client_id(request: Request, form: dict[str, str]) -> str:
    """The client id the request claims (form ``client_id``, else the Basic user name), unauthenticated: only for
    rate-limit keys. ``""`` when none can be read."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            return unquote(base64.b64decode(auth[6:], validate=True).decode().partition(":")[0])
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return form.get("client_id", "")


async def authenticate_client(facade: Facade, request: Request, form: dict[str, str]) -> Client | Response:
    """The authenticated client, or a 401 ``invalid_client`` response."""
    client_id, secret = form.get("client_id"), form.get("client_secret")
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            basic_id, _, basic_secret = base64.b64decode(auth[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return facade.oauth_error("invalid_client", "malformed Basic authorization", 401)
        basic_id, basic_secret = unquote(basic_id), unquote(basic_secret)
        if client_id and client_id != basic_id:
            return facade.oauth_error("invalid_client", "client_id does not match the Basic credentials", 401)
        client_id, secret = basic_id, basic_secret
    if not client_id:
        return facade.oauth_error("invalid_client", "client authentication is required", 401)
    try:
        client = await facade.clients.get(client_id)
    except CimdError:
        client = None
    if client is None or not client.check_secret(secret):
        return facade.oauth_error("invalid_client", "unknown client or wrong credentials", 401)
    return client


def _pkce_ok(verifier: str, challenge: str) -> bool:
    if not 43 <= len(verifier) <= 128:
        return False
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return hmac.compare_digest(digest, challenge)


async def handle_token(facade: Facade, request: Request) -> Response:
    """Token endpoint (RFC 6749 §3.2): rate-limits, authenticates the client (§2.3.1), then handles
    ``authorization_code`` with PKCE (§4.1.3, RFC 7636 §4.6) or ``refresh_token`` with rotation (§6).
    Errors are OAuth JSON (§5.2), e.g. ``unsupported_grant_type``.
    """
    raw = await request.form()
    form = {k: str(v) for k, v in raw.items()}
    if facade.limiter is not None:
        limited = facade.limiter.check_token(request, claimed_client_id(request, form))
        if limited is not None:
            return limited
    client = await authenticate_client(facade, request, form)
    if isinstance(client, Response):
        return client
    grant = form.get("grant_type")
    if grant == "authorization_code":
        return await _authorization_code(facade, client, form)
    if grant == "refresh_token":
        return await _refresh(facade, client, form)
    return facade.oauth_error("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")


async def _authorization_code(facade: Facade, client: Client, form: dict[str, str]) -> Response:
    code = form.get("code", "")
    row, first = facade.store.take_code(token_hash(code)) if code else (None, False)
    if row is None or row.client_id != client.client_id:
        return facade.oauth_error("invalid_grant", "unknown authorization code")
    if not first:
        facade.store.revoke_family(row.family_id, "code_reuse")
        return facade.oauth_error("invalid_grant", "authorization code already used; its grant is revoked")
    if row.expires_at < facade.clock():
        return facade.oauth_error("invalid_grant", "authorization code expired")
    if form.get("redirect_uri") != row.redirect_uri:
        return facade.oauth_error("invalid_grant", "redirect_uri does not match the authorization request")
    if not _pkce_ok(form.get("code_verifier", ""), row.code_challenge):
        return facade.oauth_error("invalid_grant", "PKCE verification failed")
    if form.get("resource") not in (None, row.resource):
        return facade.oauth_error("invalid_target", "resource does not match the authorization request")
    family = facade.store.get_family(row.family_id)
    if family is None or family.revoked:
        return facade.oauth_error("invalid_grant", "the grant was revoked")
    return JSONResponse(facade.issue(family, row.scopes.split()), headers=NO_STORE)


async def _refresh(facade: Facade, client: Client, form: dict[str, str]) -> Response:
    presented = form.get("refresh_token", "")
    hashed = token_hash(presented) if presented else ""
    row = facade.store.refresh_row(hashed) if hashed else None
    family = facade.store.get_family(row.family_id) if row else None
    if row is None or family is None or family.client_id != client.client_id:
        return facade.oauth_error("invalid_grant", "unknown refresh token")
    if row.rotated:
        facade.store.revoke_family(family.family_id, "refresh_reuse")
        facade.stats["reuse"] += 1
        return facade.oauth_error("invalid_grant", "refresh token already used; the grant is revoked")
    if family.revoked or family.expires_at < facade.clock():
        return facade.oauth_error("invalid_grant", "the grant was revoked or has expired")
    scopes = family.scopes.split()
    requested = form.get("scope", "").split()
    if requested:
        if any(s not in scopes for s in requested):
            return facade.oauth_error("invalid_scope", "scope exceeds the original grant")
        scopes = requested
    if form.get("resource") not in (None, family.resource):
        return facade.oauth_error("invalid_target", "resource does not match the grant")
    if facade.settings.recheck_entra_on_refresh:
        # Before rotating: an Entra outage must leave the presented token usable for a retry.
        denied = await _recheck_with_entra(facade, family)
        if denied is not None:
            return denied
        family = facade.store.get_family(family.family_id) or family
    _row, fresh = facade.store.rotate_refresh(hashed)
    if not fresh:  # a concurrent request rotated it first: treat as reuse
        facade.store.revoke_family(family.family_id, "refresh_reuse")
        facade.stats["reuse"] += 1
        return facade.oauth_error("invalid_grant", "refresh token already used; the grant is revoked")
    if family.revoked:
        return facade.oauth_error("invalid_grant", "the grant was revoked")
    facade.stats["refresh"] += 1
    return JSONResponse(facade.issue(family, scopes), headers=NO_STORE)


async def _recheck_with_entra(facade: Facade, family: FamilyRow) -> Response | None:
    """Redeem the family's Entra refresh token; on refusal revoke the family. Updates sealed tokens and roles."""
    context = f"entra-tokens:{family.family_id}"
    held = facade.open_json(family.entra_tokens, context) if family.entra_tokens else {}
    if not held.get("refresh_token"):
        facade.store.revoke_family(family.family_id, "entra_no_refresh")
        return facade.oauth_error("invalid_grant", "the grant can no longer be re-checked with Microsoft Entra")
    result = await facade.entra.refresh(held["refresh_token"])
    if result.get("error") == UNREACHABLE:
        # An outage is not a verdict on the user: keep the grant and the presented refresh token; the client retries.
        return facade.oauth_error("temporarily_unavailable", "Microsoft Entra is unreachable; try again", 503)
    if "error" in result:
        facade.store.revoke_family(family.family_id, "entra_refused")
        return facade.oauth_error("invalid_grant", "Microsoft Entra no longer accepts this user's sign-in")
    now = facade.clock()
    new = entra_tokens(result, now)
    if not new["refresh_token"]:
        new["refresh_token"] = held["refresh_token"]
    facade.store.set_family_entra(family.family_id, facade.seal_json(new, context))
    claims = result.get("id_token_claims") or {}
    if claims:
        roles = map_roles(claims, facade.entra_settings.roles)
        if not roles:
            facade.store.revoke_family(family.family_id, "no_role")
            return facade.oauth_error("invalid_grant", "the user no longer holds a role on this hub")
        facade.store.set_family_roles(family.family_id, " ".join(sorted(roles)))
    return None
