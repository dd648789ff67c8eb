"""The protect path with a deterministic fake engine (tests/mcpguard/fakes.py); test_runtime.py uses the real one."""

import json

import pytest

from mcpguard.audit.store import AuditLog
from mcpguard.audit.verify import verify_file
from mcpguard.config import parse_config
from mcpguard.crypto import MemoryKeyProvider
from mcpguard.errors import AuditUnavailable
from mcpguard.pipeline import BLOCKED_CODE, message_kind
from mcpguard.runtime import NO_AUDIT, build_pipeline
from mcpguard.types import Context, Direction, Outcome
from tests.mcpguard.fakes import FakeEngine

EMAIL = "alice@example.com"
AKID = "AKIAABCDEFGHIJKLMNOP"
PEM = "-----BEGIN RSA PRIVATE KEY-----"


def make(tmp_path, raw=None, **kw):
    cfg = parse_config(raw or {})
    audit = kw.pop("audit", None)
    if audit is None:
        audit = AuditLog(tmp_path / "audit.jsonl")
    return build_pipeline(cfg, engine=kw.pop("engine", FakeEngine()), keys=MemoryKeyProvider(), audit=audit, **kw)


def s2c(method="tools/call", server="db", user="local"):
    return Context(Direction.SERVER_TO_CLIENT, method=method, server=server, user=user)


def c2s(server="db", user="local"):
    return Context(Direction.CLIENT_TO_SERVER, server=server, user=user)


def result(text, id_=1):
    return {"jsonrpc": "2.0", "id": id_, "result": {"content": [{"type": "text", "text": text}], "isError": False}}


def call(args, id_=2, name="query"):
    return {"jsonrpc": "2.0", "id": id_, "method": "tools/call", "params": {"name": name, "arguments": args}}


def audit_lines(tmp_path):
    return [json.loads(l) for l in (tmp_path / "audit.jsonl").read_text().splitlines()]


def test_message_kind():
    assert message_kind({"method": "x", "id": 1}) == "request"
    assert message_kind({"method": "x"}) == "notification"
    assert message_kind({"id": 1, "result": {}}) == "response"


def test_result_is_tokenized_and_redacted_and_envelope_untouched(tmp_path):
    p = make(tmp_path)
    msg = result(f"row: {EMAIL} key {AKID}")
    out = p.protect(msg, s2c())
    text = out.message["result"]["content"][0]["text"]
    assert out.kind == "forward" and EMAIL not in text and AKID not in text
    assert "[[EMAIL:" in text and "[REDACTED:aws_access_key_id]" in text
    assert out.message["id"] == 1 and out.message["jsonrpc"] == "2.0"
    assert msg["result"]["content"][0]["text"] == f"row: {EMAIL} key {AKID}"  # input untouched


def test_id_and_method_never_rewritten_and_a_response_id_not_scanned(tmp_path):
    p = make(tmp_path)
    msg = {"jsonrpc": "2.0", "id": 7, "method": "notifications/x", "params": {}}
    assert p.protect(msg, s2c()).message == msg
    # A response's id is the peer's own id echoed back: not scanned, not rewritten.
    resp = {"jsonrpc": "2.0", "id": EMAIL, "result": {}}
    out = p.protect(resp, s2c())
    assert out.message == resp and out.decisions == []


@pytest.mark.parametrize("msg,ctx", [
    ({"jsonrpc": "2.0", "id": EMAIL, "method": "sampling/createMessage", "params": {}}, "s2c"),
    ({"jsonrpc": "2.0", "method": f"notifications/{AKID}", "params": {}}, "s2c"),
    ({"jsonrpc": "2.0", "id": AKID, "method": "tools/call", "params": {"name": "q", "arguments": {}}}, "c2s"),
])
def test_sender_chosen_id_or_method_carrying_a_value_refuses_the_frame(tmp_path, msg, ctx):
    # id and method are routed verbatim; a value there would bypass every policy, so the frame is refused.
    p = make(tmp_path)
    out = p.protect(msg, s2c(method=msg["method"]) if ctx == "s2c" else c2s())
    assert out.kind in ("reject", "drop") and out.message is None
    assert EMAIL not in json.dumps(out.error) and AKID not in json.dumps(out.error)
    assert EMAIL not in (tmp_path / "audit.jsonl").read_text() and AKID not in (tmp_path / "audit.jsonl").read_text()


def test_object_keys_are_protected_and_kept_distinct(tmp_path):
    p = make(tmp_path)
    out = p.protect({"jsonrpc": "2.0", "id": 1, "result": {EMAIL: 1, "bob@example.com": 2}}, s2c("resources/read"))
    keys = list(out.message["result"])
    assert len(keys) == 2 and all(k.startswith("[[EMAIL:") for k in keys)
    rec = audit_lines(tmp_path)[-1]
    assert all(EMAIL not in f["path"] for f in rec["findings"])  # the key is not leaked through the path
    assert EMAIL not in json.dumps(rec)


def test_blocked_request_is_rejected_with_a_value_free_error(tmp_path):
    p = make(tmp_path)
    out = p.protect(call({"k": AKID}), c2s())
    assert out.kind == "reject" and out.message is None
    err = out.error
    assert err["code"] == BLOCKED_CODE and "aws_access_key_id" in err["message"] and "fake.aws_akid" in err["message"]
    assert err["data"]["paths"] == ["/params/arguments/k"] and AKID not in json.dumps(err)


def test_blocked_tools_call_result_becomes_readable_error_result(tmp_path):
    p = make(tmp_path)
    out = p.protect(result(f"{PEM}\nMIIE..."), s2c("tools/call"))
    assert out.kind == "reject" and out.message["id"] == 1
    res = out.message["result"]
    assert res["isError"] is True and "private_key" in res["content"][0]["text"]
    assert PEM not in json.dumps(out.message)


def test_blocked_other_result_becomes_error_response(tmp_path):
    p = make(tmp_path)
    out = p.protect({"jsonrpc": "2.0", "id": 7, "result": {"contents": [{"text": PEM}]}}, s2c("resources/read"))
    assert out.kind == "reject" and out.message["id"] == 7 and out.message["error"]["code"] == BLOCKED_CODE
    assert "result" not in out.message


def test_blocked_notification_is_dropped(tmp_path):
    p = make(tmp_path)
    out = p.protect({"jsonrpc": "2.0", "method": "notifications/message", "params": {"data": PEM}}, s2c(None))
    assert out.kind == "drop" and out.message is None and out.blocked


def test_report_only_changes_nothing_but_audits(tmp_path):
    p = make(tmp_path, {"mode": "report-only"})
    msg = call({"k": AKID, "e": EMAIL})
    out = p.protect(msg, c2s())
    assert out.kind == "forward" and out.message == msg
    assert {d.reason for d in out.decisions} >= {"report-only:policy:category"}
    rec = audit_lines(tmp_path)[-1]
    assert rec["mode"] == "report-only" and rec["action"] == "allow" and rec["counts"]["aws_access_key_id"] == 1


def test_numbers_scanned_only_server_to_client_when_configured(tmp_path):
    msg = {"jsonrpc": "2.0", "id": 1, "result": {"phone": 1012345678}}
    off = FakeEngine()
    assert make(tmp_path, engine=off).protect(msg, s2c("x")).message == msg
    assert not any(l.kind == "number" for l in off.scanned)
    engine = FakeEngine()
    p = make(tmp_path, {"detection": {"scan_numbers": True}}, engine=engine)
    p.protect(msg, s2c("x"))
    assert any(l.kind == "number" for l in engine.scanned)
    out = p.protect({"jsonrpc": "2.0", "id": 1, "result": {"card": 4111111111111111, "n": 7}}, s2c("x"))
    assert out.message["result"]["card"].startswith("[[CARD:") and out.message["result"]["n"] == 7
    engine2 = FakeEngine()
    make(tmp_path, {"detection": {"scan_numbers": True}}, engine=engine2).protect(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"n": 5}}, c2s())
    assert not any(l.kind == "number" for l in engine2.scanned)


def test_token_round_trip_restores_only_toward_the_issuing_server(tmp_path):
    p = make(tmp_path)
    out = p.protect(result(f"owner {EMAIL}"), s2c(server="db"))
    token = out.message["result"]["content"][0]["text"].split()[-1]
    req = call({"sql": f"SELECT * FROM t WHERE email = '{token}'", "nested": {"list": [f"to:{token}"]}})
    restored = p.protect(req, c2s(server="db"))
    assert restored.message["params"]["arguments"]["sql"] == f"SELECT * FROM t WHERE email = '{EMAIL}'"
    assert restored.message["params"]["arguments"]["nested"]["list"] == [f"to:{EMAIL}"]
    other = p.protect(req, c2s(server="mail"))
    assert other.message == req
    assert audit_lines(tmp_path)[-1]["tokens"] == {"foreign": 2}
    other_user = p.protect(req, c2s(server="db", user="eve"))
    assert other_user.message == req


def test_restored_values_are_not_blocked_but_other_content_is(tmp_path):
    cfg = {"policy": {"client_to_server": {"pii": "block"}}}
    p = make(tmp_path, cfg)
    token = p.protect(result(EMAIL), s2c()).message["result"]["content"][0]["text"]
    ok = p.protect(call({"to": token}), c2s())
    assert ok.kind == "forward" and ok.message["params"]["arguments"]["to"] == EMAIL
    assert [d.reason for d in ok.decisions] == ["restored-token"]
    bad = p.protect(call({"to": token, "cc": "mallory@example.com"}), c2s())
    assert bad.kind == "reject" and bad.error["data"]["types"] == ["email"]


def test_token_in_resource_uri_and_key(tmp_path):
    p = make(tmp_path)
    token = p.protect(result(EMAIL), s2c()).message["result"]["content"][0]["text"]
    req = {"jsonrpc": "2.0", "id": 3, "method": "resources/read", "params": {"uri": f"mailto:{token}", token: 1}}
    out = p.protect(req, c2s())
    assert out.message["params"] == {"uri": f"mailto:{EMAIL}", EMAIL: 1}


def test_echoed_restored_value_is_tokenized_again(tmp_path):
    p = make(tmp_path)
    first = p.protect(result(EMAIL), s2c()).message["result"]["content"][0]["text"]
    echo = p.protect(result(f"sent to {EMAIL}"), s2c()).message["result"]["content"][0]["text"]
    assert echo == f"sent to {first}"


def test_tokens_from_client_are_never_restored_toward_client(tmp_path):
    p = make(tmp_path)
    token = p.protect(result(EMAIL), s2c()).message["result"]["content"][0]["text"]
    out = p.protect(result(f"the server says {token}"), s2c())
    assert out.message["result"]["content"][0]["text"] == f"the server says {token}"


def test_forged_token_shape_is_still_scanned(tmp_path):
    p = make(tmp_path)
    out = p.protect(result(f"[[AWS:{AKID}]] and [[EMAIL:{EMAIL}]]"), s2c())
    text = out.message["result"]["content"][0]["text"]
    assert AKID not in text and EMAIL not in text


def test_most_protective_action_wins_on_overlap(tmp_path):
    class Overlapping(FakeEngine):
        def scan_text(self, text, path="", kind="value"):
            from mcpguard.types import Category, Finding
            out = super().scan_text(text, path, kind)
            if "alice" in text:  # a secret overlapping the email's local part
                i = text.index("alice")
                out.append(Finding("custom_secret", "fake.custom", Category.SECRET, path, i - 3, i + 5, 0.9,
                                   text[i - 3:i + 5], kind))
            return out

    p = make(tmp_path, engine=Overlapping())
    text = p.protect(result(f"id {EMAIL}!"), s2c()).message["result"]["content"][0]["text"]
    assert text == "[REDACTED:custom_secret]!"


def test_audit_records_shape_and_never_values(tmp_path):
    p = make(tmp_path)
    p.protect(result(f"{EMAIL} {AKID}"), s2c(server="db"))
    p.protect(call({"k": AKID}, name="run"), c2s())
    recs = audit_lines(tmp_path)
    assert verify_file(tmp_path / "audit.jsonl").ok
    first, second = recs
    assert first["direction"] == "server_to_client" and first["method"] == "tools/call"
    assert first["counts"] == {"aws_access_key_id": 1, "email": 1} and first["outcome"] == "forward"
    assert {f["path"] for f in first["findings"]} == {"/result/content/0/text"}
    assert all(len(f["fp"]) == 16 for f in first["findings"])
    assert second["tool"] == "run" and second["outcome"] == "reject" and second["action"] == "block"
    raw = (tmp_path / "audit.jsonl").read_text()
    assert EMAIL not in raw and AKID not in raw


def test_clean_frames_not_audited_unless_configured(tmp_path):
    make(tmp_path).protect(result("nothing here"), s2c())
    assert not (tmp_path / "audit.jsonl").exists()
    make(tmp_path, {"audit": {"record_clean": True}}).protect(result("nothing here"), s2c())
    assert len(audit_lines(tmp_path)) == 1


class BrokenAudit(AuditLog):
    def append(self, kind, fields):
        raise AuditUnavailable("disk full")


def test_audit_failure_fails_closed_by_default(tmp_path):
    p = make(tmp_path, audit=BrokenAudit(tmp_path / "x"))
    with pytest.raises(AuditUnavailable):
        p.protect(result(EMAIL), s2c())
    lenient = make(tmp_path, {"audit": {"fail_closed": False}}, audit=BrokenAudit(tmp_path / "x"))
    assert lenient.protect(result(EMAIL), s2c()).kind == "forward"


def test_no_audit(tmp_path):
    p = make(tmp_path, audit=NO_AUDIT)
    assert p.protect(result(EMAIL), s2c()).audit is None


def test_protect_text(tmp_path):
    p = make(tmp_path)
    ctx = Context(Direction.SERVER_TO_CLIENT, method="stderr")
    out, ds = p.protect_text(f"login {EMAIL} with {AKID}", ctx)
    assert EMAIL not in out and AKID not in out and len(ds) == 2
    out, _ = p.protect_text(f"oops {PEM}", ctx)
    assert out == "[BLOCKED:private_key]"
    assert audit_lines(tmp_path)[-1]["method"] == "stderr"


class Guard:
    def __init__(self, result=None):
        self.result = result
        self.seen = []

    def on_server_message(self, message, ctx):
        self.seen.append(("s2c", message.get("method") or ctx.method))
        return self.result

    def on_client_request(self, message, ctx):
        self.seen.append(("c2s", message.get("method")))
        return self.result


def test_toolguard_hook_sees_both_directions_and_can_short_circuit(tmp_path):
    guard = Guard()
    p = make(tmp_path, toolguard=guard)
    p.protect(call({"a": "b"}), c2s())
    p.protect(result("x"), s2c())
    assert guard.seen == [("c2s", "tools/call"), ("s2c", "tools/call")]
    err = {"code": -32002, "message": "tool changed", "data": {"reason": "tool_drift"}}
    p = make(tmp_path, toolguard=Guard(Outcome(kind="reject", message=None, error=err)))
    out = p.protect(call({"a": "b"}), c2s())
    assert out.kind == "reject" and out.error == err
    assert audit_lines(tmp_path)[-1]["toolguard"] == {"reason": "tool_drift"}


def test_toolguard_rewrite_is_scanned_afterwards(tmp_path):
    rewritten = result(f"clean {EMAIL}")
    p = make(tmp_path, toolguard=Guard(rewritten))
    out = p.protect(result("original"), s2c())
    assert "[[EMAIL:" in out.message["result"]["content"][0]["text"]


def test_concurrent_protect_keeps_tokens_stable_and_the_chain_intact(tmp_path):
    import threading

    p = make(tmp_path)
    start = threading.Barrier(6)
    seen: list[str] = []

    def work(i):
        start.wait()
        for j in range(20):
            out = p.protect(result(f"{EMAIL} and user{j}@corp.io", id_=i * 100 + j), s2c())
            seen.append(out.message["result"]["content"][0]["text"].split()[0])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 1 and len(seen) == 120
    res = verify_file(tmp_path / "audit.jsonl")
    assert res.ok and res.records == 120


def test_report_only_still_restores_tokens(tmp_path):
    p = make(tmp_path)
    token = p.protect(result(EMAIL), s2c()).message["result"]["content"][0]["text"]
    ro = build_pipeline(parse_config({"mode": "report-only"}), engine=FakeEngine(), keys=MemoryKeyProvider(),
                        audit=NO_AUDIT, tokens=p.tokenizer)
    assert ro.protect(call({"to": token}), c2s()).message["params"]["arguments"]["to"] == EMAIL


def test_client_response_to_a_server_request_is_restored_and_blocked_like_any_frame(tmp_path):
    p = make(tmp_path)
    token = p.protect(result(EMAIL), s2c()).message["result"]["content"][0]["text"]
    reply = {"jsonrpc": "2.0", "id": "srv-1", "result": {"content": {"type": "text", "text": f"write to {token}"}}}
    out = p.protect(reply, Context(Direction.CLIENT_TO_SERVER, method="sampling/createMessage", server="db"))
    assert out.message["result"]["content"]["text"] == f"write to {EMAIL}"
    leak = {"jsonrpc": "2.0", "id": "srv-2", "result": {"content": {"type": "text", "text": AKID}}}
    out = p.protect(leak, Context(Direction.CLIENT_TO_SERVER, method="sampling/createMessage", server="db"))
    assert out.kind == "reject" and out.message["id"] == "srv-2" and out.message["error"]["code"] == BLOCKED_CODE


def test_server_request_with_a_secret_is_refused_back_to_the_server(tmp_path):
    p = make(tmp_path)
    req = {"jsonrpc": "2.0", "id": 9, "method": "sampling/createMessage",
           "params": {"messages": [{"role": "user", "content": {"type": "text", "text": PEM}}]}}
    out = p.protect(req, s2c("sampling/createMessage"))
    assert out.kind == "reject" and out.message is None and "private_key" in out.error["message"]


def test_record_event_refuses_raw_value_fields(tmp_path):
    p = make(tmp_path)
    with pytest.raises(ValueError, match="forbidden"):
        p.record_event("admin.action", {"value": "x"})
    assert p.record_event("admin.action", {"actor": "ref"})["kind"] == "admin.action"


def test_batches_are_not_messages(tmp_path):
    from mcpguard.errors import FrameError

    with pytest.raises(FrameError):
        make(tmp_path).protect([result("x")], s2c())  # type: ignore[arg-type]


def test_expired_token_passes_unchanged_and_is_audited(tmp_path):
    now = [1_000_000.0]
    p = make(tmp_path, {"tokens": {"ttl_seconds": 60}}, clock=lambda: now[0])
    token = p.protect(result(EMAIL), s2c()).message["result"]["content"][0]["text"]
    now[0] += 61
    req = call({"to": token})
    assert p.protect(req, c2s()).message == req
    assert audit_lines(tmp_path)[-1]["tokens"] == {"expired": 1}


def test_share_across_servers_from_config(tmp_path):
    p = make(tmp_path, {"tokens": {"share_across_servers": True}})
    token = p.protect(result(EMAIL), s2c(server="db")).message["result"]["content"][0]["text"]
    assert p.protect(call({"to": token}), c2s(server="mail")).message["params"]["arguments"]["to"] == EMAIL


def test_a_finding_the_pipeline_cannot_place_refuses_the_frame(tmp_path):
    from mcpguard.errors import MCPGuardError

    class Misplaced(FakeEngine):
        def scan_leaves(self, leaves):
            return [f.__class__(f.type, f.rule, f.category, "/nowhere", f.start, f.end, f.confidence, f.value, f.kind)
                    for f in super().scan_leaves(leaves)]

    with pytest.raises(MCPGuardError):
        make(tmp_path, engine=Misplaced()).protect(result(EMAIL), s2c())


def test_response_record_does_not_carry_a_sensitive_tool_name_from_the_request(tmp_path):
    # The client may call a tool named after a value (PII travels client→server under "allow"); the response's
    # audit record names the tool from the request context, and must not write the value down.
    p = make(tmp_path)
    ctx = Context(Direction.SERVER_TO_CLIENT, method="tools/call", server="db", user="local", tool=EMAIL)
    p.protect(result("call 01023456789"), ctx)
    assert EMAIL not in (tmp_path / "audit.jsonl").read_text()
    p.protect(result("call 01023456789"), Context(Direction.SERVER_TO_CLIENT, method="tools/call", server="db",
                                                  user="local", tool="query"))
    assert audit_lines(tmp_path)[-1]["tool"] == "query"
