"""E2E: the real mcp-server-git (an mcp 2.3 server) behind `mcpguard wrap`, driven by the mcp SDK's real client in
both protocol eras, over a repository whose commits carry author e-mails and a committed AWS key."""

from __future__ import annotations

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from mcpguard.demo import AUTHORS, AWS_KEY_ID, AWS_SECRET, CUSTOMERS, PG_PASSWORD, seed_repo
from tests.conftest import SERVER_GIT
from tests.mcpguard.wrap.harness import audit_verify, texts, wrap_params, write_config

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return seed_repo(tmp_path_factory.mktemp("git") / "orders-service")


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_git_results_are_protected_in_both_eras(repo, tmp_path, mode):
    cfg = write_config(tmp_path)
    params = wrap_params(cfg, SERVER_GIT + ["--repository", str(repo)], name="git")
    seen = {}

    async def main():
        async with Client(params, mode=mode) as client:
            tools = await client.list_tools()
            seen["tools"] = {t.name for t in tools.tools}
            seen["config"] = texts(await client.call_tool("git_show", {"repo_path": str(repo), "revision": "HEAD~1"}))
            seen["csv"] = texts(await client.call_tool("git_show", {"repo_path": str(repo), "revision": "HEAD"}))
            seen["log"] = texts(await client.call_tool("git_log", {"repo_path": str(repo), "max_count": 5}))
            # A request carrying a secret is refused before it reaches the server, naming type and rule only.
            try:
                await client.call_tool("git_show", {"repo_path": str(repo), "revision": AWS_KEY_ID})
                seen["blocked"] = None
            except MCPError as err:
                seen["blocked"] = (err.error.code, err.error.message, str(err.error.data))

    anyio.run(main)
    assert {"git_log", "git_show", "git_status"} <= seen["tools"]
    everything = "\n".join(v for k, v in seen.items() if isinstance(v, str))
    for value in [AWS_KEY_ID, AWS_SECRET, PG_PASSWORD, AUTHORS[1][1], AUTHORS[2][1]] + [c[1] for c in CUSTOMERS]:
        assert value not in everything
    assert "[REDACTED:aws_access_key_id]" in seen["config"]
    assert "Lee Seoyeon" in seen["config"]  # names of authors pass; their e-mails do not
    assert "[[KR_RRN:" in seen["csv"] and "[[EMAIL:" in seen["config"]
    code, message, data = seen["blocked"]
    assert code == -32001 and "aws_access_key_id" in message and AWS_KEY_ID not in message + data
    verdict = audit_verify(tmp_path / "audit.jsonl")
    assert verdict.returncode == 0, verdict.stderr
