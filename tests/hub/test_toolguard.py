"""The hub runs mcpguard's tool guard per connector: a poisoned upstream description is flagged before any client
sees it, and pins are keyed by connector."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
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
        f"name: demo\ntransport: {{type: stdio, command: '{sys.executable}', args: ['{SERVER}'], protocol: legacy}}\n"
        "isolation: user\n"
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


async def test_upstream_list_changed_refreshes_and_reaches_the_client(hub):
    """The upstream says tools/list_changed: the hub drops its cached listing and relays the notification to the
    user's open 2025-11-25 session, whose next tools/list shows the new tool."""
    from tests.hub.harness import serve_in_thread

    app, dev = hub
    changed = anyio.Event()

    async def on_message(message) -> None:
        if getattr(getattr(message, "root", message), "method", None) == "notifications/tools/list_changed":
            changed.set()

    # A real server (SSE streams over a socket), sharing the module's app object would double-enter its lifespan:
    # build a second app on the same settings instead.
    app2 = build_app(app.state.hub.settings)
    with serve_in_thread(app2, app.state.hub.settings.server.port) as base:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {dev.mint('alice@example.com')}"}, timeout=30)
        async with Client(streamable_http_client(f"{base}/mcp", http_client=http), mode="legacy",
                          message_handler=on_message) as c:
            before = {t.name for t in (await c.list_tools()).tools}
            assert "demo__extra" not in before
            await c.call_tool("demo__toggle", {})
            with anyio.fail_after(10):
                await changed.wait()
            after = {t.name for t in (await c.list_tools(cache_mode="refresh")).tools}
            assert "demo__extra" in after
