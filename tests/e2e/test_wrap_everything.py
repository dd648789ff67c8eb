"""E2E: npm @modelcontextprotocol/server-everything (stdio) behind `mcpguard wrap` with the mcp SDK's real client:
its ``get-env`` tool proves the child's environment is scrubbed, a multi-megabyte resource proves big frames pass
both ways, the tiny image proves binary content passes, and ``trigger-sampling-request`` proves a server→client
request and its answer travel through the wrapper."""

from __future__ import annotations

import base64
import os

import anyio
import mcp.types as types
import pytest
from mcp import Client

from tests.conftest import SERVER_EVERYTHING, require_server
from tests.mcpguard.wrap.harness import audit_verify, texts, wrap_params, write_config

pytestmark = pytest.mark.e2e

PLANTED = {
    "AWS_SECRET_ACCESS_KEY": "k3Xq9vT7pL2mN8rB5wZ1yC4hF6jD0sGaE7uYiOpQ",
    "GITHUB_TOKEN": "ghp_" + "R7x2Kp9LmQ4vW8nB3cZ6yT1hJ5sD0fGaE2uY",
    "MY_DB_NAME": "orders",
}


def test_environment_scrubbed_big_frames_and_sampling(tmp_path):
    cfg = write_config(tmp_path, '[wrap]\nenv_passthrough = ["MY_DB_NAME"]\nenv = {MCP_DEMO_MODE = "on"}\n')
    params = wrap_params(cfg, require_server(SERVER_EVERYTHING) + ["stdio"], env=PLANTED, name="everything")
    blob = os.urandom(3 << 20)  # 3 MiB in: a ~4 MiB request and a ~4 MiB result
    seen = {}

    async def sampling(context, params: types.CreateMessageRequestParams):
        seen["sampling_prompt"] = params.messages[0].content.text
        return types.CreateMessageResult(role="assistant", model="test-model",
                                         content=types.TextContent(type="text", text="sampled answer 42"))

    async def main():
        async with Client(params, mode="legacy", sampling_callback=sampling) as client:
            seen["env"] = texts(await client.call_tool("get-env", {}))
            data_uri = "data:application/octet-stream;base64," + base64.b64encode(blob).decode()
            big = await client.call_tool("gzip-file-as-resource",
                                         {"name": "blob.gz", "data": data_uri, "outputType": "resource"})
            seen["big"] = big.content[0].resource.blob
            image = await client.call_tool("get-tiny-image", {})
            seen["image"] = [c.type for c in image.content]
            seen["sampled"] = texts(await client.call_tool("trigger-sampling-request",
                                                           {"prompt": "say a number", "maxTokens": 10}))

    anyio.run(main)
    env = seen["env"]
    assert "PATH" in env and "MY_DB_NAME" in env and "MCP_DEMO_MODE" in env
    assert "AWS_SECRET_ACCESS_KEY" not in env and PLANTED["AWS_SECRET_ACCESS_KEY"] not in env
    assert "GITHUB_TOKEN" not in env and PLANTED["GITHUB_TOKEN"] not in env
    import gzip

    assert gzip.decompress(base64.b64decode(seen["big"])) == blob
    assert "image" in seen["image"]
    assert seen["sampling_prompt"].endswith("say a number")
    assert "sampled answer 42" in seen["sampled"]
    assert audit_verify(tmp_path / "audit.jsonl").returncode == 0
