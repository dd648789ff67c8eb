"""`mcpguard hub serve` and `mcpguard hub dev-token` as real processes: the composition root (dev auth, the vault,
the real mcpguard pipeline), JSON logs with request ids, and a graceful drain on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import MCPGUARD
from tests.hub.harness import SEARCH_PATH, free_port

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    port = free_port()
    config = tmp / "hub.toml"
    config.write_text(
        f'[server]\nport = {port}\nprefix = "/p"\n'
        f'[storage]\ndata_dir = "{tmp / "data"}"\n'
        f'[connectors]\nenabled = ["time", "everything"]\nsearch_path = {json.dumps(SEARCH_PATH)}\n'
    )
    log = (tmp / "hub.log").open("w")
    proc = subprocess.Popen([*MCPGUARD, "hub", "serve", "--config", str(config)], stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx2.get(f"{base}/p/ready", timeout=1).status_code == 200:
                break
        except httpx2.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("hub serve did not become ready: " + (tmp / "hub.log").read_text()[-2000:])
        time.sleep(0.1)
    yield {"proc": proc, "config": config, "url": f"{base}/p/mcp", "log": tmp / "hub.log"}
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def dev_token(config, user: str) -> str:
    out = subprocess.run([*MCPGUARD, "hub", "dev-token", "--config", str(config), "--user", user],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def client(url: str, token: str, mode: str = "legacy") -> Client:
    return Client(streamable_http_client(url, http_client=httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, timeout=30)), mode=mode)


async def test_serve_answers_and_drains_on_sigterm(served):
    token = dev_token(served["config"], "alice@example.com")
    async with client(served["url"], token) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        assert {"time__get_current_time", "everything__echo"} <= names
        # The real pipeline runs: a secret in a tool argument never reaches the upstream (blocked by default).
        secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
        r = await c.call_tool("everything__echo", {"message": f"key {secret} here"})
        assert r.is_error and "github_token" in r.content[0].text and secret not in r.content[0].text

        result = {}

        async def slow() -> None:
            result["r"] = await c.call_tool("everything__trigger-long-running-operation",
                                            {"duration": 1.5, "steps": 3})

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow)
            await anyio.sleep(0.5)  # the call is in flight (a process boundary: no event to wait on)
            served["proc"].send_signal(signal.SIGTERM)
        assert not result["r"].is_error  # the in-flight call finished during the drain
    code = await anyio.to_thread.run_sync(lambda: served["proc"].wait(timeout=30))
    # uvicorn re-raises the captured SIGTERM after its own clean shutdown, so supervisors see the signal.
    assert code in (0, -signal.SIGTERM)
    lines = [json.loads(x) for x in served["log"].read_text().splitlines() if x.startswith("{")]
    assert lines and all(line["request_id"] for line in lines)
    access = [x for x in lines if x["logger"] == "hub.access"]
    assert access and all(len(x["request_id"]) >= 8 for x in access)
    text = served["log"].read_text()
    assert token not in text and "alice@example.com" not in text


def test_dev_token_refuses_unknown_role(served):
    out = subprocess.run([*MCPGUARD, "hub", "dev-token", "--config", str(served["config"]), "--user", "a@b.c",
                          "--role", "root"], capture_output=True, text=True)
    assert out.returncode == 2 and "unknown role" in out.stderr
