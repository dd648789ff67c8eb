"""Admin API for pre-registered clients: admin role required, secret shown once, removal revokes grants."""

from __future__ import annotations

import httpx2
import pytest

from facade_harness import hub_token

pytestmark = pytest.mark.anyio


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
