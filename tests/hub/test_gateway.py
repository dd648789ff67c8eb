"""hub.gateway units that need no upstream: principal extraction, cursors, list_changed relays."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from mcp.shared.exceptions import MCPError

from hub.auth.base import Principal
from hub.gateway import Gateway, _decode_cursor, _encode_cursor, principal_of
from tests.hub.harness import PassPipeline

pytestmark = pytest.mark.anyio
ALICE = Principal(user_id="alice@example.com", email="alice@example.com", tenant="dev")


def _ctx(principal=None, sid=None, session=None):
    request = SimpleNamespace(scope={"hub.principal": principal} if principal else {},
                              headers={"mcp-session-id": sid} if sid else {})
    return SimpleNamespace(request=request, session=session)


def test_unauthenticated_context_is_refused():
    with pytest.raises(MCPError):
        principal_of(_ctx())
    with pytest.raises(MCPError):
        principal_of(SimpleNamespace(request=None))
    assert principal_of(_ctx(ALICE)) is ALICE


def test_cursor_roundtrip_and_garbage():
    assert _decode_cursor(_encode_cursor(400)) == 400
    assert _decode_cursor(None) == 0
    for bad in ("!!", "e30", _encode_cursor(-1)):
        with pytest.raises(MCPError):
            _decode_cursor(bad)


class FakeSession:
    def __init__(self, fail=False):
        self.sent, self.fail = [], fail

    async def send_tool_list_changed(self):
        if self.fail:
            raise RuntimeError("closed")
        self.sent.append("tools")


async def test_list_changed_reaches_only_the_owner_or_everyone_for_shared():
    gw = Gateway({}, pool=None, pipeline=PassPipeline())
    a, b, dead = FakeSession(), FakeSession(), FakeSession(fail=True)
    bob = Principal(user_id="bob@example.com", email="bob@example.com", tenant="dev")
    gw._remember(_ctx(ALICE, "s1", a), ALICE)
    gw._remember(_ctx(ALICE, "s2", dead), ALICE)
    gw._remember(_ctx(bob, "s3", b), bob)
    await gw.relay(SimpleNamespace(owner="alice@example.com"), "notifications/tools/list_changed", None)
    assert a.sent == ["tools"] and b.sent == []
    assert "s2" not in gw._listeners["alice@example.com"]
    await gw.relay(SimpleNamespace(owner="*"), "notifications/tools/list_changed", None)
    assert a.sent == ["tools", "tools"] and b.sent == ["tools"]


class FailingPipeline:
    def protect(self, message, ctx):
        from mcpguard.errors import AuditUnavailable

        raise AuditUnavailable("audit log unavailable: disk full")


async def test_pipeline_failure_fails_closed_with_a_readable_refusal():
    from mcpguard.types import Direction

    gw = Gateway({}, pool=None, pipeline=FailingPipeline())
    out = await gw.protect({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {}},
                           direction=Direction.CLIENT_TO_SERVER, method="tools/call", connector="c",
                           principal=ALICE)
    assert out.kind == "reject" and out.message is None
    assert "audit" in gw._refusal_text(out, "the arguments")


# -- upstream text that bypassed the pipeline ------------------------------------------------------------------------
AKID = "AKIAABCDEFGHIJKLMNOP"


class _Inst:
    def __init__(self, client):
        self.client, self.secrets = client, ()


class _Pool:
    def __init__(self, client):
        self.client = client

    def session(self, principal, name):
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def cm():
            yield _Inst(self.client)
        return cm()

    def mark_broken(self, inst):
        pass


def _real_gateway(tmp_path, client):
    from hub.upstreams.manifest import Manifest
    from hub.upstreams.registry import Connector
    from mcpguard.audit.store import AuditLog
    from mcpguard.config import parse_config
    from mcpguard.crypto import MemoryKeyProvider
    from mcpguard.runtime import build_pipeline
    from tests.mcpguard.fakes import FakeEngine

    m = Manifest.model_validate({"name": "c", "transport": {"type": "stdio", "command": "x"}})
    pipeline = build_pipeline(parse_config({}), engine=FakeEngine(), keys=MemoryKeyProvider(),
                              audit=AuditLog(tmp_path / "audit.jsonl"))
    return Gateway({"c": Connector(manifest=m, argv=("x",))}, pool=_Pool(client), pipeline=pipeline)


async def test_upstream_error_text_of_resources_read_is_scanned(tmp_path):
    # An upstream's JSON-RPC error message is server→client content like any other: it must go through the pipeline.
    from mcp_types import ErrorData

    class Client:
        async def read_resource(self, uri):
            raise MCPError.from_error_data(ErrorData(code=-32000, message=f"no access with key {AKID}"))

    gw = _real_gateway(tmp_path, Client())
    ctx = SimpleNamespace(request_id=1, request=None, session=None)
    with pytest.raises(MCPError) as info:
        await gw._forward(ctx, ALICE, gw.connectors["c"], "resources/read", {"uri": "file:///x"},
                          lambda client, p: client.read_resource(p["uri"]))
    assert AKID not in str(info.value) and AKID not in str(info.value.error.message)
    assert "[REDACTED:aws_access_key_id]" in info.value.error.message


async def test_upstream_progress_message_is_scanned(tmp_path):
    # notifications/progress from the upstream carry free text to the client: it must go through the pipeline.
    sent = []

    class Session:
        async def report_progress(self, value, total, message):
            sent.append(message)

    class Client:
        async def call_tool(self, tool, arguments, progress_callback=None):
            await progress_callback(0.5, 1.0, f"uploading with {AKID}")
            await progress_callback(1.0, 1.0, "done")
            import mcp_types as types

            return types.CallToolResult(content=[types.TextContent(type="text", text="ok")])

    gw = _real_gateway(tmp_path, Client())
    ctx = SimpleNamespace(request_id=1, request=None, session=Session())
    params = SimpleNamespace(name="c__t", arguments={})
    await gw._call_tool(ctx, ALICE, gw.connectors["c"], "t", params)
    assert sent and all(AKID not in (m or "") for m in sent)
    assert sent[-1] == "done"


async def test_mcp_param_schema_lookup_is_per_user(tmp_path):
    # Per-user upstreams may list different schemas under one name; the Mcp-Param-* lookup the SDK makes (with no
    # request in hand) must answer with the calling user's own listing, never the last user's.
    import mcp_types as types

    from hub.authn import current_user_id

    bob = Principal(user_id="bob@example.com", email="bob@example.com", tenant="dev")

    def client_for(user):
        schema = {"type": "object", "properties": {user.split("@")[0]: {"type": "string"}}}

        class Session:
            async def list_tools(self, params=None):
                return types.ListToolsResult(tools=[types.Tool(name="t", input_schema=schema)])

        return SimpleNamespace(session=Session(), server_capabilities=SimpleNamespace(tools=object()))

    class Inst:
        def __init__(self, user):
            self.client, self.secrets, self.lists, self.listed_at = client_for(user), (), {}, {}

    class Pool:
        clock = staticmethod(lambda: 0.0)

        def session(self, principal, name):
            from contextlib import asynccontextmanager

            @asynccontextmanager
            async def cm():
                yield Inst(principal.user_id)
            return cm()

    gw = _real_gateway(tmp_path, None)
    gw.pool = Pool()
    for who in (ALICE, bob):
        await gw._list(_ctx(who), None, "tools/list", types.ListToolsResult)
    token = current_user_id.set("alice@example.com")
    try:
        assert set(gw.input_schema_for("c__t")["properties"]) == {"alice"}
    finally:
        current_user_id.reset(token)
    token = current_user_id.set("bob@example.com")
    try:
        assert set(gw.input_schema_for("c__t")["properties"]) == {"bob"}
    finally:
        current_user_id.reset(token)
    assert gw.input_schema_for("c__t") is None  # outside an authenticated request: no schema, no cross-user answer
