"""The hub runs mcpguard's tool guard per connector: a poisoned upstream description is flagged before any client
sees it, and pins are keyed by connector."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from hub.app import build_app
from hub.auth.dev import DevAuthenticator
from tests.hub.harness import settings

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]
SERVER = Path(__file__).with_name("servers") / "poisoned.py"
BASE = "http://127.0.0.1:8080"


@pytest.fixture(scope="module")
async def hub(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("guard")
    d = tmp / "connectors" / "demo"
    d.mkdir(parents=True)
    (d / "manifest.yaml").write_text(
        f"name: demo\ntransport: {{type: stdio, command: '{sys.executable}', args: ['{SERVER}']}}\nisolation: user\n"
        "credentials:\n  - {name: DEMO_KEY, inject: {env: DEMO_KEY}, required: false}\n")
    s = settings(tmp, connectors={"enabled": ["demo"], "dirs": [str(tmp / "connectors")], "bundled": False})
    app = build_app(s)
    async with app.router.lifespan_context(app):
        yield app, DevAuthenticator(s)


async def test_poisoned_description_is_flagged_and_honest_tool_kept(hub):
    app, dev = hub
    http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE,
                              headers={"Authorization": f"Bearer {dev.mint('alice@example.com')}"}, timeout=30)
    async with Client(streamable_http_client(f"{BASE}/mcp", http_client=http), mode="legacy") as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        assert tools["demo__add"].description == "Add two numbers."
        # tools.poisoning = "flag" (the default): the description is prefixed with a warning naming the rules.
        assert tools["demo__weather"].description.startswith("[mcpguard warning")
        assert "sensitive_file_access" in tools["demo__weather"].description
        assert (await c.call_tool("demo__add", {"a": 2, "b": 3})).content[0].text == "5"


def _client(app, dev, user):
    http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE,
                              headers={"Authorization": f"Bearer {dev.mint(user)}"}, timeout=30)
    return Client(streamable_http_client(f"{BASE}/mcp", http_client=http), mode="2026-07-28")


async def test_reversible_tokens_are_scoped_to_the_user(hub):
    app, dev = hub
    email = "jiyeon.park@acmecorp.co.kr"
    async with _client(app, dev, "alice@example.com") as c:
        token = (await c.call_tool("demo__echo", {"message": email})).content[0].text
        assert email not in token and token.startswith("[[EMAIL:")  # tokenized on the way back
        # Alice's own token is restored toward the connector that issued it: the server sees the real value.
        assert (await c.call_tool("demo__length", {"message": token})).content[0].text == str(len(email))
    async with _client(app, dev, "bob@example.com") as c:
        r = await c.call_tool("demo__length", {"message": token})
        assert r.is_error or r.content[0].text != str(len(email))  # never restored for another user
