"""``GET /authorize`` (RFC 6749 §4.1.1, OAuth 2.1 §4.1.1, RFC 7636, RFC 8707): validate, then show the consent page.

Order matters (RFC 6749 §4.1.2.1): until the client and its redirect URI are known good, errors are shown as a page
and never redirected (an open redirector otherwise); after that, errors go back to the client's redirect URI with
``state`` and ``iss``. Nothing is sent to Entra from here: the Entra leg starts only after the user consents
(:mod:`hub.auth.facade.consent`), which is when its ``state`` is created and stored.
"""

from __future__ import annotations

import re
import secrets

from starlette.requests import Request
from starlette.responses import Response

from hub.auth.facade.cimd import CimdError
from hub.auth.facade.consent import render_consent
from hub.auth.facade.server import Facade
from hub.auth.facade.store import PendingRow, dumps, token_hash

#: RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters from the unreserved set.
_CHALLENGE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


async def handle_authorize(facade: Facade, request: Request) -> Response:
    """Authorization endpoint (RFC 6749 §4.1.1 with PKCE S256, RFC 7636; ``resource``, RFC 8707).

    Validates the client (registered, RFC 7591 or CIMD) and redirect URI, then renders the consent page. Errors that
    must not be redirected (bad client/redirect URI) are an HTML error page; others redirect with ``error`` (§4.1.2.1).
    """
    q = request.query_params
    if request.url.query and any(len(q.getlist(k)) > 1 for k in q.keys()):
        return facade.error_page("Invalid request", "A parameter was given more than once.")  # RFC 6749 §3.1
    client_id = q.get("client_id", "")
    if not client_id:
        return facade.error_page("Invalid request", "client_id is missing.")
    try:
        client = await facade.clients.get(client_id)
    except CimdError as exc:
        return facade.error_page("Unknown application", f"The application's metadata document is not usable: {exc}")
    if client is None:
        return facade.error_page("Unknown application", "This application is not registered with the hub.")
    redirect_uri = q.get("redirect_uri")
    if redirect_uri is None and len(client.redirect_uris) == 1:
        redirect_uri = client.redirect_uris[0]
    if redirect_uri is None or redirect_uri not in client.redirect_uris:
        return facade.error_page("Invalid redirect", "The redirect URI is not registered for this application.")

    state = q.get("state")

    def fail(error: str, description: str) -> Response:
        return facade.redirect_to_client(redirect_uri, error=error, error_description=description, state=state)

    if q.get("response_type") != "code":
        return fail("unsupported_response_type", "only response_type=code is supported")
    challenge = q.get("code_challenge", "")
    if q.get("code_challenge_method") != "S256" or not _CHALLENGE.match(challenge):
        return fail("invalid_request", "PKCE with code_challenge_method=S256 is required")
    resource = q.get("resource") or facade.resource
    if resource != facade.resource:
        return fail("invalid_target", "the requested resource is not this hub")
    requested = (q.get("scope") or "").split()
    supported = list(facade.settings.scopes)
    if any(s not in supported for s in requested):
        return fail("invalid_scope", "a requested scope is not supported")
    scopes = requested or supported

    if secrets.randbelow(64) == 0:  # now and then, drop expired consent transactions and codes
        facade.store.purge(facade.clock())
    txn = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    request_data = {
        "redirect_uri": redirect_uri, "state": state, "code_challenge": challenge, "scopes": scopes,
        "resource": resource, "login_hint": q.get("login_hint"), "client_name": client.name,
    }
    facade.store.put_pending(PendingRow(
        id=token_hash(txn), client_id=client.client_id, request=dumps(request_data), csrf_hash=token_hash(csrf),
        stage="consent", expires_at=facade.clock() + facade.settings.consent_ttl,
    ))
    return render_consent(facade, client, request_data, txn=txn, csrf=csrf)
