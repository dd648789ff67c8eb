"""mcpguard.wrap.router: frame routing without I/O — what each line becomes, with a recording stand-in pipeline."""

from __future__ import annotations

import json

from mcpguard.errors import AuditUnavailable
from mcpguard.jsonrpc.framing import Limits, Oversize
from mcpguard.types import Direction, Outcome
from mcpguard.wrap.router import Router


class Recorder:
    """Forwards everything, records contexts; ``block`` maps a method to an Outcome or an exception to raise."""

    def __init__(self, block=None):
        self.contexts = []
        self.block = block or {}

    def protect(self, message, ctx):
        self.contexts.append(ctx)
        verdict = self.block.get((ctx.direction, ctx.method))
        if isinstance(verdict, Exception):
            raise verdict
        return verdict or Outcome(kind="forward", message=message)

    def protect_text(self, text, ctx):
        return text, []


def line(**msg) -> bytes:
    return json.dumps({"jsonrpc": "2.0", **msg}).encode()


def frames(out: list[bytes]) -> list[dict]:
    return [json.loads(b) for b in out]


def test_request_is_tracked_and_its_response_protected_with_the_request_method():
    rec = Recorder()
    r = Router(rec, server="s")
    r.client_frame(line(id=1, method="tools/call", params={"name": "echo", "arguments": {}}))
    assert frames(r.to_child)[0]["method"] == "tools/call" and 1 in r.client_inflight
    r.child_frame(line(id=1, result={"content": []}))
    ctx = rec.contexts[-1]
    assert (ctx.direction, ctx.method, ctx.tool, ctx.request_id, ctx.server) == (
        Direction.SERVER_TO_CLIENT, "tools/call", "echo", 1, "s")
    assert frames(r.to_client) == [{"jsonrpc": "2.0", "id": 1, "result": {"content": []}}]
    assert len(r.client_inflight) == 0


def test_server_request_and_client_answer():
    rec = Recorder()
    r = Router(rec, server="s")
    r.child_frame(line(id="s1", method="sampling/createMessage", params={}))
    assert frames(r.to_client)[0]["id"] == "s1"
    r.client_frame(line(id="s1", result={"role": "assistant"}))
    assert rec.contexts[-1].direction is Direction.CLIENT_TO_SERVER
    assert rec.contexts[-1].method == "sampling/createMessage"
    assert frames(r.to_child)[0]["result"] == {"role": "assistant"}


def test_blocked_request_answered_under_its_id_and_not_tracked():
    err = {"code": -32001, "message": "blocked: aws_access_key_id", "data": {"reason": "policy_blocked"}}
    r = Router(Recorder({(Direction.CLIENT_TO_SERVER, "tools/call"): Outcome("reject", None, error=err)}), server="s")
    r.client_frame(line(id=5, method="tools/call", params={"name": "x"}))
    assert r.to_child == [] and 5 not in r.client_inflight
    assert frames(r.to_client) == [{"jsonrpc": "2.0", "id": 5, "error": err}]


def test_rejected_result_is_replaced_and_dropped_result_still_answered():
    replacement = {"jsonrpc": "2.0", "id": 999, "result": {"isError": True, "content": []}}
    r = Router(Recorder({(Direction.SERVER_TO_CLIENT, "tools/call"): Outcome("reject", replacement),
                         (Direction.SERVER_TO_CLIENT, "tools/list"): Outcome("drop", None)}), server="s")
    r.client_frame(line(id=1, method="tools/call", params={"name": "x"}))
    r.client_frame(line(id=2, method="tools/list"))
    r.child_frame(line(id=1, result={"secret": "x"}))
    r.child_frame(line(id=2, result={"tools": []}))
    out = frames(r.to_client)
    assert out[0] == {"jsonrpc": "2.0", "id": 1, "result": {"isError": True, "content": []}}  # id forced to 1
    assert out[1]["id"] == 2 and out[1]["error"]["data"]["reason"] == "blocked"


def test_audit_unavailable_fails_closed_both_ways():
    boom = AuditUnavailable("audit log unavailable")
    r = Router(Recorder({(Direction.CLIENT_TO_SERVER, "tools/call"): boom,
                         (Direction.SERVER_TO_CLIENT, "tools/list"): boom,
                         (Direction.SERVER_TO_CLIENT, "roots/list"): boom}), server="s")
    r.client_frame(line(id=1, method="tools/call", params={}))
    r.client_frame(line(id=2, method="tools/list"))
    r.child_frame(line(id=2, result={"tools": []}))
    r.child_frame(line(id="q", method="roots/list"))
    to_client = frames(r.to_client)
    assert [(m["id"], m["error"]["data"]["reason"]) for m in to_client] == [(1, "audit_unavailable"),
                                                                          (2, "audit_unavailable")]
    # Only tools/list reached the child; the server's own request was answered with the error.
    to_child = frames(r.to_child)
    assert to_child[0]["method"] == "tools/list"
    assert to_child[1]["id"] == "q" and to_child[1]["error"]["data"]["reason"] == "audit_unavailable"


def test_unexpected_pipeline_exception_is_refused_without_its_text():
    r = Router(Recorder({(Direction.CLIENT_TO_SERVER, "tools/call"): ValueError("AKIAQYLPMN5HHHFPZAM2")}),
               server="s")
    r.client_frame(line(id=1, method="tools/call", params={}))
    (resp,) = frames(r.to_client)
    assert resp["error"]["code"] == -32603 and "AKIA" not in json.dumps(resp)


def test_fail_in_flight_and_cancellation():
    r = Router(Recorder(), server="s")
    for i in range(3):
        r.client_frame(line(id=i, method="test/hang"))
    r.client_frame(line(method="notifications/cancelled", params={"requestId": 1}))
    r.to_client.clear()
    assert r.fail_in_flight(137) == 2
    assert [(m["id"], m["error"]["data"]["exit_status"]) for m in frames(r.to_client)] == [(0, 137), (2, 137)]


def test_oversize_markers():
    r = Router(Recorder(), server="s", limits=Limits(max_frame_bytes=4096))
    r.client_frame(line(id=1, method="test/hang"))
    r.child_frame(Oversize(b'{"jsonrpc":"2.0","id":1,"result":"xxxx'))
    r.client_frame(Oversize(b"{garbage"))
    out = frames(r.to_client)
    assert out[0]["id"] == 1 and out[0]["error"]["data"]["reason"] == "frame_too_large"
    assert out[1]["id"] is None and out[1]["error"]["data"]["reason"] == "frame_too_large"
    assert len(r.client_inflight) == 0


def test_server_request_id_or_notification_method_carrying_a_secret_never_reaches_the_client(tmp_path):
    # With the real pipeline: a server-chosen id/method is routed verbatim, so a value there must refuse the frame.
    from mcpguard.config import parse_config
    from mcpguard.crypto import MemoryKeyProvider
    from mcpguard.runtime import NO_AUDIT, build_pipeline
    from tests.mcpguard.fakes import FakeEngine

    akid = "AKIAABCDEFGHIJKLMNOP"
    p = build_pipeline(parse_config({}), engine=FakeEngine(), keys=MemoryKeyProvider(), audit=NO_AUDIT)
    r = Router(p, server="s")
    r.child_frame(line(id=akid, method="sampling/createMessage", params={"messages": []}))
    r.child_frame(line(method=f"notifications/{akid}", params={}))
    assert r.to_client == []
    assert frames(r.to_child)[0]["error"]["data"]["reason"] == "policy_blocked"
    assert akid not in json.dumps(frames(r.to_child)[0]["error"])
