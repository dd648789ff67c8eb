"""``POST /revoke``: RFC 7009 token revocation.

The client authenticates as at ``/token``. A refresh token revokes its whole family; an access token (verified as a
hub token, expiry ignored) revokes the family named by its ``fid``. Only the owning client may revoke; for anything
else — unknown, foreign or already revoked tokens — the answer is still 200 (RFC 7009 §2.2), so the endpoint
reveals nothing.
"""

from __future__ import annotations

import jwt
from starlette.requests import Request
from starlette.responses import Response

from hub.auth.facade.server import NO_STORE, Facade
from hub.auth.facade.store import token_hash
from hub.auth.facade.token import authenticate_client


async def handle_revoke(facade: Facade, request: Request) -> Response:
    """Token revocation endpoint (RFC 7009 §2): authenticates the client, then revokes the grant family of a
    refresh token or facade access token (``fid`` claim) the client owns. Always 200 for unknown tokens (§2.2);
    OAuth error JSON for a missing ``token`` or failed client authentication.
    """
    raw = await request.form()
    form = {k: str(v) for k, v in raw.items()}
    client = await authenticate_client(facade, request, form)
    if isinstance(client, Response):
        return client
    token = form.get("token", "")
    if not token:
        return facade.oauth_error("invalid_request", "token is required")
    family_id = facade.store.family_of_refresh(token_hash(token))
    if family_id is None and token.count(".") == 2:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = facade.keys.public_key(kid) if isinstance(kid, str) else None
            if key is not None:
                claims = jwt.decode(token, key, algorithms=[facade.keys.alg], audience=facade.resource,
                                    issuer=facade.issuer, options={"verify_exp": False})
                family_id = claims.get("fid") if isinstance(claims.get("fid"), str) else None
        except jwt.PyJWTError:
            family_id = None
    if family_id is not None:
        family = facade.store.get_family(family_id)
        if family is not None and family.client_id == client.client_id:
            facade.store.revoke_family(family_id, "revoked_by_client")
    return Response(status_code=200, headers=NO_STORE)
