"""Admin API for pre-registered clients: admin role required, secret shown once, removal revokes grants; every
action (refusals too) is on the hub's hash-chained audit log before it takes effect, without secrets."""

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


def _records(facade_hub, since: int) -> list[dict]:
    import json

    path = facade_hub.app.state.hub.audit.path
    return [json.loads(line) for line in path.read_text().splitlines()[since:]]


async def test_admin_actions_are_audited_value_free(facade_hub):
    from mcpguard.audit import verify_file

    audit = facade_hub.app.state.hub.audit
    assert audit is not None  # PassPipeline has no log: build_app fell back to the vault's
    start = len(audit.path.read_text().splitlines()) if audit.path.exists() else 0
    base = facade_hub.url + "/v1/facade/clients"
    admin = {"Authorization": f"Bearer {hub_token(facade_hub, ['admin'])}"}
    user = {"Authorization": f"Bearer {hub_token(facade_hub, ['user'])}"}
    async with httpx2.AsyncClient() as c:
        assert (await c.get(base, headers=user)).status_code == 403
        created = (await c.post(base, json={"name": "Acme audit"}, headers=admin)).json()
        assert (await c.get(base, headers=admin)).status_code == 200
        assert (await c.delete(f"{base}/{created['client_id']}", headers=admin)).status_code == 204
    records = _records(facade_hub, start)
    assert [r["kind"] for r in records] == ["admin.denied", "admin.facade.client.add", "admin.facade.clients.list",
                                            "admin.facade.client.remove"]
    assert records[1]["client_id"] == created["client_id"] and records[1]["via"] == "api"
    assert records[1]["actor_roles"] == ["admin"] and len(records[1]["actor"]) == 16
    raw = audit.path.read_text()
    assert created["client_secret"] not in raw and "Acme audit" not in raw and ":admin-fam-" not in raw
    assert verify_file(audit.path).ok


async def test_unwritable_audit_refuses_the_action(facade_hub, monkeypatch):
    from mcpguard.errors import AuditUnavailable

    def broken(kind, fields):
        raise AuditUnavailable("disk full")

    monkeypatch.setattr(facade_hub.app.state.hub.audit, "record_event", broken)
    before = {r.client_id for r in facade_hub.facade.store.list_clients()}
    admin = {"Authorization": f"Bearer {hub_token(facade_hub, ['admin'])}"}
    async with httpx2.AsyncClient() as c:
        r = await c.post(facade_hub.url + "/v1/facade/clients", json={"name": "never"}, headers=admin)
    assert r.status_code == 503
    assert r.json()["error"]["context"]["reason"] == "audit_unavailable" and "client_secret" not in r.text
    assert {r.client_id for r in facade_hub.facade.store.list_clients()} == before
