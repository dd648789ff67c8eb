"""E2E: mcp-server-time (an mcp 2.3 server) behind `mcpguard wrap` with the SDK client in ``auto`` mode, which probes
``server/discover`` (2026-07-28) first: the probe, its answer and the tool call pass the wrapper unchanged."""

from __future__ import annotations

import anyio
import pytest
from mcp import Client

from tests.conftest import SERVER_TIME
from tests.mcpguard.wrap.harness import texts, wrap_params, write_config

pytestmark = pytest.mark.e2e


def test_time_server_auto_mode(tmp_path):
    params = wrap_params(write_config(tmp_path), SERVER_TIME + ["--local-timezone", "Asia/Seoul"], name="time")
    seen = {}

    async def main():
        async with Client(params, mode="auto") as client:
            seen["version"] = client.protocol_version
            seen["tools"] = {t.name for t in (await client.list_tools()).tools}
            seen["now"] = texts(await client.call_tool("get_current_time", {"timezone": "Asia/Seoul"}))

    anyio.run(main)
    assert "get_current_time" in seen["tools"]
    assert "Asia/Seoul" in seen["now"]
    assert seen["version"]
