"""hub.upstreams.pool with real stdio children: per-user instances, reuse, caps, idle reaping, offboarding,
missing credentials and start failures."""

from __future__ import annotations

import anyio
import pytest

from hub.auth.base import Principal
from hub.upstreams.manifest import Manifest
from hub.upstreams.pool import CredentialMissing, UpstreamPool, UpstreamUnavailable
from hub.upstreams.registry import Connector, load_registry
from tests.hub.harness import MemoryCredentials, settings

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]
ALICE = Principal(user_id="alice@example.com", email="alice@example.com", tenant="dev")
BOB = Principal(user_id="bob@example.com", email="bob@example.com", tenant="dev")


def _pool(tmp, clock=None, **limits):
    s = settings(tmp, limits=limits, connectors={"enabled": ["everything", "time", "filesystem"]})
    reg = dict(load_registry(s))
    reg["broken"] = Connector(manifest=Manifest.model_validate(
        {"name": "broken", "transport": {"type": "stdio", "command": "/nonexistent/server"}, "isolation": "user"}),
        argv=("/nonexistent/server",))
    reg["needs-key"] = Connector(manifest=Manifest.model_validate(
        {"name": "needs-key", "transport": {"type": "stdio", "command": "x"},
         "credentials": [{"name": "K", "inject": {"env": "K"}}]}), argv=("x",))
    creds = MemoryCredentials({("alice@example.com", "everything", "EVERYTHING_API_KEY"): "alice-value-xyz"})
    kw = {"clock": clock} if clock else {}
    return UpstreamPool(s, reg, {"secret": creds}, **kw)


async def test_per_user_instances_reused_and_offboarded(tmp_path):
    pool = _pool(tmp_path)
    async with pool.running():
        async with pool.session(ALICE, "everything") as a1:
            assert a1.secrets and "alice-value-xyz" in a1.secrets
        async with pool.session(ALICE, "everything") as a2:
            assert a2 is a1  # pooled: no second child, no second handshake
        async with pool.session(BOB, "everything") as b:
            assert b is not a1 and b.secrets == ()
        async with pool.session(ALICE, "time") as t1, pool.session(BOB, "time") as t2:
            assert t1 is t2 and t1.owner == "*"  # a shared, credential-free connector
        await pool.on_user_deleted("alice@example.com")
        assert a1.done.is_set() and pool.instances("alice@example.com") == []
        assert pool.instances("bob@example.com") == [b]


async def test_per_user_cap_evicts_least_recently_used_idle(tmp_path):
    pool = _pool(tmp_path, max_children_per_user=1)
    async with pool.running():
        async with pool.session(ALICE, "everything") as e:
            pass
        async with pool.session(ALICE, "filesystem") as f:
            assert f.owner == ALICE.user_id
        with anyio.fail_after(10):
            await e.done.wait()
        assert [i.connector.name for i in pool.instances(ALICE.user_id)] == ["filesystem"]


async def test_cap_with_everything_busy_refuses(tmp_path):
    pool = _pool(tmp_path, max_children_per_user=1)
    async with pool.running():
        async with pool.session(ALICE, "everything"):
            with pytest.raises(UpstreamUnavailable, match="busy"):
                async with pool.session(ALICE, "filesystem"):
                    pass


async def test_idle_instances_are_reaped(tmp_path):
    now = [0.0]
    pool = _pool(tmp_path, clock=lambda: now[0], idle_seconds=1)
    async with pool.running():
        async with pool.session(ALICE, "everything") as inst:
            pass
        now[0] += 5
        with anyio.fail_after(10):
            await inst.done.wait()
        assert pool.instances() == []


async def test_missing_required_credential(tmp_path):
    pool = _pool(tmp_path)
    async with pool.running():
        with pytest.raises(CredentialMissing, match=r"/v1/me/credentials/needs-key/K"):
            async with pool.session(ALICE, "needs-key"):
                pass


async def test_start_failure_is_reported_then_backs_off(tmp_path):
    now = [0.0]
    pool = _pool(tmp_path, clock=lambda: now[0], start_backoff_seconds=30)
    async with pool.running():
        with pytest.raises(UpstreamUnavailable, match="could not be started"):
            async with pool.session(ALICE, "broken"):
                pass
        assert pool.instances() == []
        with pytest.raises(UpstreamUnavailable, match="failed to start recently"):
            async with pool.session(ALICE, "broken"):
                pass
        now[0] += 31
        with pytest.raises(UpstreamUnavailable, match="could not be started"):  # retried after the backoff
            async with pool.session(ALICE, "broken"):
                pass


async def test_changed_credential_restarts_the_child(tmp_path):
    now = [0.0]
    pool = _pool(tmp_path, clock=lambda: now[0], credential_recheck_seconds=30)
    creds = pool.sources["secret"]
    async with pool.running():
        async with pool.session(ALICE, "everything") as first:
            pass
        now[0] += 10  # within the re-check period: the same child
        async with pool.session(ALICE, "everything") as again:
            assert again is first
        creds.values[("alice@example.com", "everything", "EVERYTHING_API_KEY")] = "alice-new-value-777"
        now[0] += 31
        async with pool.session(ALICE, "everything") as second:
            assert second is not first and "alice-new-value-777" in second.secrets
        with anyio.fail_after(10):
            await first.done.wait()


def _children_running(fragment: str) -> list[int]:
    import os
    from pathlib import Path

    me, out = os.getpid(), []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if ppid == me and fragment in cmd:
            out.append(int(p.name))
    return out


async def test_a_crashed_child_gives_one_readable_error_then_is_replaced(tmp_path):
    import os
    import signal
    from types import SimpleNamespace

    import mcp_types as types

    from hub.gateway import Gateway
    from tests.hub.harness import PassPipeline

    pool = _pool(tmp_path)
    gw = Gateway(pool.connectors, pool, PassPipeline(), call_timeout=10)
    ctx = SimpleNamespace(request=SimpleNamespace(scope={"hub.principal": BOB}, headers={}), request_id=1,
                          session=None)

    async def echo(msg: str):
        return await gw.call_tool(ctx, types.CallToolRequestParams(name="everything__echo", arguments={"message": msg}))

    async with pool.running():
        assert (await echo("a")).content[0].text == "Echo: a"
        pids = _children_running("mcp-server-everything")
        assert len(pids) == 1
        os.kill(pids[0], signal.SIGKILL)
        crashed = await echo("b")
        assert crashed.is_error and "everything" in crashed.content[0].text  # readable, not a bare 500
        assert (await echo("c")).content[0].text == "Echo: c"  # a fresh child
        assert len(_children_running("mcp-server-everything")) == 1
