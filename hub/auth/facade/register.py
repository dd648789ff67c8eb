"""``POST /register``: RFC 7591 Dynamic Client Registration, restricted.

Every ``redirect_uris`` entry must be on ``auth.facade.dcr.allowed_redirect_uris`` (by default the claude.ai and
claude.com callbacks) or a loopback ``http`` URI (RFC 8252 §7.3) when ``allow_loopback``; anything else is
``invalid_redirect_uri`` (RFC 7591 §3.2.2). Clients are public (``none``) unless they ask for
``client_secret_post``/``client_secret_basic``, in which case a secret is returned once and stored hashed.
Registrations per client address are rate limited (``auth.facade.rate_limits.register_per_ip``; 429).
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.auth.facade.clients import dcr_redirect_allowed
from hub.auth.facade.server import NO_STORE, Facade
from hub.auth.facade.store import ClientRow, token_hash

MAX_BODY = 16 * 1024
AUTH_METHODS = ("none", "client_secret_post", "client_secret_basic")


def _error(code: str, description: str) -> Response:
    return JSONResponse({"error": code, "error_description": description}, status_code=400, headers=NO_STORE)


async def handle_register(facade: Facade, request: Request) -> Response:
    """Dynamic client registration endpoint (RFC 7591 §3): registers a public client and returns 201 with its
    metadata (§3.2.1), or 400 ``invalid_client_metadata``/``invalid_redirect_uri`` (§3.2.2); 404 when disabled, 429 when
    rate limited.
    """
    if not facade.settings.dcr.enabled:
        return JSONResponse({"error": "invalid_request", "error_description": "registration is disabled"},
                            status_code=404)
    if facade.limiter is not None and (limited := facade.limiter.check_register(request)) is not None:
        return limited
    body = await request.body()
    if len(body) > MAX_BODY:
        return _error("invalid_client_metadata", "registration request too large")
    try:
        meta: Any = json.loads(body)
    except ValueError:
        return _error("invalid_client_metadata", "body is not JSON")
    if not isinstance(meta, dict):
        return _error("invalid_client_metadata", "body is not a JSON object")
    uris = meta.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) and len(u) < 2048 for u in uris):
        return _error("invalid_redirect_uri", "redirect_uris must be a non-empty list of URIs")
    refused = [u for u in uris if not dcr_redirect_allowed(u, facade.settings.dcr)]
    if refused:
        return _error("invalid_redirect_uri", "redirect URI not allowed for dynamic registration on this hub")
    method = meta.get("token_endpoint_auth_method") or "none"
    if method not in AUTH_METHODS:
        return _error("invalid_client_metadata", "unsupported token_endpoint_auth_method")
    grants = meta.get("grant_types") or ["authorization_code", "refresh_token"]
    if not isinstance(grants, list) or any(g not in ("authorization_code", "refresh_token") for g in grants):
        return _error("invalid_client_metadata", "unsupported grant_types")
    if (meta.get("response_types") or ["code"]) != ["code"]:
        return _error("invalid_client_metadata", "response_types must be [\"code\"]")
    scope = meta.get("scope")
    if scope is not None and (not isinstance(scope, str) or any(s not in facade.settings.scopes for s in scope.split())):
        return _error("invalid_client_metadata", "unsupported scope")
    name = meta.get("client_name")
    name = name.strip()[:100] if isinstance(name, str) and name.strip() else "Unnamed application"
    client_id = "dyn-" + secrets.token_urlsafe(16)
    secret = secrets.token_urlsafe(32) if method != "none" else None
    now = int(time.time())
    facade.store.put_client(ClientRow(
        client_id=client_id, kind="dynamic", name=name, secret_hash=token_hash(secret) if secret else None,
        auth_method=method, redirect_uris=json.dumps(uris), scopes=scope or "", created_at=float(now),
        disabled=False,
    ))
    out: dict[str, Any] = {
        "client_id": client_id, "client_id_issued_at": now, "client_name": name, "redirect_uris": uris,
        "token_endpoint_auth_method": method, "grant_types": grants, "response_types": ["code"],
    }
    if scope:
        out["scope"] = scope
    if secret:
        out["client_secret"] = secret
        out["client_secret_expires_at"] = 0
    return JSONResponse(out, status_code=201, headers=NO_STORE)
