"""The facade's own access tokens: minting and verification (RFC 9068 JWT profile for OAuth 2.0 access tokens).

Claims::

    iss    the facade issuer, exactly as in its RFC 8414 metadata
    aud    the hub's MCP URL (RFC 8707 resource)
    sub    "{tid}:{oid}" (the stable Entra identity)
    client_id, scope, jti, iat, nbf, exp, email, tid, roles, fid (the grant family, so revoking a grant revokes
    its access tokens on the next request)

Header ``{"alg": "ES256" | "RS256", "kid": <RFC 7638 thumbprint>, "typ": "at+jwt"}``. Verification applies the same
rules as the Entra resource server (``hub.auth.entra``): pinned algorithm, kid from the key ring only, no
``jku``/``x5u``/``jwk``/``x5c``, required claims, exact issuer and audience, tenant allowlist, plus the family and
offboarding checks.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from hub.auth.base import InvalidToken, Principal, UserNotProvisioned
from hub.auth.base import ROLES
from hub.auth.entra import GRAPH_AUDIENCES, check_header, decode_verified, peek_audience
from hub.auth.facade.keys import KeyRing
from hub.auth.facade.store import FacadeStore

REQUIRED = ("exp", "iat", "iss", "aud", "sub", "jti")


def mint_access_token(keys: KeyRing, *, issuer: str, resource: str, user_id: str, email: str, tenant: str,
                      roles: list[str], scopes: list[str], client_id: str, family_id: str, ttl: int,
                      now: float | None = None) -> tuple[str, str, int]:
    """``(jwt, jti, exp)`` for one access token."""
    iat = int(time.time() if now is None else now)
    jti = secrets.token_urlsafe(16)
    claims: dict[str, Any] = {
        "iss": issuer, "aud": resource, "sub": user_id, "client_id": client_id, "scope": " ".join(scopes),
        "jti": jti, "iat": iat, "nbf": iat, "exp": iat + ttl, "email": email, "tid": tenant,
        "roles": sorted(roles), "fid": family_id,
    }
    return keys.sign(claims), jti, iat + ttl


class FacadeAuthenticator:
    """The :class:`hub.auth.base.Authenticator` for ``auth.mode = "facade"``: verifies the hub's own access tokens.

    Also an :class:`hub.seams.OffboardingHooks`: ``on_user_deleted`` revokes every grant family of the user, so their
    refresh tokens stop working at once and their access tokens on the next request."""

    def __init__(self, keys: KeyRing, store: FacadeStore, *, issuer: str, resource: str, tenants: list[str],
                 leeway: int = 60, on_offboard: list[Callable[[str], Any]] | None = None) -> None:
        self.keys = keys
        self.store = store
        self.issuer = issuer
        self.resource = resource
        self.tenants = set(tenants)
        self.leeway = leeway
        self.on_offboard = on_offboard or []

    async def authenticate(self, token: str) -> Principal:
        """Verify a facade-issued access token (RFC 9068) and return its ``Principal``.

        Raises ``InvalidToken`` for a bad header/signature, unknown kid, wrong ``iss``/``aud``/tenant/``sub``;
        ``UserNotProvisioned`` if its grant family is revoked or it carries no known role.
        """
        if not token:
            raise InvalidToken("empty bearer token", reason="malformed_token")
        header = check_header(token, (self.keys.alg,))
        if peek_audience(token) & GRAPH_AUDIENCES:
            raise InvalidToken("a Microsoft Graph token is not a token for this hub", reason="graph_audience")
        key = self.keys.public_key(header["kid"])
        if key is None and self.keys.reload():  # rotated by another replica since we loaded the ring?
            key = self.keys.public_key(header["kid"])
        if key is None:
            raise InvalidToken("the token's signing key is not in the hub's key ring", reason="unknown_kid")
        claims = decode_verified(token, key, algorithms=[self.keys.alg], leeway=self.leeway, required=REQUIRED)
        if claims["iss"] != self.issuer:
            raise InvalidToken("the token was issued by another authorization server", reason="wrong_issuer")
        if claims["aud"] != self.resource:
            raise InvalidToken("the token was issued for another resource", reason="wrong_audience")
        tid = claims.get("tid")
        if not isinstance(tid, str) or not tid:
            raise InvalidToken("the token lacks the required claim 'tid'", reason="missing_claim")
        if tid not in self.tenants:
            raise InvalidToken("the token's tenant is not allowed on this hub", reason="tenant_not_allowed")
        sub = claims["sub"]
        if not isinstance(sub, str) or sub.count(":") != 1 or not sub.startswith(tid + ":"):
            raise InvalidToken("the token subject is not a tenant:object id pair", reason="missing_claim")
        fid = claims.get("fid")
        family = self.store.get_family(fid) if isinstance(fid, str) else None
        if family is None or family.revoked or family.user_id != sub:
            raise UserNotProvisioned("the grant behind this token was revoked", reason="revoked")
        roles = frozenset(r for r in claims.get("roles", []) if r in ROLES)
        if not roles:
            raise UserNotProvisioned("the user holds no role on this hub", reason="unknown_user")
        return Principal(
            user_id=sub,
            email=str(claims.get("email", "")),
            tenant=tid,
            roles=frozenset(roles),  # type: ignore[arg-type]
            scopes=frozenset(str(claims.get("scope", "")).split()),
            token_id=claims["jti"],
            expires_at=float(claims["exp"]),
        )

    async def on_user_deleted(self, user_id: str) -> None:
        """Offboarding hook: revoke every grant family of ``user_id``, then run the ``on_offboard`` callbacks."""
        self.store.revoke_user(user_id, time.time())
        for hook in self.on_offboard:
            hook(user_id)


