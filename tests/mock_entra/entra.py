"""State and routes of the mock Entra authority. See the package docstring."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

HOST = "https://login.microsoftonline.com"
TENANT = "11111111-1111-4111-8111-111111111111"
OTHER_TENANT = "22222222-2222-4222-8222-222222222222"
HUB_CLIENT_ID = "33333333-3333-4333-8333-333333333333"
HUB_CLIENT_SECRET = "mock-hub-secret-" + "x" * 16
HUB_APP_ID_URI = "api://mcpguard-hub"
DOWNSTREAM_CLIENT_ID = "44444444-4444-4444-8444-444444444444"
DOWNSTREAM_APP_ID_URI = "api://downstream-mcp"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class MockUser:
    email: str
    tid: str = TENANT
    oid: str = field(default_factory=lambda: str(uuid.uuid4()))
    roles: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    disabled: bool = False
    claim_style: str = "email"  # which claim carries the address: email | preferred_username | upn


@dataclass
class MockApp:
    client_id: str
    secret: str
    app_id_uri: str
    redirect_uris: list[str] = field(default_factory=list)
    token_version: int = 2


class MockEntra:
    """Mutable mock state: keys, users, app registrations, issued codes and refresh tokens, counters."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.published: set[str] = set()
        self.active_kid = self.add_key()
        self.users: dict[str, MockUser] = {}
        self.apps: dict[str, MockApp] = {
            HUB_CLIENT_ID: MockApp(HUB_CLIENT_ID, HUB_CLIENT_SECRET, HUB_APP_ID_URI),
            DOWNSTREAM_CLIENT_ID: MockApp(DOWNSTREAM_CLIENT_ID, "downstream-secret", DOWNSTREAM_APP_ID_URI),
        }
        self.codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.counts: dict[str, int] = {"jwks": 0, "obo": 0, "refresh": 0, "auth_code": 0, "discovery": 0}
        self.jwks_fail = False

    # --- keys and users -------------------------------------------------------------------------------------------
    def add_key(self, *, publish: bool = True) -> str:
        kid = "kid-" + secrets.token_hex(4)
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if publish:
            self.published.add(kid)
        return kid

    def jwks(self) -> dict[str, Any]:
        out = []
        for kid in sorted(self.published):
            jwk = json.loads(RSAAlgorithm.to_jwk(self.keys[kid].public_key()))
            jwk.update(kid=kid, use="sig", alg="RS256")
            out.append(jwk)
        return {"keys": out}

    def add_user(self, email: str, **kw: Any) -> MockUser:
        user = MockUser(email=email, **kw)
        self.users[email.lower()] = user
        return user

    def disable_user(self, email: str) -> None:
        self.users[email.lower()].disabled = True

    def register_redirect(self, client_id: str, uri: str) -> None:
        if uri not in self.apps[client_id].redirect_uris:
            self.apps[client_id].redirect_uris.append(uri)

    # --- tokens ---------------------------------------------------------------------------------------------------
    def issuer(self, tid: str, version: int = 2) -> str:
        return f"https://sts.windows.net/{tid}/" if version == 1 else f"{HOST}/{tid}/v2.0"

    def claims_for(self, user: MockUser, *, aud: str, version: int = 2, scp: str | None = "mcp.access",
                   lifetime: int = 3600, now: int | None = None) -> dict[str, Any]:
        now = int(time.time()) if now is None else now
        claims: dict[str, Any] = {
            "aud": aud,
            "iss": self.issuer(user.tid, version),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "sub": "pairwise-" + user.oid[:8],
            "oid": user.oid,
            "tid": user.tid,
            "ver": "1.0" if version == 1 else "2.0",
            "uti": secrets.token_urlsafe(12),
        }
        if scp:
            claims["scp"] = scp
        if user.roles:
            claims["roles"] = list(user.roles)
        if user.groups:
            claims["groups"] = list(user.groups)
        if version == 1:
            claims["upn" if user.claim_style != "email" else "unique_name"] = user.email
            if user.claim_style == "email":
                claims["email"] = user.email
        else:
            key = {"email": "email", "preferred_username": "preferred_username", "upn": "upn"}[user.claim_style]
            claims[key] = user.email
        return claims

    def sign(self, claims: dict[str, Any], *, kid: str | None = None, headers: dict[str, Any] | None = None) -> str:
        kid = kid or self.active_kid
        hdr = {"kid": kid, "typ": "JWT"}
        hdr.update(headers or {})
        return jwt.encode(claims, self.keys[kid], algorithm="RS256", headers=hdr)

    def access_token(self, email: str, *, aud: str = HUB_CLIENT_ID, version: int = 2, **kw: Any) -> str:
        return self.sign(self.claims_for(self.users[email.lower()], aud=aud, version=version, **kw))

    def _resource_for_scopes(self, scopes: list[str]) -> tuple[str | None, list[str]]:
        """Entra: every non-OIDC scope of one request must belong to one resource; returns (aud, short scopes)."""
        resource, short = None, []
        for s in scopes:
            if s in ("openid", "profile", "offline_access", "email"):
                continue
            for app in self.apps.values():
                if s.startswith(app.app_id_uri + "/"):
                    resource = app.client_id
                    short.append(s[len(app.app_id_uri) + 1 :])
                    break
            else:
                resource = GRAPH_APP_ID
                short.append(s.rsplit("/", 1)[-1])
        return resource, short

    def _token_response(self, user: MockUser, client_id: str, scopes: list[str], nonce: str | None,
                        *, with_refresh: bool = True) -> dict[str, Any]:
        aud, short = self._resource_for_scopes(scopes)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(scopes),
            "expires_in": 3600,
            "ext_expires_in": 3600,
        }
        if aud is not None:
            version = self.apps[aud].token_version if aud in self.apps else 1
            body["access_token"] = self.sign(self.claims_for(user, aud=aud, version=version,
                                                             scp=" ".join(short) or None))
        id_claims = {
            "aud": client_id, "iss": self.issuer(user.tid), "iat": int(time.time()), "nbf": int(time.time()),
            "exp": int(time.time()) + 3600, "sub": "pairwise-" + user.oid[:8], "oid": user.oid, "tid": user.tid,
            "preferred_username": user.email, "name": user.email.split("@")[0], "ver": "2.0",
        }
        if user.roles:
            id_claims["roles"] = list(user.roles)
        if user.groups:
            id_claims["groups"] = list(user.groups)
        if nonce:
            id_claims["nonce"] = nonce
        body["id_token"] = self.sign(id_claims)
        body["client_info"] = b64url(json.dumps({"uid": user.oid, "utid": user.tid}).encode())
        if with_refresh:
            rt = "mock-rt-" + secrets.token_urlsafe(24)
            self.refresh_tokens[rt] = {"email": user.email.lower(), "client_id": client_id, "scopes": scopes}
            body["refresh_token"] = rt
        return body

    def verify_own(self, token: str) -> dict[str, Any] | None:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self.keys[kid].public_key()
            return jwt.decode(token, key, algorithms=["RS256"], options={"verify_aud": False})
        except Exception:
            return None

    # --- routes ---------------------------------------------------------------------------------------------------
    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/{tid}/v2.0/.well-known/openid-configuration", self._discovery),
            Route("/{tid}/discovery/v2.0/keys", self._keys),
            Route("/common/discovery/v2.0/keys", self._keys),
            Route("/{tid}/oauth2/v2.0/authorize", self._authorize),
            Route("/{tid}/oauth2/v2.0/token", self._token, methods=["POST"]),
        ])

    async def _discovery(self, request: Request) -> Response:
        self.counts["discovery"] += 1
        tid = request.path_params["tid"]
        base = f"{HOST}/{tid}"
        return JSONResponse({
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "id_token_signing_alg_values_supported": ["RS256"],
            # Like real Entra: no code_challenge_methods_supported, no registration_endpoint.
        })

    async def _keys(self, request: Request) -> Response:
        self.counts["jwks"] += 1
        if self.jwks_fail:
            return JSONResponse({"error": "unavailable"}, status_code=503)
        return JSONResponse(self.jwks())

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        app = self.apps.get(q.get("client_id", ""))
        redirect_uri = q.get("redirect_uri", "")
        if app is None or redirect_uri not in app.redirect_uris:
            return HTMLResponse("AADSTS50011: redirect URI mismatch", status_code=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return HTMLResponse("AADSTS501491: PKCE required", status_code=400)
        if "resource" in q:
            # Entra v2 checks `resource` strictly (AADSTS9010010); the hub must never forward the MCP resource.
            return HTMLResponse("AADSTS9010010: resource parameter not allowed", status_code=400)
        params: dict[str, str] = {"state": q.get("state", "")}
        user = self.users.get((q.get("login_hint") or "").lower())
        if user is None:
            return HTMLResponse("<html><body>Sign in (mock): pass login_hint</body></html>")
        if user.disabled:
            params.update(error="access_denied", error_description="AADSTS50057: The user account is disabled.")
        else:
            code = "mock-code-" + secrets.token_urlsafe(24)
            self.codes[code] = {
                "email": user.email.lower(), "client_id": app.client_id, "redirect_uri": redirect_uri,
                "challenge": q["code_challenge"], "nonce": q.get("nonce"), "scopes": q.get("scope", "").split(),
            }
            params["code"] = code
            params["client_info"] = b64url(json.dumps({"uid": user.oid, "utid": user.tid}).encode())
        if q.get("response_mode") == "form_post":
            fields = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
            )
            return HTMLResponse(
                f'<html><body onload="document.forms[0].submit()"><form method="post" '
                f'action="{html.escape(redirect_uri)}">{fields}</form></body></html>'
            )
        return RedirectResponse(redirect_uri + "?" + urlencode(params), status_code=302)

    def _client_ok(self, form: Any, request: Request) -> MockApp | None:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        app = self.apps.get(client_id or "")
        if app is None or not secret or not secrets.compare_digest(app.secret, secret):
            return None
        return app

    @staticmethod
    def _error(code: str, desc: str, status: int = 400) -> Response:
        return JSONResponse({"error": code, "error_description": desc}, status_code=status)

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        app = self._client_ok(form, request)
        if app is None:
            return self._error("invalid_client", "AADSTS7000215: Invalid client secret provided.", 401)
        grant = form.get("grant_type")
        scopes = str(form.get("scope", "")).split()
        if grant == "authorization_code":
            self.counts["auth_code"] += 1
            entry = self.codes.pop(str(form.get("code", "")), None)
            if entry is None or entry["client_id"] != app.client_id:
                return self._error("invalid_grant", "AADSTS70008: code expired or already used")
            if form.get("redirect_uri") != entry["redirect_uri"]:
                return self._error("invalid_grant", "AADSTS50148: redirect_uri mismatch")
            verifier = str(form.get("code_verifier", ""))
            if b64url(hashlib.sha256(verifier.encode()).digest()) != entry["challenge"]:
                return self._error("invalid_grant", "AADSTS501481: code_verifier mismatch")
            user = self.users[entry["email"]]
            return JSONResponse(self._token_response(user, app.client_id, entry["scopes"], entry["nonce"]))
        if grant == "refresh_token":
            self.counts["refresh"] += 1
            entry = self.refresh_tokens.pop(str(form.get("refresh_token", "")), None)
            if entry is None or entry["client_id"] != app.client_id:
                return self._error("invalid_grant", "AADSTS70000: refresh token invalid")
            user = self.users[entry["email"]]
            if user.disabled:
                return self._error("invalid_grant", "AADSTS50057: The user account is disabled.")
            return JSONResponse(self._token_response(user, app.client_id, scopes or entry["scopes"], None))
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            self.counts["obo"] += 1
            if form.get("requested_token_use") != "on_behalf_of":
                return self._error("invalid_request", "AADSTS50027: requested_token_use must be on_behalf_of")
            claims = self.verify_own(str(form.get("assertion", "")))
            if claims is None or claims.get("aud") not in (app.client_id, app.app_id_uri):
                return self._error("invalid_grant", "AADSTS50013: Assertion failed signature validation or audience")
            user = next((u for u in self.users.values() if u.oid == claims.get("oid")), None)
            if user is None or user.disabled:
                return self._error("invalid_grant", "AADSTS50057: The user account is disabled.")
            body = self._token_response(user, app.client_id, scopes, None, with_refresh=False)
            body.pop("id_token", None)
            return JSONResponse(body)
        return self._error("unsupported_grant_type", "AADSTS70003: unsupported grant type")
