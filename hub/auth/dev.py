"""``auth.mode = "dev"``: the hub signs its own short-lived ES256 JWTs with a local key.

For local use and tests only. The signing key is a P-256 private key in PEM (PKCS#8) at ``auth.dev.key_file``
(default ``{data_dir}/dev-signing-key.pem``), created ``0600`` inside a ``0700`` directory on first use. Tokens::

    header  {"alg": "ES256", "typ": "JWT", "kid": <RFC 7638 thumbprint of the public key>}
    claims  {"iss": <hub base URL + prefix>, "aud": <the MCP URL>, "sub": <user id>, "email", "tid": "dev",
             "roles": [...], "scope": "mcp.access", "iat", "nbf", "exp", "jti"}

Verification (RFC 7519 §7.2, RFC 8725) refuses, each with its own ``reason``: no/garbled token (``malformed_token``),
any ``alg`` but ES256 (``alg_not_allowed``), key-carrying headers ``jku``/``x5u``/``jwk``/``x5c`` (``header_not_allowed``),
an unknown ``kid`` (``unknown_kid``), a bad signature (``bad_signature``), ``expired``, ``not_yet_valid``,
``wrong_audience``, ``wrong_issuer``, ``missing_claim``, a user outside ``auth.dev.users`` (``unknown_user``) and tokens
of an offboarded user issued before the offboarding (``revoked``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hub.auth.base import ROLES, InvalidToken, MissingToken, Principal, UserNotProvisioned
from hub.auth.entra import check_header, decode_verified
from hub.auth.revocations import Revocations
from hub.settings import HubSettings

DEFAULT_SCOPE = "mcp.access"


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_path(settings: HubSettings) -> Path:
    """Where the dev signing key lives."""
    configured = settings.auth.dev.key_file
    return Path(configured).expanduser() if configured else settings.storage.data_path / "dev-signing-key.pem"


def load_or_create_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """Read the P-256 key at ``path``, creating it (``0600``, parent ``0700``) when absent. Refuses a key file that
    group or others can read (``OSError``), as ssh does."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            return load_or_create_key(path)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        return key
    if path.stat().st_mode & 0o077:
        raise OSError(f"dev signing key {path} is readable by group or others; chmod 600 it")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise OSError(f"dev signing key {path} is not a P-256 key")
    return key


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """The public key as a JWK (RFC 7517) with ``kid`` = its RFC 7638 thumbprint."""
    nums = key.public_key().public_numbers()
    jwk = {"crv": "P-256", "kty": "EC", "x": _b64u(nums.x.to_bytes(32, "big")), "y": _b64u(nums.y.to_bytes(32, "big"))}
    thumb = _b64u(hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest())
    return {**jwk, "kid": thumb, "use": "sig", "alg": "ES256"}


class DevAuthenticator:
    """Mints and verifies dev-mode tokens. ``clock`` returns seconds since the epoch (injected in tests)."""

    def __init__(self, settings: HubSettings, *, key: ec.EllipticCurvePrivateKey | None = None, clock=time.time):
        self.settings = settings
        self.dev = settings.auth.dev
        self.key = key if key is not None else load_or_create_key(key_path(settings))
        self.jwk = public_jwk(self.key)
        self.kid = self.jwk["kid"]
        self.issuer = settings.server.base_url + settings.server.prefix
        self.audience = settings.server.mcp_url
        self.clock = clock
        #: user id → epoch seconds: tokens issued at or before it are refused (offboarding).
        self._revoked_before: dict[str, float] = {}
        #: Announces offboarding revocations to the app's verified-token cache (:mod:`hub.auth.revocations`).
        self.revocations = Revocations()

    # -- minting -------------------------------------------------------------------------------------------------
    def mint(self, user: str, *, roles: tuple[str, ...] = ("user",), ttl: int | None = None,
             extra: dict[str, Any] | None = None) -> str:
        """A signed token for ``user`` (its e-mail; lowercased). ``ttl`` seconds, default ``auth.dev.token_ttl_seconds``."""
        for role in roles:
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        now = int(self.clock())
        user = user.strip().lower()
        claims = {
            "iss": self.issuer, "aud": self.audience, "sub": user, "email": user, "tid": "dev",
            "roles": list(roles), "scope": DEFAULT_SCOPE, "iat": now, "nbf": now,
            "exp": now + (ttl if ttl is not None else self.dev.token_ttl_seconds), "jti": secrets.token_urlsafe(12),
            **(extra or {}),
        }
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": self.kid})

    # -- verifying -----------------------------------------------------------------------------------------------
    async def authenticate(self, token: str) -> Principal:
        """Async form of ``verify``: the principal of a dev token; raises ``InvalidToken``."""
        return self.verify(token)

    def verify(self, token: str) -> Principal:
        """The :class:`Principal` for ``token``, or raise :class:`InvalidToken` / :class:`UserNotProvisioned`."""
        if not token:
            raise MissingToken("no bearer token")
        # The same structural checks and PyJWT error mapping as the Entra and facade verifiers (one place for reasons).
        header = check_header(token, ("ES256",))
        if header.get("kid") != self.kid:
            raise InvalidToken("token was signed by an unknown key", reason="unknown_kid")
        claims = decode_verified(token, self.key.public_key(), algorithms=["ES256"], leeway=self.dev.leeway_seconds)
        aud = claims["aud"]
        if self.audience not in (aud if isinstance(aud, list) else [aud]):
            raise InvalidToken("token was issued for another audience", reason="wrong_audience")
        if claims["iss"] != self.issuer:
            raise InvalidToken("token was issued by another issuer", reason="wrong_issuer")
        user = str(claims["sub"]).lower()
        if self.dev.users is not None and user not in {u.lower() for u in self.dev.users}:
            raise UserNotProvisioned("this user is not provisioned on the hub", reason="unknown_user")
        cutoff = self._revoked_before.get(user)
        if cutoff is not None and claims["iat"] <= cutoff:
            raise InvalidToken("token was revoked", reason="revoked")
        roles = frozenset(r for r in claims.get("roles", []) if r in ROLES)
        return Principal(
            user_id=user, email=str(claims.get("email", user)).lower(), tenant="dev", roles=roles,
            scopes=frozenset(str(claims.get("scope", "")).split()), token_id=claims.get("jti"),
            expires_at=float(claims["exp"]),
        )

    # -- offboarding (hub.seams.OffboardingHooks) -----------------------------------------------------------------
    async def on_user_deleted(self, user_id: str) -> None:
        """Refuse every token of ``user_id`` issued up to now, cached ones included."""
        self._revoked_before[user_id.lower()] = float(int(self.clock()))
        self.revocations.publish(user_id=user_id.lower())


class _KeyLoaded:
    name = "dev_signing_key"

    def __init__(self, auth: DevAuthenticator) -> None:
        self._auth = auth

    async def check(self) -> None:
        if self._auth.key is None:  # pragma: no cover - constructor guarantees it
            raise RuntimeError("dev signing key not loaded")


def build_auth(settings: HubSettings):
    """The ``dev`` mode's :class:`hub.seams.AuthBundle`: the authenticator, RFC 9728 metadata naming the hub itself
    as authorization server, a JWKS route at ``{prefix}/.well-known/jwks.json``, a key probe and token revocation on
    offboarding."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from hub.seams import AuthBundle, Component, ResourceMetadata

    auth = DevAuthenticator(settings)

    async def jwks(_request):
        return JSONResponse({"keys": [auth.jwk]})

    prefix = settings.server.prefix
    return AuthBundle(
        authenticator=auth,
        resource_metadata=ResourceMetadata(authorization_servers=(auth.issuer,), scopes_supported=(DEFAULT_SCOPE,)),
        component=Component(
            name="auth.dev",
            routes=[Route(f"{prefix}/.well-known/jwks.json", jwks, methods=["GET"])],
            probes=[_KeyLoaded(auth)],
            offboarding=[auth],
            revocations=auth.revocations,
        ),
    )


__all__ = ["DevAuthenticator", "build_auth", "key_path", "load_or_create_key", "public_jwk"]
