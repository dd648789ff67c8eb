"""``hub.auth.facade.tokens`` through the running hub: every bad token in the matrix gets 401 with its reason in the
JSON body and the RFC 9728 challenge; a token in the query string is refused too."""

from __future__ import annotations

import secrets
import time

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from entra_forge import bad_tokens
from hub.auth.facade.store import FamilyRow
from tests.mock_entra import GRAPH_APP_ID, OTHER_TENANT, TENANT

pytestmark = pytest.mark.anyio
ACCEPT = "application/json, text/event-stream"


@pytest.fixture(scope="module")
def family(facade_hub) -> FamilyRow:
    now = time.time()
    row = FamilyRow(family_id="fam-" + secrets.token_hex(8), client_id="matrix", user_id=f"{TENANT}:oid-matrix",
                    email="matrix@example.com", tenant=TENANT, roles="user", scopes="mcp.access",
                    resource=facade_hub.mcp_url, entra_tokens=None, created_at=now, expires_at=now + 3600,
                    revoked=False)
    facade_hub.facade.store.put_family(row)
    return row


def good_claims(facade_hub, family: FamilyRow) -> dict:
    now = int(time.time())
    return {"iss": facade_hub.facade.issuer, "aud": facade_hub.mcp_url, "sub": family.user_id, "client_id": "matrix",
            "scope": "mcp.access", "jti": secrets.token_urlsafe(8), "iat": now, "nbf": now, "exp": now + 300,
            "email": family.email, "tid": TENANT, "roles": ["user"], "fid": family.family_id}


def signer(facade_hub):
    keys = facade_hub.facade.keys

    def sign(claims, headers=None, kid=None):
        return jwt.encode(claims, keys._private[keys.active_kid], algorithm=keys.alg,
                          headers={"kid": kid or keys.active_kid, "typ": "at+jwt", **(headers or {})})

    return sign


async def post_mcp(url: str, token: str | None, *, query: str = "") -> httpx2.Response:
    headers = {"Accept": ACCEPT}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx2.AsyncClient(timeout=10) as c:
        return await c.post(url + query, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=headers)


async def test_good_token_accepted(facade_hub, family):
    r = await post_mcp(facade_hub.mcp_url, signer(facade_hub)(good_claims(facade_hub, family)))
    assert r.status_code != 401, r.text


async def test_negative_matrix_over_http(facade_hub, family):
    sign = signer(facade_hub)
    good = good_claims(facade_hub, family)
    keys = facade_hub.facade.keys
    pem = keys.public_key(keys.active_kid).public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    stranger = ec.generate_private_key(ec.SECP256R1())
    cases = bad_tokens(
        good, sign, kid=keys.active_kid, alg=keys.alg, public_pem=pem,
        sign_unknown_kid=lambda c: jwt.encode(c, stranger, algorithm="ES256", headers={"kid": "not-in-ring"}),
        wrong_aud="https://other.example/mcp", wrong_iss=facade_hub.facade.issuer + "/",
        other_tenant={**good, "tid": OTHER_TENANT, "sub": f"{OTHER_TENANT}:oid-matrix"},
        graph={**good, "aud": GRAPH_APP_ID},
        required=("exp", "iat", "iss", "aud", "sub", "jti"),
    )
    cases += [
        ("stranger_key_same_kid", jwt.encode(good, stranger, algorithm="ES256", headers={"kid": keys.active_kid}),
         "bad_signature"),
        ("rs256_alg", jwt.encode(good, rsa.generate_private_key(public_exponent=65537, key_size=2048),
                                 algorithm="RS256", headers={"kid": keys.active_kid}), "alg_not_allowed"),
        ("unknown_family", sign({**good, "fid": "nope"}), "revoked"),
    ]
    for case, token, reason in cases:
        r = await post_mcp(facade_hub.mcp_url, token)
        assert r.status_code == 401, (case, r.status_code, r.text)
        body = r.json()["error"]
        assert body["context"]["reason"] == reason, (case, body)
        assert body["code"] in ("INVALID_TOKEN", "USER_NOT_PROVISIONED") and body["context"]["request_id"], case
        assert token not in r.text, case
        assert r.headers["www-authenticate"].startswith("Bearer ") and "resource_metadata=" in r.headers[
            "www-authenticate"], case


async def test_token_in_query_string_refused(facade_hub, family):
    token = signer(facade_hub)(good_claims(facade_hub, family))
    r = await post_mcp(facade_hub.mcp_url, None, query=f"?access_token={token}")
    assert r.status_code == 401 and r.json()["error"]["context"]["reason"] == "token_in_query"


async def test_missing_token(facade_hub):
    r = await post_mcp(facade_hub.mcp_url, None)
    assert r.status_code == 401 and r.json()["error"]["code"] == "MISSING_TOKEN"


async def test_offboarding_revokes_grants(facade_hub):
    now = time.time()
    row = FamilyRow(family_id="fam-" + secrets.token_hex(8), client_id="matrix", user_id=f"{TENANT}:oid-leaver",
                    email="leaver@example.com", tenant=TENANT, roles="user", scopes="mcp.access",
                    resource=facade_hub.mcp_url, entra_tokens=None, created_at=now, expires_at=now + 3600,
                    revoked=False)
    facade_hub.facade.store.put_family(row)
    token = signer(facade_hub)({**good_claims(facade_hub, row), "sub": row.user_id, "fid": row.family_id})
    assert (await facade_hub.facade_auth.authenticate(token)).user_id == row.user_id
    await facade_hub.facade_auth.on_user_deleted(row.user_id)
    r = await post_mcp(facade_hub.mcp_url, token)
    assert r.status_code == 401 and r.json()["error"]["context"]["reason"] == "revoked"
