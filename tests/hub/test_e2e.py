"""End to end: the hub under uvicorn on a random loopback port, real upstreams (server-everything and mcp-server-time
as stdio children, server-everything in streamableHttp mode as the HTTP upstream), driven by the mcp SDK client in
both protocol eras."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from hub.app import create_app
from hub.auth.dev import DevAuthenticator
from tests.conftest import SERVER_EVERYTHING, require_server
from tests.hub.harness import PRELOAD_LOOPBACK, MemoryCredentials, PassPipeline, free_port, serve_in_thread, settings

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]
ERAS = ["legacy", "2026-07-28"]
ALICE_KEY = "alice-key-4f1c9a0e7b"
BOB_KEY = "bob-key-8d2e6b1f3c"


@pytest.fixture(scope="module")
def http_upstream():
    """server-everything in streamableHttp mode, forced onto 127.0.0.1 by a preloaded listen() shim."""
    argv = require_server(SERVER_EVERYTHING)
    port = free_port()
    env = {**os.environ, "PORT": str(port), "NODE_OPTIONS": f"--require {PRELOAD_LOOPBACK}"}
    proc = subprocess.Popen([*argv, "streamableHttp"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("server-everything streamableHttp did not start")
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def hub(tmp_path_factory, http_upstream):
    tmp = tmp_path_factory.mktemp("e2e")
    cdir = tmp / "connectors" / "remote"
    cdir.mkdir(parents=True)
    origin = http_upstream.rsplit("/mcp", 1)[0]
    (cdir / "manifest.yaml").write_text(
        "name: remote\ndescription: server-everything over Streamable HTTP\n"
        f"transport: {{type: http, url: '{http_upstream}', protocol: legacy}}\n"
        f"egress: ['{origin}/']\n"
        "credentials:\n  - {name: REMOTE_KEY, inject: {header: X-Api-Key}, required: false}\n"
    )
    s = settings(tmp, connectors={"enabled": ["everything", "time", "remote"], "dirs": [str(tmp / "connectors")]},
                 server={"prefix": "/hub"})
    creds = MemoryCredentials({
        ("alice@example.com", "everything", "EVERYTHING_API_KEY"): ALICE_KEY,
        ("bob@example.com", "everything", "EVERYTHING_API_KEY"): BOB_KEY,
        ("alice@example.com", "remote", "REMOTE_KEY"): "alice-remote-key-123",
    })
    pipeline = PassPipeline()
    port = free_port()
    # The dev tokens' audience is the MCP URL; point public_url at the port uvicorn will use.
    s2 = s.model_copy(update={"server": s.server.model_copy(update={"port": port})})
    auth = DevAuthenticator(s2)
    app = create_app(s2, authenticator=auth, credential_sources={"secret": creds},
                     pipeline_factory=lambda _s: pipeline)
    with serve_in_thread(app, port) as base:
        yield {"url": f"{base}/hub/mcp", "auth": auth, "app": app, "pipeline": pipeline}


def client_for(hub, user: str, mode: str) -> Client:
    token = hub["auth"].mint(user)
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return Client(streamable_http_client(hub["url"], http_client=http), mode=mode)


@pytest.mark.parametrize("mode", ERAS)
async def test_list_and_call_across_connectors(hub, mode):
    async with client_for(hub, "alice@example.com", mode) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        assert {"everything__echo", "time__get_current_time", "remote__echo"} <= names
        assert all(len(n) <= 64 for n in names)
        r = await c.call_tool("everything__echo", {"message": "via stdio"})
        assert r.content[0].text == "Echo: via stdio"
        r = await c.call_tool("remote__echo", {"message": "via http"})
        assert r.content[0].text == "Echo: via http"
        r = await c.call_tool("time__convert_time", {"source_timezone": "UTC", "time": "12:34",
                                                     "target_timezone": "Asia/Seoul"})
        assert "21:34" in r.content[0].text


@pytest.mark.parametrize("mode", ERAS)
async def test_each_user_reaches_their_own_child_and_key_is_redacted(hub, mode):
    outs = {}
    for user in ("alice@example.com", "bob@example.com"):
        async with client_for(hub, user, mode) as c:
            outs[user] = (await c.call_tool("everything__get-env", {})).content[0].text
    for user, text in outs.items():
        # The child saw a key (it is in its environment) but the value never comes back, nor the other user's.
        assert '"EVERYTHING_API_KEY": "[REDACTED:credential]"' in text
        assert ALICE_KEY not in text and BOB_KEY not in text
    # The hub's own environment did not leak into the children.
    assert "MCPGUARD" not in outs["alice@example.com"] and "PYTEST" not in outs["alice@example.com"]
    pool = hub["app"].state.hub.pool
    owners = {i.owner for i in pool.instances() if i.connector.name == "everything"}
    assert {"alice@example.com", "bob@example.com"} <= owners


async def test_pipeline_sees_verified_user_and_connector(hub):
    hub["pipeline"].seen.clear()
    async with client_for(hub, "carol@example.com", "2026-07-28") as c:
        await c.call_tool("time__get_current_time", {"timezone": "UTC"})
    calls = [x for x in hub["pipeline"].seen if x.method == "tools/call"]
    assert {(x.direction.value, x.user, x.server, x.tool) for x in calls} == {
        ("client_to_server", "carol@example.com", "time", "get_current_time"),
        ("server_to_client", "carol@example.com", "time", "get_current_time"),
    }


@pytest.mark.parametrize("mode", ERAS)
async def test_concurrent_users_with_colliding_ids_are_never_misrouted(hub, mode):
    users = [f"user{i}@example.com" for i in range(5)]
    failures: list[str] = []

    async def run(user: str) -> None:
        async with client_for(hub, user, mode) as c:
            async def one(i: int) -> None:
                # Each client numbers its requests from the same start, so ids collide across users.
                h, m = divmod(users.index(user) * 97 + i * 7, 60)
                r = await c.call_tool("time__convert_time", {
                    "source_timezone": "UTC", "time": f"{h % 24:02d}:{m:02d}", "target_timezone": "UTC"})
                if f"{h % 24:02d}:{m:02d}" not in r.content[0].text:
                    failures.append(f"{user} time {i}")
                r = await c.call_tool("remote__echo", {"message": f"{user}#{i}"})
                if r.content[0].text != f"Echo: {user}#{i}":
                    failures.append(f"{user} echo {i}")

            async with anyio.create_task_group() as tg:
                for i in range(8):
                    tg.start_soon(one, i)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for u in users:
                tg.start_soon(run, u)
    assert failures == []


async def test_upstream_errors_are_readable_tool_errors(hub):
    async with client_for(hub, "alice@example.com", "legacy") as c:
        r = await c.call_tool("everything__get-sum", {"a": "not a number"})
        assert r.is_error and r.content[0].text
        with pytest.raises(Exception) as err:
            await c.call_tool("nosuch__tool", {})
        assert "unknown tool" in str(err.value)


@pytest.mark.parametrize("mode", ERAS)
async def test_progress_is_relayed(hub, mode):
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with client_for(hub, "alice@example.com", mode) as c:
        r = await c.call_tool("everything__trigger-long-running-operation", {"duration": 0.2, "steps": 2},
                              progress_callback=on_progress)
        assert not r.is_error
    assert seen == [1, 2]


async def test_cancelling_a_call_releases_the_upstream(hub):
    pool = hub["app"].state.hub.pool
    first_progress = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        first_progress.set()

    async with client_for(hub, "frank@example.com", "legacy") as c:
        async with anyio.create_task_group() as tg:
            async def long_call() -> None:
                await c.call_tool("everything__trigger-long-running-operation", {"duration": 20, "steps": 20},
                                  progress_callback=on_progress)

            tg.start_soon(long_call)
            with anyio.fail_after(10):
                await first_progress.wait()
            busy = [i for i in pool.instances("frank@example.com") if i.inflight]
            assert busy  # the hub is waiting on frank's child
            tg.cancel_scope.cancel()  # the client sends notifications/cancelled
        # The hub's handler is cancelled, which abandons (and cancels) the upstream request: the child is free
        # long before the 20 s operation would have ended. (Cross-thread state: polled, bounded.)
        with anyio.fail_after(5):
            while any(i.inflight for i in pool.instances("frank@example.com")):
                await anyio.sleep(0.02)


@pytest.mark.parametrize("mode", ERAS)
async def test_aggregated_listing_paginates(hub, mode, monkeypatch):
    import hub.gateway as gateway_module

    async with client_for(hub, "alice@example.com", mode) as c:
        everything = [t.name for t in (await c.list_tools()).tools]
        monkeypatch.setattr(gateway_module, "PAGE_SIZE", 4)
        pages, cursor = [], None
        while True:
            page = await c.list_tools(cursor=cursor, cache_mode="refresh") if mode != "legacy" else \
                await c.list_tools(cursor=cursor)
            pages.append([t.name for t in page.tools])
            cursor = page.next_cursor
            if not cursor:
                break
    assert all(len(p) <= 4 for p in pages) and len(pages) >= 3
    assert [n for p in pages for n in p] == everything


@pytest.mark.parametrize("mode", ERAS)
async def test_prompts_and_resources_are_aggregated(hub, mode):
    async with client_for(hub, "alice@example.com", mode) as c:
        prompts = {p.name for p in (await c.list_prompts()).prompts}
        assert {"everything__simple-prompt", "remote__args-prompt"} <= prompts
        got = await c.get_prompt("everything__args-prompt", {"city": "Seoul", "state": "KR"})
        assert "Seoul" in str(got.messages[0].content)
        listed = (await c.list_resources()).resources
        resources = {str(r.uri): r.name for r in listed}
        uri = "demo://resource/static/document/architecture.md"
        # Both connectors serve this URI: the first configured keeps it, so a read is never ambiguous.
        assert len(listed) == len(resources) and resources[uri] == "everything__architecture.md"
        assert (await c.read_resource(uri)).contents
        templates = {t.uri_template for t in (await c.list_resource_templates()).resource_templates}
        assert "demo://resource/dynamic/text/{resourceId}" in templates
        # A URI only a template produces is routed by the template's literal prefix.
        assert (await c.read_resource("demo://resource/dynamic/text/1")).contents
