"""``auth.mode = "entra"``: the hub as a resource server for Microsoft Entra ID access tokens.

Rules (Microsoft identity platform "Access tokens" and "Validate tokens"; RFC 7519 §4.1; RFC 8725 §3.1–3.2):

* header: ``alg`` must be ``RS256`` (no ``none``, no HS*, no ES*); ``kid`` required and looked up in the authority's
  JWKS only — a token carrying ``jku``, ``x5u``, ``jwk`` or ``x5c`` is refused outright;
* claims ``exp``, ``iat``, ``iss``, ``aud``, ``sub`` required, 60 s leeway (``auth.entra.leeway_seconds``);
* ``tid`` in the configured allowlist (signing keys are shared by every tenant, so a validly signed token from
  another tenant is normal and must be refused), and ``iss`` equal to the v1 (``https://sts.windows.net/{tid}/``) or
  v2 (``{authority}/{tid}/v2.0``) issuer of that tenant;
* ``aud`` ∈ {client id, App ID URI}; a Microsoft Graph token (``aud`` 00000003-0000-0000-c000-000000000000) is
  refused with its own reason: only Graph can validate those;
* ``oid`` required: the hub keys every per-user thing by ``tid:oid``. The address for display and mapping comes from
  ``email`` → ``preferred_username`` → ``upn``, stripped and lowercased.

Each failure raises an :class:`hub.auth.base.AuthError` with a precise ``reason``; messages never contain the token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt

from hub.auth.base import AuthError, Forbidden, InvalidToken, Principal, UserNotProvisioned
from hub.auth.config import GRAPH_APP_ID, EntraSettings
from hub.auth.entra_http import host_map_for, rewrite_url
from hub.auth.jwks import JwksCache, JwksUnavailable, UnknownKid, httpx_fetcher
from hub.auth.roles import map_roles
from mcpguard.errors import ConfigError

#: Header parameters that would let a token choose its own verification key (RFC 8725 §3.10, RFC 7515 §4.1.2–4.1.6).
FORBIDDEN_HEADERS = ("jku", "x5u", "jwk", "x5c")
GRAPH_AUDIENCES = {GRAPH_APP_ID, "https://graph.microsoft.com", "https://graph.microsoft.com/"}
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")


def email_from_claims(claims: dict[str, Any]) -> str:
    """``email`` → ``preferred_username`` → ``upn`` → ``unique_name``, stripped and lowercased; ``""`` if none."""
    for name in ("email", "preferred_username", "upn", "unique_name"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    return ""


def check_header(token: str, allowed_algs: tuple[str, ...]) -> dict[str, Any]:
    """The unverified JOSE header after the structural checks; raises :class:`InvalidToken`."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("the bearer token is not a well-formed JWT", reason="malformed_token") from None
    bad = [h for h in FORBIDDEN_HEADERS if h in header]
    if bad:
        raise InvalidToken(f"token header carries a key reference ({', '.join(bad)}) that is never honoured",
                           reason="header_not_allowed")
    alg = header.get("alg")
    if alg not in allowed_algs:
        raise InvalidToken(f"token algorithm {str(alg)[:16]!r} is not allowed", reason="alg_not_allowed")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise InvalidToken("token header has no key id", reason="unknown_kid")
    return header


def decode_verified(token: str, key: Any, *, algorithms: list[str], leeway: int,
                    required: tuple[str, ...] = REQUIRED_CLAIMS) -> dict[str, Any]:
    """Verify signature and time claims with PyJWT, mapping its errors to reasons. Audience and issuer are checked
    by the caller (to give them their own reasons)."""
    try:
        return jwt.decode(
            token, key, algorithms=algorithms, leeway=leeway,
            options={"require": list(required), "verify_aud": False, "verify_iss": False},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired", reason="expired") from None
    except jwt.ImmatureSignatureError:
        raise InvalidToken("the token is not valid yet (nbf/iat in the future)", reason="not_yet_valid") from None
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken(f"the token lacks the required claim {exc.claim!r}", reason="missing_claim") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("the token signature does not verify", reason="bad_signature") from None
    except jwt.InvalidAlgorithmError:
        raise InvalidToken("the token algorithm is not allowed", reason="alg_not_allowed") from None
    except jwt.PyJWTError:
        raise InvalidToken("the token could not be decoded", reason="malformed_token") from None


def peek_audience(token: str) -> set[str]:
    """The ``aud`` claim of an UNVERIFIED JWT as a set of strings (empty if undecodable); for diagnostics only."""
    try:
        aud = jwt.decode(token, options={"verify_signature": False}).get("aud")
    except jwt.PyJWTError:
        return set()
    return {aud} if isinstance(aud, str) else {a for a in aud if isinstance(a, str)} if isinstance(aud, list) else set()


class EntraAuthenticator:
    """Verifies Entra access tokens for the hub's app registration (see the module docstring).

    ``jwks`` defaults to a cache on ``{authority}/common/discovery/v2.0/keys`` reached through the authority host
    map. ``is_revoked(user_id)`` lets offboarding shut a user out before their Entra token expires. The last verified
    token per user is kept (until it expires) as the OBO user assertion (``assertion_for``)."""

    def __init__(
        self,
        settings: EntraSettings,
        *,
        jwks: JwksCache | None = None,
        is_revoked: Callable[[str], Awaitable[bool]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        settings.check_complete()
        self.settings = settings
        if jwks is None:
            hosts = host_map_for(settings.authority, settings.authority_transport_url)
            jwks = JwksCache(
                f"{settings.authority.rstrip('/')}/common/discovery/v2.0/keys",
                httpx_fetcher(timeout=settings.http_timeout_seconds, rewrite=lambda u: rewrite_url(u, hosts)),
                ttl=settings.jwks_ttl_seconds,
                cooldown=settings.jwks_cooldown_seconds,
            )
        self.jwks = jwks
        self.is_revoked = is_revoked
        self.clock = clock
        self._issuers = settings.issuers()
        self._audiences = settings.audiences()
        self._assertions: dict[str, tuple[str, float]] = {}

    async def authenticate(self, token: str) -> Principal:
        """Verify an Entra ID access token (RS256 against the tenant JWKS) and map it to a ``Principal``.

        Raises ``InvalidToken`` (with ``reason``) for empty, malformed, Graph-audience, unknown-kid or badly signed
        tokens,
        or when the signing keys are unavailable.
        """
        if not token:
            raise InvalidToken("empty bearer token", reason="malformed_token")
        header = check_header(token, ("RS256",))
        # A Graph token can be neither verified nor used by the hub; say so before a confusing signature error.
        if peek_audience(token) & GRAPH_AUDIENCES:
            raise InvalidToken("a Microsoft Graph token is not a token for this hub", reason="graph_audience")
        try:
            key = await self.jwks.get_key(header["kid"])
        except UnknownKid:
            raise InvalidToken("the token's signing key is not published by the authority", reason="unknown_kid") from None
        except JwksUnavailable:
            raise InvalidToken("the authority's signing keys are unavailable", reason="jwks_unavailable") from None
        claims = decode_verified(token, key, algorithms=["RS256"], leeway=self.settings.leeway_seconds)
        return await self.principal_from_claims(claims, token)

    async def principal_from_claims(self, claims: dict[str, Any], token: str | None = None) -> Principal:
        """``Principal`` from already verified claims: checks ``aud``, allowed ``tid``, the
        tenant's ``iss`` and the user claims. ``token`` is kept for the on-behalf-of exchange.

        Raises ``InvalidToken`` (with ``reason``) when a check fails.
        """
        aud = claims.get("aud")
        auds = {aud} if isinstance(aud, str) else set(aud) if isinstance(aud, list) else set()
        if auds & GRAPH_AUDIENCES:
            raise InvalidToken("a Microsoft Graph token is not a token for this hub", reason="graph_audience")
        if not auds & self._audiences:
            raise InvalidToken("the token was issued for another audience", reason="wrong_audience")
        tid = claims.get("tid")
        if not isinstance(tid, str) or not tid:
            raise InvalidToken("the token lacks the required claim 'tid'", reason="missing_claim")
        if tid not in self.settings.tenant_ids:
            raise InvalidToken("the token's tenant is not allowed on this hub", reason="tenant_not_allowed")
        if self._issuers.get(claims.get("iss", "")) != tid:
            raise InvalidToken("the token's issuer is not the configured Entra tenant", reason="wrong_issuer")
        oid = claims.get("oid")
        if not isinstance(oid, str) or not oid:
            raise InvalidToken("the token lacks the required claim 'oid'", reason="missing_claim")
        scopes = frozenset(str(claims.get("scp", "")).split())
        if self.settings.required_scopes and not scopes & set(self.settings.required_scopes):
            raise Forbidden("the token does not carry the hub's delegated scope", reason="insufficient_scope")
        user_id = f"{tid}:{oid}"
        roles = map_roles(claims, self.settings.roles)
        if not roles:
            raise UserNotProvisioned("the user holds no role on this hub", reason="unknown_user")
        if self.is_revoked is not None and await self.is_revoked(user_id):
            raise UserNotProvisioned("the user has been offboarded from this hub", reason="revoked")
        exp = float(claims["exp"])
        if token is not None:
            self._assertions[user_id] = (token, exp)
        return Principal(
            user_id=user_id,
            email=email_from_claims(claims),
            tenant=tid,
            roles=roles,
            scopes=scopes,
            token_id=claims.get("uti") if isinstance(claims.get("uti"), str) else None,
            expires_at=exp,
        )

    async def assertion_for(self, principal: Principal) -> str | None:
        """The caller's latest verified Entra token (the OBO ``assertion``) while it is still valid, else None."""
        entry = self._assertions.get(principal.user_id)
        if entry is None or entry[1] <= self.clock() + 30:
            return None
        return entry[0]

    def forget(self, user_id: str) -> None:
        """Drop the cached user assertion of ``user_id`` (e.g. on offboarding); no-op if none."""
        self._assertions.pop(user_id, None)

    async def on_user_deleted(self, user_id: str) -> None:
        """Offboarding: drop the held OBO assertion. (Refusing the user's further Entra tokens is the user
        directory's ``admit``; Entra itself should also disable the account.)"""
        self.forget(user_id)




def build_auth(settings: Any, **inject: Any) -> Any:
    """The ``entra`` mode's :class:`hub.seams.AuthBundle`: this authenticator, RFC 9728 metadata naming the Entra
    tenant (``{authority}/{tid}/v2.0``) as authorization server with the hub's delegated scope, the ``entra_obo``
    credential source (assertion: the caller's own verified Entra token), and offboarding that forgets the user.
    ``inject`` may carry ``jwks`` (a :class:`JwksCache`) and ``entra`` (an ``EntraApp``) for tests."""
    from hub.auth.facade import parse_entra
    from hub.auth.msal_app import EntraApp
    from hub.auth.obo import OboCredentialSource
    from hub.seams import AuthBundle, Component, ResourceMetadata

    es = parse_entra(settings.auth.entra)
    auth = EntraAuthenticator(es, jwks=inject.get("jwks"))
    base = es.authority.rstrip("/")
    components: dict[str, Any] = {"name": "auth.entra", "offboarding": [auth]}
    entra_app = inject.get("entra")
    if entra_app is None:
        try:
            entra_app = EntraApp(es, client_secret=es.client_secret())
        except ConfigError:
            # No client secret: the direct mode still authenticates; connectors with entra_obo credentials will
            # report the credential as unavailable.
            logging.getLogger("hub.auth.entra").warning("no Entra client secret configured: OBO credentials disabled")
    if entra_app is not None:
        obo = OboCredentialSource(entra_app, auth.assertion_for)
        components["credential_sources"] = {"entra_obo": obo}
        components["offboarding"] = [auth, obo]
    return AuthBundle(
        authenticator=auth,
        resource_metadata=ResourceMetadata(
            authorization_servers=tuple(f"{base}/{tid}/v2.0" for tid in es.tenant_ids),
            scopes_supported=(es.hub_scope(),),
        ),
        component=Component(**components),
    )


__all__ = ["AuthError", "EntraAuthenticator", "build_auth", "check_header", "decode_verified", "email_from_claims"]
