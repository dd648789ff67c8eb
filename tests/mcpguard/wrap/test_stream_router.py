"""Values split across two notifications of one stream (progress, logging) or two stderr lines: the router and the
stderr filter with the real pipeline and engine. No part of a split value reaches the client or the wrapper's
stderr; the audit records it without the value."""

from __future__ import annotations

import json
import os
import re

import pytest

from mcpguard.audit.store import AuditLog
from mcpguard.config import DetectionConfig, parse_config
from mcpguard.crypto import MemoryKeyProvider
from mcpguard.detect.engine import build_engine
from mcpguard.runtime import NO_AUDIT, build_pipeline
from mcpguard.wrap.router import MAX_STREAMS, Router
from mcpguard.wrap.stderr import StderrFilter
from tests.mcpguard.detect.secrets.test_jwt import JWT
from tests.mcpguard.detect.secrets.test_vcs import GHP

AWS = "AKIAQYLPMN5HHHFPZAM2"
EMAIL = "jane.roe@gmail.com"
VALUES = {"aws_access_key_id": AWS, "github_token": GHP, "email": EMAIL, "jwt": JWT}
CASES = [(t, v, cut) for t, v in VALUES.items() for cut in range(1, len(v))]
# What a protected part may become: a redaction marker or a token (never a mask of a part).
MARKER = r"(\[REDACTED:[a-z_]+\]|\[\[[A-Z_]+:[0-9a-f]+\]\])"

_ENGINE = None


def engine():
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = build_engine(DetectionConfig())
    return _ENGINE


def pipeline(tmp_path=None, raw=None):
    audit = AuditLog(tmp_path / "audit.jsonl") if tmp_path is not None else NO_AUDIT
    return build_pipeline(parse_config(raw or {}), engine=engine(), keys=MemoryKeyProvider(), audit=audit)


@pytest.fixture(scope="module")
def shared():
    return pipeline()


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def router(p, clock=None):
    return Router(p, server="s", hold_streams=True, clock=clock or Clock())


def line(**msg) -> bytes:
    return json.dumps({"jsonrpc": "2.0", **msg}).encode()


def log(data, logger="app"):
    return line(method="notifications/message", params={"level": "info", "logger": logger, "data": data})


def progress(token, n, message):
    return line(method="notifications/progress", params={"progressToken": token, "progress": n, "message": message})


def out(r):
    frames = [json.loads(b) for b in r.to_client]
    r.to_client = []
    return frames


def assert_protected(first, second, head, tail):
    assert re.fullmatch(re.escape(head) + MARKER, first), first
    assert re.fullmatch(MARKER + re.escape(tail), second), second


@pytest.mark.parametrize("type_,value,cut", CASES)
def test_value_split_across_two_logging_notifications(shared, type_, value, cut):
    r = router(shared)
    r.child_frame(log("log line " + value[:cut]))
    assert r.to_client == []  # held until its continuation is seen
    r.child_frame(log(value[cut:] + " done"))
    r.release_all()
    a, b = (f["params"]["data"] for f in out(r))
    assert_protected(a, b, "log line ", " done")


@pytest.mark.parametrize("type_,value,cut", CASES)
def test_value_split_across_two_progress_notifications(shared, type_, value, cut):
    r = router(shared)
    r.client_frame(line(id=7, method="tools/call", params={"name": "t", "_meta": {"progressToken": "p7"}}))
    r.child_frame(progress("p7", 1, "reading " + value[:cut]))
    r.child_frame(progress("p7", 2, value[cut:] + " ok"))
    r.child_frame(line(id=7, result={"content": []}))  # ends the stream: held progress goes first
    frames = out(r)
    assert [f.get("method") for f in frames] == ["notifications/progress"] * 2 + [None]
    assert [f["params"]["progress"] for f in frames[:2]] == [1, 2]
    assert_protected(frames[0]["params"]["message"], frames[1]["params"]["message"], "reading ", " ok")
    assert len(r.streams) == 0 and r.holding == 0


def test_interleaved_streams_do_not_mix(shared):
    r = router(shared)
    r.child_frame(log("key " + AWS[:8], logger="a"))
    r.child_frame(log(AWS[8:] + " from b", logger="b"))  # would complete the key if the streams were mixed
    r.child_frame(progress(1, 1, AWS[8:] + " progress"))
    r.child_frame(log(AWS[8:] + " done", logger="a"))
    r.release_all()
    texts = {(f["method"], f["params"].get("logger"), f["params"].get("data") or f["params"].get("message"))
             for f in out(r)}
    assert texts == {
        ("notifications/message", "a", "key [REDACTED:aws_access_key_id]"),
        ("notifications/message", "b", AWS[8:] + " from b"),
        ("notifications/progress", None, AWS[8:] + " progress"),
        ("notifications/message", "a", "[REDACTED:aws_access_key_id] done"),
    }


def test_progress_state_is_dropped_when_its_request_is_answered(shared):
    r = router(shared)
    r.client_frame(line(id=1, method="tools/call", params={"name": "t", "_meta": {"progressToken": 5}}))
    r.child_frame(progress(5, 1, "key " + AWS[:8]))
    r.child_frame(line(id=1, result={}))
    assert len(r.streams) == 0 and [f.get("id") for f in out(r)] == [None, 1]
    r.child_frame(progress(5, 2, AWS[8:] + " late"))  # nothing carried over from the ended stream
    r.release_all()
    assert out(r)[0]["params"]["message"] == AWS[8:] + " late"


def test_cancellation_ends_the_progress_stream(shared):
    r = router(shared)
    r.client_frame(line(id=3, method="tools/call", params={"name": "t", "_meta": {"progressToken": "c"}}))
    r.child_frame(progress("c", 1, "working"))
    r.client_frame(line(method="notifications/cancelled", params={"requestId": 3}))
    assert len(r.streams) == 0 and [f["params"]["message"] for f in out(r)] == ["working"]


def test_idle_notification_is_released_by_the_timer(shared):
    clock = Clock()
    r = router(shared, clock)
    r.child_frame(log("starting"))
    assert r.holding == 1 and r.next_release() == pytest.approx(clock.now + 0.05)
    r.release_due(clock.now + 0.01)
    assert r.to_client == []
    r.release_due(clock.now + 0.05)
    assert [f["params"]["data"] for f in out(r)] == ["starting"] and r.next_release() is None


def test_fail_in_flight_releases_held_notifications_first(shared):
    r = router(shared)
    r.client_frame(line(id=1, method="tools/call", params={"name": "t"}))
    r.child_frame(log("last words"))
    assert r.fail_in_flight(1) == 1
    frames = out(r)
    assert frames[0]["params"]["data"] == "last words" and frames[1]["error"]["data"]["reason"] == "server_exited"


def test_bounded_with_ten_thousand_progress_streams(shared):
    r = router(shared)
    for i in range(10_000):
        r.child_frame(progress(i, 1, f"step {i} token part {AWS[:10]}"))
        assert len(r.streams) <= MAX_STREAMS
    r.release_all()
    assert len(out(r)) == 10_000 and len(r.streams) == 0


def test_structured_log_data_keeps_its_place_in_the_stream(shared):
    r = router(shared)
    r.child_frame(log("key " + AWS[:8]))
    r.child_frame(log({"event": "tick"}))
    r.child_frame(log(AWS[8:] + " done"))
    r.release_all()
    assert [f["params"]["data"] for f in out(r)] == [
        "key [REDACTED:aws_access_key_id]", {"event": "tick"}, "[REDACTED:aws_access_key_id] done"]


def test_a_masked_type_split_in_two_is_redacted_not_masked():
    p = pipeline(raw={"policy": {"server_to_client": {"types": {"aws_access_key_id": "mask"}}}})
    r = router(p)
    r.child_frame(log("key " + AWS[:10]))
    r.child_frame(log(AWS[10:] + " x"))
    r.child_frame(log(AWS + " whole"))
    r.release_all()
    assert [f["params"]["data"] for f in out(r)] == [
        "key [REDACTED:aws_access_key_id]", "[REDACTED:aws_access_key_id] x", mask_of(AWS) + " whole"]


def mask_of(value):
    from mcpguard.transform.mask import mask

    return mask(value)


def test_audit_records_each_part_without_the_value(tmp_path):
    p = pipeline(tmp_path)
    r = router(p)
    r.child_frame(log("key " + AWS[:9]))
    r.child_frame(log(AWS[9:] + " done"))
    r.release_all()
    raw = (tmp_path / "audit.jsonl").read_text()
    assert AWS not in raw and AWS[:9] not in raw and AWS[9:] not in raw
    records = [json.loads(x) for x in raw.splitlines()]
    finds = [f for rec in records for f in rec.get("findings", [])]
    assert [(f["type"], f["path"], f["start"], f["end"]) for f in finds] == [
        ("aws_access_key_id", "/params/data", 4, 13), ("aws_access_key_id", "/params/data", 0, 11)]
    assert finds[0]["fp"] == finds[1]["fp"]  # one value, one fingerprint


# --- stderr ---------------------------------------------------------------------------------------------------


class Stderr:
    """A StderrFilter writing into a pipe that the test reads back."""

    def __init__(self, p, clock=None):
        self.rfd, self.wfd = os.pipe()
        self.notes = []
        self.f = StderrFilter(p, server="s", fd=self.wfd, note=lambda k, t=None: self.notes.append(k),
                              clock=clock or Clock())

    def lines(self):
        os.close(self.wfd)
        with os.fdopen(self.rfd, "rb") as fh:
            return fh.read().decode().splitlines()


@pytest.mark.parametrize("width", [64, 76])
def test_jwt_wrapped_over_stderr_lines(shared, width):
    s = Stderr(shared)
    wrapped = [JWT[i : i + width] for i in range(0, len(JWT), width)]
    assert len(wrapped) >= 2
    s.f.line(b"auth token follows:")
    for piece in wrapped:
        s.f.line(piece.encode())
    s.f.line(b"request done")
    s.f.finish()
    got = s.lines()
    assert got[0] == "auth token follows:"
    assert all(re.fullmatch(MARKER, x) for x in got[1:-1]), got
    # Lines join with no separator, so the JWT's open-ended signature runs on over the next line's first word: the
    # documented price of catching wrapped values (it errs toward redacting).
    assert got[-1] == "[REDACTED:jwt] done"


@pytest.mark.parametrize("cut", range(1, len(AWS)))
def test_aws_key_split_over_two_stderr_lines(shared, cut):
    s = Stderr(shared)
    s.f.line(("export AWS_ACCESS_KEY_ID=" + AWS[:cut]).encode())
    s.f.line((AWS[cut:] + " # prod").encode())
    s.f.finish()
    a, b = s.lines()
    assert_protected(a, b, "export AWS_ACCESS_KEY_ID=", " # prod")


def test_stderr_line_is_held_until_the_timer(shared):
    clock = Clock()
    s = Stderr(shared, clock)
    s.f.line(b"listening on :8080")
    assert s.f.holding == 1 and s.f.next_release() == pytest.approx(clock.now + 0.05)
    s.f.release_due(clock.now + 0.05)
    assert s.f.holding == 0
    s.f.finish()
    assert s.lines() == ["listening on :8080"]


def test_pem_block_ends_the_stderr_stream(shared):
    s = Stderr(shared)
    s.f.line(b"key " + AWS[:8].encode())
    s.f.line(b"-----BEGIN RSA PRIVATE KEY-----")
    s.f.line(b"MIIEowIBAAKCAQEA")
    s.f.line(b"-----END RSA PRIVATE KEY-----")
    s.f.line(AWS[8:].encode() + b" after")
    s.f.finish()
    got = s.lines()
    assert got[0] == "key " + AWS[:8]  # let go when the block began: the key's rest comes after the block
    assert got[1].startswith("[BLOCKED:private_key]") and got[2] == AWS[8:] + " after" and len(got) == 3


def test_stderr_line_that_cannot_be_audited_is_withheld(tmp_path):
    p = pipeline(tmp_path, raw={"audit": {"fail_closed": True}})
    (tmp_path / "audit.jsonl").unlink(missing_ok=True)
    (tmp_path / "audit.jsonl").mkdir()  # appending to a directory fails: the audit is unavailable
    s = Stderr(p)
    s.f.line(b"key " + AWS[:8].encode())
    s.f.line(AWS[8:].encode() + b" end")
    s.f.finish()
    assert s.lines() == [] and "stderr_withheld" in s.notes


class _Exploding:
    """An engine whose boundary scan fails: the stream cannot be scanned."""

    class config:
        stream_window = 2048

    def scan_text(self, text, path=""):
        raise RuntimeError("engine failure " + text)


class _PassThrough:
    def __init__(self):
        self.protected = []

    def protect(self, message, ctx, *, carried=()):
        from mcpguard.types import Outcome

        self.protected.append(message)
        return Outcome(kind="forward", message=message)

    def protect_text(self, text, ctx, *, carried=()):
        return text, []

    def stream_table(self, **bounds):
        from mcpguard.detect.stream import StreamTable

        return StreamTable(_Exploding(), **bounds)


def test_a_stream_that_cannot_be_scanned_drops_the_notification_with_a_value_free_notice():
    notes = []
    r = Router(_PassThrough(), server="s", hold_streams=True, note=lambda k, t=None: notes.append((k, t)))
    r.child_frame(log("first " + AWS[:8]))
    r.child_frame(log(AWS[8:] + " second"))  # the boundary scan raises: this one is not forwarded
    r.release_all()
    assert [f["params"]["data"] for f in out(r)] == ["first " + AWS[:8]]
    assert notes and all(AWS[8:] not in (t or "") for _, t in notes) and notes[0][0] == "internal"


def test_a_stderr_stream_that_cannot_be_scanned_withholds_the_line():
    rfd, wfd = os.pipe()
    notes = []
    f = StderrFilter(_PassThrough(), server="s", fd=wfd, note=lambda k, t=None: notes.append((k, t)))
    f.line(b"first " + AWS[:8].encode())
    f.line(AWS[8:].encode() + b" second")
    f.finish()
    os.close(wfd)
    with os.fdopen(rfd, "rb") as fh:
        assert fh.read().decode().splitlines() == ["first " + AWS[:8]]
    assert [k for k, _ in notes] == ["stderr_withheld"] and AWS[8:] not in notes[0][1]


def test_without_hold_streams_notifications_pass_one_by_one(shared):
    r = Router(shared, server="s")
    r.child_frame(log("key " + AWS[:8]))
    assert r.streams is None and [f["params"]["data"] for f in out(r)] == ["key " + AWS[:8]]


# --- a private key streamed line by line ------------------------------------------------------------------------

_BODY = __import__("base64").b64encode(bytes(range(256)) * 5).decode()
PEM_BODY = [_BODY[i : i + 64] for i in range(0, len(_BODY), 64)]
PEM = ["-----BEGIN RSA PRIVATE KEY-----", *PEM_BODY, "-----END RSA PRIVATE KEY-----"]


def leaked(text: str) -> list[str]:
    """Body lines of :data:`PEM` found in ``text`` (none may be)."""
    return [b for b in PEM_BODY if b in text]


@pytest.mark.parametrize("sep", ["\n", ""])
def test_a_private_key_sent_one_line_per_log_notification_never_reaches_the_client(shared, sep):
    r = router(shared)
    r.child_frame(log("loading key "))
    for pem_line in PEM:
        r.child_frame(log(pem_line + sep))
    r.child_frame(log(" key loaded"))
    r.release_all()
    datas = [f["params"]["data"] for f in out(r)]
    assert leaked("".join(datas)) == []
    # private_key is hard-blocked by default: every notification of the block is dropped, the others pass.
    assert datas == ["loading key ", " key loaded"]


def test_a_private_key_sent_one_line_per_progress_notification_never_reaches_the_client(shared):
    r = router(shared)
    r.client_frame(line(id=4, method="tools/call", params={"name": "t", "_meta": {"progressToken": "k"}}))
    for n, pem_line in enumerate(PEM):
        r.child_frame(progress("k", n, pem_line + "\n"))
    r.child_frame(progress("k", 99, "done"))
    r.child_frame(line(id=4, result={"content": []}))  # ends the stream and its gate
    frames = out(r)
    assert leaked(json.dumps(frames)) == []
    assert [f["params"]["message"] for f in frames if "params" in f] == ["done"] and frames[-1]["id"] == 4
    assert len(r.pem) == 0


def test_a_redact_policy_replaces_each_line_of_the_block_never_masks_it():
    p = pipeline(raw={"policy": {"hard_block": [], "server_to_client": {"types": {"private_key": "mask"}}}})
    r = router(p)
    for pem_line in PEM:
        r.child_frame(log(pem_line + "\n"))
    r.child_frame(log("after the key"))
    r.release_all()
    datas = [f["params"]["data"] for f in out(r)]
    assert leaked("".join(datas)) == []
    assert datas[1:-2] == ["[REDACTED:private_key]"] * len(PEM_BODY)  # a mask would keep the tail of each line
    assert datas[-2] == "[REDACTED:private_key]\n"  # the END line is part of the block; what follows it is not
    assert datas[-1] == "after the key"


def test_header_and_end_lines_cut_across_notifications(shared):
    r = router(shared)
    r.child_frame(log("-----BEGIN RSA PRIV"))
    r.child_frame(log("ATE KEY-----\n"))
    for body in PEM_BODY:
        r.child_frame(log(body + "\n"))
    r.child_frame(log("-----END RSA PRIVA"))
    r.child_frame(log("TE KEY-----"))
    r.child_frame(log(" then plain text"))
    r.release_all()
    datas = [f["params"]["data"] for f in out(r)]
    assert leaked("".join(datas)) == [] and datas == [" then plain text"]


def test_other_streams_are_not_gated(shared):
    r = router(shared)
    r.child_frame(log(PEM[0] + "\n", logger="keys"))
    r.child_frame(log("a normal line\n", logger="app"))
    r.child_frame(log(PEM_BODY[0] + "\n", logger="keys"))
    r.child_frame(log("another normal line", logger="app"))
    r.release_all()
    assert [(f["params"]["logger"], f["params"]["data"]) for f in out(r)] == [
        ("app", "a normal line\n"), ("app", "another normal line")]


def test_structured_data_inside_a_block_is_withheld_with_a_value_free_notice(shared):
    notes = []
    r = Router(shared, server="s", hold_streams=True, clock=Clock(), note=lambda k, t=None: notes.append((k, t)))
    r.child_frame(log(PEM[0] + "\n"))
    r.child_frame(log({"line": PEM_BODY[0]}))  # key material in an object: no string to place a finding on
    r.child_frame(log(PEM[-1]))
    r.child_frame(log({"event": "tick"}))  # after the block: passes
    r.release_all()
    assert [f["params"]["data"] for f in out(r)] == [{"event": "tick"}]
    assert [k for k, _ in notes] == ["pem_withheld"] and all(PEM_BODY[0] not in (t or "") for _, t in notes)


def test_the_audit_records_each_line_of_the_block_without_the_key(tmp_path):
    from mcpguard.wrap.router import PEM_STREAM_RULE

    p = pipeline(tmp_path)
    r = router(p)
    for pem_line in PEM:
        r.child_frame(log(pem_line + "\n"))
    r.release_all()
    raw = (tmp_path / "audit.jsonl").read_text()
    assert leaked(raw) == []
    finds = [f for rec in map(json.loads, raw.splitlines()) for f in rec.get("findings", [])]
    gated = [f for f in finds if f["rule"] == PEM_STREAM_RULE]
    assert len(gated) == len(PEM_BODY) + 1  # every body line and the END line
    assert {(f["type"], f["path"]) for f in gated} == {("private_key", "/params/data")}


def test_pem_streams_bounds():
    from mcpguard.wrap.router import PemStreams

    gate = PemStreams(max_streams=2, max_chars=100)
    assert gate.feed("a", "x -----BEGIN EC PRIVATE KEY-----\n") == (0, None, False)  # the header chunk: the engine's
    assert gate.feed("a", "A" * 64 + "\n") == (65, "-----BEGIN EC PRIVATE KEY-----", False)
    assert gate.feed("a", "B" * 64 + "\n") == (65, "-----BEGIN EC PRIVATE KEY-----", True)  # past max_chars: closes
    assert gate.feed("a", "plain") == (0, None, False)
    gate.feed("b", "-----BEGIN PRIVATE KEY-----")
    gate.feed("c", "plain")  # a third stream: the one outside any block ("a") is forgotten, not the open one
    assert gate.is_open("b") and len(gate) == 2
    assert gate.feed("b", "Cx-----END PRIVATE KEY-----tail") == (len("Cx-----END PRIVATE KEY-----"),
                                                                 "-----BEGIN PRIVATE KEY-----", False)
    assert not gate.is_open("b")


def test_a_header_cut_across_chunks_gates_the_completing_chunk_under_redact():
    """The BEGIN line completes in the second chunk: that chunk is inside the block from its start, so its body
    lines are redacted, not forwarded after a marker (review of Dec 8; the default policy blocks them anyway)."""
    r = router(pipeline(raw={"policy": {"hard_block": [], "server_to_client": {"types": {"private_key": "redact"}}}}))
    r.child_frame(log("-----BEGIN RSA PRIV"))
    r.child_frame(log("ATE KEY-----\n" + "\n".join(PEM_BODY[:8]) + "\n"))
    r.release_all()
    assert leaked("".join(f["params"]["data"] for f in out(r))) == []


def test_a_mere_mention_of_a_header_does_not_silence_the_stream(shared):
    r = router(shared)
    r.child_frame(log("docs: keys start with -----BEGIN PRIVATE KEY----- and end with the END line\n"))
    for i in range(50):
        r.child_frame(log(f"normal log line {i}\n"))
    r.release_all()
    datas = [f["params"]["data"] for f in out(r)]
    assert sum(d.startswith("normal log line") for d in datas) >= 49
