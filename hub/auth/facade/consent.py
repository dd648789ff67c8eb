"""The per-client consent page and ``POST /consent`` (MCP authorization spec 2025-11-25 "Security Considerations:
Confused Deputy Problem"; OAuth 2.0 Security BCP §4.4.1, §4.7).

One Entra app registration serves every MCP client, so without this page any registered client could ride the
user's Entra session silently. The page names the client (and, for CIMD clients, the domain the client id lives
on), the redirect URI and the scopes; the form carries a CSRF token that must equal the one in the
``__Host-mcpguard-consent`` cookie (``Secure; HttpOnly; SameSite=Lax; Path=/``, no ``Domain``); pages forbid framing.
The consent transaction is single use and lives ``consent_ttl`` seconds (~10 min). Only on approval is the Entra
leg started and its ``state`` stored.
"""

from __future__ import annotations

import hmac
import html
import json
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from hub.auth.facade.clients import Client
from hub.auth.facade.server import CONSENT_COOKIE, Facade
from hub.auth.facade.store import token_hash

_KIND = {
    "registered": "registered by your hub administrator",
    "dynamic": "registered itself dynamically",
    "cimd": "identified by a metadata document on its own domain",
}


def _cookie(value: str, max_age: int) -> str:
    return f"{CONSENT_COOKIE}={value}; Max-Age={max_age}; Path=/; Secure; HttpOnly; SameSite=Lax"


def render_consent(facade: Facade, client: Client, req: dict[str, Any], *, txn: str, csrf: str) -> Response:
    """HTML consent page for a pending authorization request, carrying ``txn`` and the CSRF token ``csrf`` as hidden
    fields."""
    e = html.escape
    domain = urlsplit(client.client_id).hostname if client.kind == "cimd" else None
    scopes = "".join(f"<li><code>{e(s)}</code></li>" for s in req["scopes"])
    body = (
        f"<p><strong>{e(client.name or client.client_id)}</strong> wants to use the MCP hub "
        f"<code>{e(req['resource'])}</code> as you.</p>"
        f"<p>Application id <code>{e(client.client_id)}</code> ({e(_KIND.get(client.kind, client.kind))}"
        + (f"; domain <strong>{e(domain)}</strong>" if domain else "")
        + ").</p>"
        f"<p>After you sign in with Microsoft, you will be sent to <code>{e(req['redirect_uri'])}</code>.</p>"
        f"<p>Permissions:</p><ul>{scopes}</ul>"
        f'<form method="post" action="{e(facade.url("/consent"))}">'
        f'<input type="hidden" name="txn" value="{e(txn)}">'
        f'<input type="hidden" name="csrf" value="{e(csrf)}">'
        '<button type="submit" name="decision" value="approve">Allow</button>'
        '<button type="submit" name="decision" value="deny">Deny</button></form>'
        "<p>Only allow applications you recognise.</p>"
    )
    return facade.page("Allow access to the MCP hub?", body,
                       headers={"Set-Cookie": _cookie(csrf, facade.settings.consent_ttl)})


async def handle_consent(facade: Facade, request: Request) -> Response:
    """POST of the consent form: checks the CSRF double-submit cookie, takes the pending request (single use), then
    starts the Entra sign-in or redirects to the client with ``access_denied`` (RFC 6749 §4.1.2.1). HTML error page
    (400/403, 502 if sign-in cannot start) otherwise.
    """
    form = await request.form()
    txn, csrf = str(form.get("txn", "")), str(form.get("csrf", ""))
    cookie = request.cookies.get(CONSENT_COOKIE, "")
    if not txn or not csrf or not cookie or not hmac.compare_digest(csrf.encode(), cookie.encode()):
        return facade.error_page("Request refused", "The consent form did not come from this browser session "
                                 "(missing or mismatched CSRF token). Start again from the application.", 403)
    pending = facade.store.take_pending_for_consent(token_hash(txn), facade.clock())
    if pending is None:
        return facade.error_page("Request expired", "This consent request has expired or was already answered. "
                                 "Start again from the application.")
    if not hmac.compare_digest(pending.csrf_hash, token_hash(csrf)):
        return facade.error_page("Request refused", "The consent form's CSRF token does not belong to it.", 403)
    req = json.loads(pending.request)
    clear = {"Set-Cookie": _cookie("", 0)}
    if form.get("decision") != "approve":
        resp = facade.redirect_to_client(req["redirect_uri"], error="access_denied",
                                         error_description="the user denied the request", state=req["state"])
        resp.headers.update(clear)
        return resp
    flow = await facade.entra.initiate_login(facade.callback_url, login_hint=req.get("login_hint"))
    if "auth_uri" not in flow or "state" not in flow:
        return facade.error_page("Sign-in unavailable", "The hub could not start the Microsoft sign-in.", 502)
    facade.store.set_entra_leg(
        pending.id, token_hash(flow["state"]), facade.seal_json(flow, f"entra-flow:{pending.id}"),
        facade.clock() + facade.settings.consent_ttl,
    )
    resp = Response(status_code=302, headers={"Location": flow["auth_uri"], "Cache-Control": "no-store", **clear})
    return resp
