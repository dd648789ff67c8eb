"""Admin API for pre-registered clients: admin role required, secret shown once, removal revokes grants."""

from __future__ import annotations

import secrets
import time

import httpx2
import jwt
import pytest

from hub.auth.facade.store import FamilyRow
from tests.mock_entra import TENANT

pytestmark = pytest.mark.anyio


def hub_token(facade_hub, roles: list[str]) -> str:
    """A hub access token for a fresh grant family with ``roles``."""
    now = time.time()
    fid = "fam-" + secrets.token_hex(6)
    user = f"{TENANT}:admin-{fid}"
    facade_hub.facade.store.put_family(FamilyRow(
        family_id=fid, client_id="admin-test", user_id=user, email="root@example.com", tenant=TENANT,
        roles=" ".join(roles), scopes="mcp.access", resource=facade_hub.mcp_url, entra_tokens=None, created_at=now,
        expires_at=now + 600, revoked=False))
    keys = facade_hub.facade.keys
    claims = {"iss": facade_hub.facade.issuer, "aud": facade_hub.mcp_url, "sub": user, "jti": fid, "iat": int(now),
              "exp": int(now) + 300, "tid": TENANT, "roles": roles, "fid": fid, "scope": "mcp.access"}
    return jwt.encode(claims, keys._private[keys.active_kid], algorithm=keys.alg, headers={"kid": keys.active_kid})


async def test_admin_client_api(facade_hub):
    base = facade_hub.url + "/v1/facade/clients"
    admin = {"Authorization": f"Bearer {hub_token(facade_hub, ['admin'])}"}
    user = {"Authorization": f"Bearer {hub_token(facade_hub, ['user'])}"}
    async with httpx2.AsyncClient() as c:
        assert (await c.get(base)).status_code == 401
        r = await c.get(base, headers=user)
        assert r.status_code == 403 and r.json()["error"]["context"]["reason"] == "insufficient_role"
        r = await c.post(base, json={"name": "claude.ai (Acme)"}, headers=admin)
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["client_secret"] and created["redirect_uris"][0] == "https://claude.ai/api/mcp/auth_callback"
        listed = await c.get(base, headers=admin)
        assert created["client_id"] in listed.text and created["client_secret"] not in listed.text
        bad = await c.post(base, json={"name": "x", "redirect_uris": ["http://evil.example/cb"]}, headers=admin)
        assert bad.status_code == 400
        assert (await c.delete(f"{base}/{created['client_id']}", headers=admin)).status_code == 204
        assert (await c.delete(f"{base}/{created['client_id']}", headers=admin)).status_code == 404
