"""``/oauth/callback``: Entra's answer to the hub's login leg (``response_mode=form_post``, OpenID Connect Form Post
Response Mode; also accepted as a query).

The pending request is found by the hashed Entra ``state`` (single use, ``consent_ttl``). MSAL finishes the flow
(state, PKCE verifier, id token nonce/issuer/audience). The signed-in user must be in an allowed tenant and hold a hub
role (``auth.entra.roles``); otherwise a page says why and the client gets nothing. On success a grant family is
created (holding the sealed Entra tokens for later re-checks and OBO) and a hub authorization code — bound to the
client, PKCE challenge, redirect URI, resource and scopes, valid ``code_ttl`` seconds — goes to the client with
``state`` and ``iss`` (RFC 9207).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hub.auth.entra import email_from_claims
from hub.auth.facade.server import Facade
from hub.auth.facade.store import CodeRow, FamilyRow, token_hash
from hub.auth.roles import map_roles


def entra_tokens(result: dict[str, Any], now: float) -> dict[str, Any]:
    """What the hub keeps (sealed) from an MSAL result: the Entra access token for OBO and its refresh token."""
    return {
        "access_token": result.get("access_token"),
        "expires_at": now + float(result.get("expires_in", 0) or 0),
        "refresh_token": result.get("refresh_token"),
    }


async def handle_callback(facade: Facade, request: Request) -> Response:
    """Redirect target of the Entra sign-in leg: completes the MSAL flow for the pending request
    found by ``state``, then redirects to the client with an authorization code (RFC 6749 §4.1.2) or ``access_denied``.
    """
    data = dict(await request.form()) if request.method == "POST" else dict(request.query_params)
    fields = {k: str(v) for k, v in data.items()}
    state = fields.get("state", "")
    pending = facade.store.take_pending_by_state(token_hash(state), facade.clock()) if state else None
    if pending is None:
        return facade.error_page("Sign-in expired", "This sign-in is unknown, expired or was already completed. "
                                 "Start again from the application.")
    req = json.loads(pending.request)
    if "error" in fields:
        return facade.redirect_to_client(req["redirect_uri"], error="access_denied",
                                         error_description="sign-in at Microsoft did not complete", state=req["state"])
    flow = facade.open_json(pending.entra_flow or b"", f"entra-flow:{pending.id}")
    result = await facade.entra.finish_login(flow, fields)
    if "error" in result or "id_token_claims" not in result:
        return facade.error_page("Sign-in failed", "Microsoft sign-in did not complete (the hub could not redeem "
                                 "the sign-in code). Start again from the application.", 502)
    claims = result["id_token_claims"]
    tid, oid = claims.get("tid"), claims.get("oid")
    email = email_from_claims(claims)
    if not isinstance(tid, str) or not isinstance(oid, str):
        return facade.error_page("Sign-in failed", "Microsoft did not return a tenant and object id.", 502)
    if tid not in facade.entra_settings.tenant_ids:
        return facade.error_page("Organisation not allowed",
                                 f"You signed in as {email or 'a user'} from an organisation this hub does not serve.",
                                 403)
    user_id = f"{tid}:{oid}"
    roles = map_roles(claims, facade.entra_settings.roles)
    if not roles:
        return facade.error_page("No access to this hub", f"You are signed in as {email or 'a user'}, but you hold "
                                 "no role on this hub. Ask your administrator to assign you one of the hub's app "
                                 "roles in Microsoft Entra.", 403)
    now = facade.clock()
    family_id = secrets.token_urlsafe(24)
    facade.store.put_family(FamilyRow(
        family_id=family_id, client_id=pending.client_id, user_id=user_id, email=email, tenant=tid,
        roles=" ".join(sorted(roles)), scopes=" ".join(req["scopes"]), resource=req["resource"],
        entra_tokens=facade.seal_json(entra_tokens(result, now), f"entra-tokens:{family_id}"),
        created_at=now, expires_at=now + facade.settings.refresh_token_ttl, revoked=False,
    ))
    code = secrets.token_urlsafe(32)
    facade.store.put_code(CodeRow(
        code_hash=token_hash(code), client_id=pending.client_id, redirect_uri=req["redirect_uri"],
        code_challenge=req["code_challenge"], resource=req["resource"], scopes=" ".join(req["scopes"]),
        family_id=family_id, expires_at=now + facade.settings.code_ttl, used=False,
    ))
    facade.stats["codes"] += 1
    return facade.redirect_to_client(req["redirect_uri"], code=code, state=req["state"])
