"""The admin API inside the real hub app (hub.app.build_app, dev auth, vault on SQLite): the wiring works end to
end — dev tokens, prefix, offboarding revokes tokens and refuses the user, audit lands in the shared chain."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import httpx2
import pytest

from mcpguard.audit import verify_file

pytestmark = pytest.mark.anyio

SECRET = "demo-key-AppLevelSecret-987654321"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_admin_api_through_the_hub_app(tmp_path: Path) -> None:
    from hub.app import build_app
    from hub.auth.dev import DevAuthenticator
    from hub.settings import parse_settings
    from hub.vault import admin_audit_log

    settings = parse_settings({
        "server": {"prefix": "/team", "port": 8000},
        "storage": {"data_dir": str(tmp_path / "data")},
        "connectors": {"enabled": ["everything", "time"]},
    })
    mint = DevAuthenticator(settings).mint
    admin = {"authorization": "Bearer " + mint("root@example.com", roles=("admin",))}
    alice = {"authorization": "Bearer " + mint("alice@example.com")}
    # The admin API does not touch the pipeline, only its audit log; a stand-in carrying the hub's default audit log
    # keeps this test independent of the detectors.
    pipeline = SimpleNamespace(audit=admin_audit_log(settings))
    app = build_app(settings, pipeline=pipeline)
    async with app.router.lifespan_context(app), httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000/team/v1"
    ) as c:
        assert (await c.get("/openapi.json")).json()["servers"] == [{"url": "http://127.0.0.1:8000/team/v1"}]
        r = await c.put("/me/credentials/everything/EVERYTHING_API_KEY", json={"value": SECRET}, headers=alice)
        assert r.status_code == 201, r.text
        conns = await c.get("/connectors", headers=admin)
        assert {x["name"] for x in conns.json()["connectors"]} == {"everything", "time"}
        listed = await c.get("/users/alice@example.com/credentials", headers=admin)
        assert [x["name"] for x in listed.json()["credentials"]] == ["EVERYTHING_API_KEY"]
        assert SECRET not in listed.text
        off = await c.delete("/users/alice@example.com", headers=admin)
        assert off.status_code == 200, off.text
        assert off.json()["credentials_deleted"] == 1
        again = await c.get("/me/credentials", headers=alice)
        assert again.status_code == 401
        assert again.json()["error"]["code"] in ("USER_NOT_PROVISIONED", "INVALID_TOKEN")
        # A token minted after the offboarding (not covered by the dev mode's revocation) is still refused.
        later_mint = DevAuthenticator(settings, clock=lambda: time.time() + 5).mint
        fresh = {"authorization": "Bearer " + later_mint("alice@example.com")}
        later = await c.get("/me/credentials", headers=fresh)
        assert later.status_code == 401 and later.json()["error"]["code"] == "USER_NOT_PROVISIONED"
    audit = tmp_path / "data" / "audit.jsonl"
    text = audit.read_text()
    assert SECRET not in text and "admin.user.offboard" in text
    assert verify_file(audit).ok
