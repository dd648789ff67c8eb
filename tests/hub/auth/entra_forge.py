"""Bad-token factory shared by the negative matrices of the ``entra`` and ``facade`` modes.

``bad_tokens(good_claims, sign, public_pem, ...)`` returns ``[(case, token, expected_reason)]``. ``sign(claims,
headers=None, kid=None)`` signs like the real issuer; the rest is built by hand (alg none, HS256 keyed with the
public key, edited payloads) because no library will produce those on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_jwt(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    h = b64url(json.dumps(header).encode())
    p = b64url(json.dumps(claims).encode())
    return f"{h}.{p}.{b64url(signature)}"


def hs256_with(key: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    h = b64url(json.dumps(header).encode())
    p = b64url(json.dumps(claims).encode())
    sig = hmac.new(key, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64url(sig)}"


def tamper(token: str, **changes: Any) -> str:
    h, p, s = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    claims.update(changes)
    return f"{h}.{b64url(json.dumps(claims).encode())}.{s}"


Sign = Callable[..., str]


def bad_tokens(
    good: dict[str, Any],
    sign: Sign,
    *,
    kid: str,
    alg: str,
    public_pem: bytes,
    sign_unknown_kid: Callable[[dict[str, Any]], str],
    wrong_aud: str,
    wrong_iss: str,
    other_tenant: dict[str, Any] | None = None,
    graph: dict[str, Any] | None = None,
    required: tuple[str, ...] = ("exp", "iat", "iss", "aud", "sub"),
) -> list[tuple[str, str, str]]:
    now = int(time.time())
    cases: list[tuple[str, str, str]] = [
        ("alg_none", raw_jwt({"alg": "none", "kid": kid, "typ": "JWT"}, good), "alg_not_allowed"),
        ("alg_none_upper", raw_jwt({"alg": "None", "kid": kid}, good), "alg_not_allowed"),
        ("hs256_key_confusion", hs256_with(public_pem, {"alg": "HS256", "kid": kid, "typ": "JWT"}, good),
         "alg_not_allowed"),
        ("unknown_kid", sign_unknown_kid(good), "unknown_kid"),
        ("no_kid", raw_jwt({"alg": alg}, good, b"x" * 64), "unknown_kid"),
        ("jku_header", sign(good, headers={"jku": "https://evil.example/keys"}), "header_not_allowed"),
        ("x5u_header", sign(good, headers={"x5u": "https://evil.example/cert"}), "header_not_allowed"),
        ("jwk_header", sign(good, headers={"jwk": {"kty": "oct", "k": "AAAA"}}), "header_not_allowed"),
        ("expired", sign({**good, "exp": now - 3600, "iat": now - 7200, "nbf": now - 7200}), "expired"),
        ("not_yet_valid", sign({**good, "nbf": now + 3600, "iat": now}), "not_yet_valid"),
        ("iat_in_future", sign({**good, "iat": now + 3600, "nbf": now - 10}), "not_yet_valid"),
        ("wrong_aud", sign({**good, "aud": wrong_aud}), "wrong_audience"),
        ("wrong_iss", sign({**good, "iss": wrong_iss}), "wrong_issuer"),
        ("tampered_payload", tamper(sign(good), sub="someone-else"), "bad_signature"),
        ("garbage", "not-a-jwt", "malformed_token"),
    ]
    for claim in required:
        cases.append((f"missing_{claim}", sign({k: v for k, v in good.items() if k != claim}), "missing_claim"))
    if other_tenant is not None:
        cases.append(("other_tenant", sign(other_tenant), "tenant_not_allowed"))
    if graph is not None:
        cases.append(("graph_aud", sign(graph), "graph_audience"))
    return cases


def entra_matrix(mock_entra: Any, unpublished: str) -> list[tuple[str, str, str]]:
    """The matrix for Entra-signed tokens (the ``entra`` mode), signed by the mock's keys."""
    from cryptography.hazmat.primitives import serialization

    from tests.mock_entra import GRAPH_APP_ID, HUB_CLIENT_ID, OTHER_TENANT, TENANT

    user = mock_entra.users["alice@example.com"]
    good = mock_entra.claims_for(user, aud=HUB_CLIENT_ID)
    other = mock_entra.users["mallory@other.example"]
    pem = mock_entra.keys[mock_entra.active_kid].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return bad_tokens(
        good,
        lambda claims, headers=None, kid=None: mock_entra.sign(claims, headers=headers, kid=kid),
        kid=mock_entra.active_kid, alg="RS256", public_pem=pem,
        sign_unknown_kid=lambda c: mock_entra.sign(c, kid=unpublished),
        wrong_aud="api://someone-else", wrong_iss=f"https://login.microsoftonline.com/{TENANT}/v2.0/",
        other_tenant=mock_entra.claims_for(other, aud=HUB_CLIENT_ID),
        graph=mock_entra.claims_for(user, aud=GRAPH_APP_ID, scp="User.Read"),
    ) + [
        ("missing_tid", mock_entra.sign({k: v for k, v in good.items() if k != "tid"}), "missing_claim"),
        ("missing_oid", mock_entra.sign({k: v for k, v in good.items() if k != "oid"}), "missing_claim"),
        ("v1_issuer_of_other_tenant", mock_entra.sign({**good, "iss": f"https://sts.windows.net/{OTHER_TENANT}/"}),
         "wrong_issuer"),
        ("es256_alg", mock_entra.sign(good).replace(mock_entra.sign(good).split(".")[0], "eyJhbGciOiJFUzI1NiIsImtpZCI6IngifQ"),
         "alg_not_allowed"),
    ]
