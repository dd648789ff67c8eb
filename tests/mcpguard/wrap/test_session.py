"""mcpguard.wrap.session: the wrapper's pumps and lifecycle, driven over raw pipes with purpose-written children.

Each test maps to a failure mode in the threats note (stdio framing): oversize and smuggled frames, malformed JSON,
batches, duplicate keys, child crash mid-request, SIGKILL status, stdout noise, stderr leaks, concurrent in-flight
ids in both directions, shutdown on EOF and on SIGTERM. The protector is a pass-through or the real pipeline with a
small fake engine, so these tests do not depend on the detection engine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.mcpguard.wrap.harness import ECHO, launch, pid_alive, wait_until

SECRET = "AKIAQYLPMN5HHHFPZAM2"  # shaped like an AWS access key id (the fake engine's rule)
INIT = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}


@pytest.fixture
def wrapper(request):
    procs = []

    def start(*args, **kwargs):
        d = launch(*args, **kwargs)
        procs.append(d)
        return d

    yield start
    for d in procs:
        d.kill()


def _echo(n: int = 3) -> dict:
    return {"name": "echo", "arguments": {"n": n}}


# --- framing at the front door --------------------------------------------------------------------------------


def test_round_trip_and_reserialization(wrapper):
    w = wrapper()
    # Extra whitespace and key order on the way in: what the child and client see is our own serialization.
    w.send_raw(b'  {"method" : "initialize", "id" : 1, "jsonrpc" : "2.0", "params": {}}  \r\n')
    resp = w.recv()
    assert resp["id"] == 1 and resp["result"]["serverInfo"]["name"] == "echo"
    assert w.raw_stdout[-1].startswith(b'{"jsonrpc":"2.0","id":1,"result":')
    w.close_stdin()
    assert w.wait() == 0


def test_oversize_frame_is_refused_and_cannot_smuggle_a_frame(wrapper):
    w = wrapper(max_frame=4096)
    smuggled = b'{"jsonrpc":"2.0","id":99,"method":"test/exit","params":{"code":7}}'
    w.send_raw(b'{"x":"' + b"A" * 10_000 + smuggled + b"\n")
    err = w.recv()
    assert err["id"] is None
    assert err["error"]["code"] == -32600 and err["error"]["data"]["reason"] == "frame_too_large"
    # The stream resynchronized and the smuggled test/exit never reached the child.
    assert w.call(2, "tools/call", _echo())["id"] == 2
    assert w.proc.poll() is None
    assert b"AAAA" not in b"".join(w.raw_stdout)
    w.close_stdin()
    assert w.wait() == 0


def test_oversize_split_across_many_writes(wrapper):
    w = wrapper(max_frame=4096)
    for _ in range(8):
        w.send_raw(b"B" * 3000)
    w.send_raw(b'"}\n')
    assert w.recv()["error"]["data"]["reason"] == "frame_too_large"
    assert w.call(3, "tools/list")["id"] == 3


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"x":NaN}}', -32700),
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"x":"\\ud800"}}', -32700),
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"x":"\xff\xfe"}}', -32700),
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"test/exit"}', -32700),
        (b'[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]', -32600),
        (b'not json at all ' + SECRET.encode(), -32700),
    ],
)
def test_malformed_frames_get_an_error_and_are_never_echoed(wrapper, raw, code):
    w = wrapper()
    w.send_raw(raw + b"\n")
    err = w.recv()
    assert err["id"] is None and err["error"]["code"] == code
    assert w.call(2, "tools/list")["id"] == 2  # the duplicate-key test/exit did not run
    w.close_stdin()
    assert w.wait() == 0
    out = b"".join(w.raw_stdout)
    assert SECRET.encode() not in out and b"\xff" not in out and b"NaN" not in out
    assert SECRET not in w.stderr_text()


def test_invalid_envelope_is_answered_under_its_id_when_safe(wrapper):
    w = wrapper()
    w.send({"jsonrpc": "1.0", "id": 41, "method": "tools/list"})
    err = w.recv()
    assert err["id"] == 41 and err["error"]["code"] == -32600
    w.send({"jsonrpc": "2.0", "id": None, "method": "tools/list"})
    assert w.recv()["id"] is None


def test_depth_limit(wrapper):
    w = wrapper(max_depth=8)
    deep: dict = {"v": 1}
    for _ in range(10):
        deep = {"d": deep}
    w.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": deep})
    err = w.recv()
    assert err["error"]["data"]["reason"] == "frame_too_deep"


# --- the child's output ---------------------------------------------------------------------------------------


def test_child_stdout_noise_is_never_forwarded(wrapper):
    w = wrapper(["--banner", f"starting with key {SECRET}"])
    assert w.call(1, "test/noise", {"text": f"debug: key={SECRET}"})["result"] == {"ok": True}
    w.close_stdin()
    assert w.wait() == 0
    assert SECRET.encode() not in b"".join(w.raw_stdout)
    err = w.stderr_text()
    assert SECRET not in err
    assert "invalid server output dropped" in err


def test_invalid_and_unsolicited_child_frames_are_dropped(wrapper):
    w = wrapper()
    for line in [
        '{"jsonrpc":"2.0","id":1,"result":{"a":NaN}}',
        '{"jsonrpc":"2.0","id":1,"result":{"a":1,"a":2}}',
        '[{"jsonrpc":"2.0","id":1,"result":{}}]',
        '{"jsonrpc":"2.0","id":777,"result":{"stale":true}}',
    ]:
        w.request(f"r{len(line)}", "test/raw", {"line": line})
    # A later real answer arrives, and nothing before it did.
    resp = w.call(5, "tools/list")
    assert resp["id"] == 5
    w.close_stdin()
    w.wait()
    assert all(b"stale" not in line and b"NaN" not in line for line in w.raw_stdout)


def test_oversize_child_frame_is_dropped_and_its_request_answered(wrapper):
    w = wrapper(max_frame=4096)
    w.request(1, "tools/call", _echo(10_000))
    err = w.recv()
    assert err["id"] == 1 and err["error"]["data"]["reason"] == "frame_too_large"
    assert "x" * 100 not in json.dumps(err)
    assert w.call(2, "tools/call", _echo(10))["id"] == 2  # resynchronized
    w.close_stdin()
    w.wait()
    assert "server frame over the size limit dropped" in w.stderr_text()


def test_oversize_client_request_is_answered_under_its_id_when_the_prefix_names_it(wrapper):
    w = wrapper(max_frame=4096)
    w.send_raw(b'{"jsonrpc":"2.0","id":"big-1","method":"tools/call","params":{"x":"' + b"y" * 9000 + b'"}}\n')
    err = w.recv()
    assert err["id"] == "big-1" and err["error"]["data"]["reason"] == "frame_too_large"


def test_unterminated_huge_line_does_not_grow_memory(wrapper):
    # The probed wrapper grew to 646 MB RSS on a 200 MiB unterminated line; here the buffer is bounded.
    w = wrapper(max_frame=1 << 20)
    assert w.call(1, "tools/list")["id"] == 1
    chunk = b"Z" * (1 << 20)
    for _ in range(64):
        w.send_raw(chunk)
    w.send_raw(b"\n")
    assert w.recv()["error"]["data"]["reason"] == "frame_too_large"
    status = open(f"/proc/{w.proc.pid}/status").read()
    peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    assert peak_kb < 64 * 1024, peak_kb  # ~24 MB measured: the interpreter plus one bounded line
    assert w.call(2, "tools/list")["id"] == 2


def test_big_frames_pass_whole(wrapper):
    w = wrapper()
    resp = w.call(1, "tools/call", _echo(8 << 20), timeout=30)
    assert len(resp["result"]["content"][0]["text"]) == 8 << 20


# --- in-flight tracking ---------------------------------------------------------------------------------------


def test_concurrent_ids_in_both_directions(wrapper):
    w = wrapper()
    # Client→server: int and string ids that look alike are different requests.
    w.request(1, "test/echo_params", {"k": "int"})
    w.request("1", "test/echo_params", {"k": "str"})
    # The server asks the client three questions while the client has a request of its own open.
    w.request("ask", "test/ask", {"method": "roots/list", "count": 3})
    got = {}
    server_requests = []
    while len(server_requests) < 3 or len(got) < 2:
        msg = w.recv()
        if "method" in msg:
            server_requests.append(msg)
        else:
            got[(type(msg["id"]), msg["id"])] = msg
    assert got[(int, 1)]["result"]["params"] == {"k": "int"}
    assert got[(str, "1")]["result"]["params"] == {"k": "str"}
    assert [m["id"] for m in server_requests] == ["s0", "s1", "s2"]
    # A client request whose id equals a server request's id lives in the other direction's table.
    w.request("s1", "test/echo_params", {"k": "client-s1"})
    assert w.recv()["result"]["params"] == {"k": "client-s1"}
    for m in reversed(server_requests):  # answered out of order
        w.send({"jsonrpc": "2.0", "id": m["id"], "result": {"roots": [{"uri": f"file:///{m['id']}"}]}})
    final = w.recv()
    assert final["id"] == "ask"
    assert [a["roots"][0]["uri"] for a in final["result"]["answers"]] == ["file:///s0", "file:///s1", "file:///s2"]


def test_duplicate_in_flight_id_is_refused_without_disturbing_the_first(wrapper):
    w = wrapper()
    w.request(7, "test/hang")
    w.request(7, "tools/list")
    err = w.recv()
    assert err["id"] is None and err["error"]["data"]["reason"] == "duplicate_id"


def test_cancelled_requests_free_their_slot(wrapper):
    w = wrapper()
    for i in range(3):
        w.request(i, "test/hang")
        w.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": i}})
    # Reusing a cancelled id is no longer a duplicate, and the child's death answers only what is still open.
    w.request(0, "tools/list")
    assert w.recv()["id"] == 0
    w.request(9, "test/exit", {"code": 0})
    err = w.recv()
    assert err["id"] == 9 and err["error"]["data"]["reason"] == "server_exited"
    assert w.recv() is None


def test_client_response_to_no_open_request_is_dropped(wrapper):
    w = wrapper()
    w.send({"jsonrpc": "2.0", "id": "nobody-asked", "result": {}})
    assert w.call(1, "tools/list")["id"] == 1
    w.close_stdin()
    w.wait()
    assert "client response to no open server request dropped" in w.stderr_text()


# --- child lifecycle ------------------------------------------------------------------------------------------


def test_child_crash_mid_request_answers_every_open_request_within_500ms(wrapper):
    w = wrapper()
    assert w.call(0, "tools/list")["id"] == 0  # the child is up
    w.request(1, "test/hang")
    w.request("two", "test/hang")
    t0 = time.monotonic()
    w.request(3, "test/exit", {"code": 3})
    errors = [w.recv(), w.recv(), w.recv()]
    elapsed = time.monotonic() - t0
    assert sorted(str(e["id"]) for e in errors) == ["1", "3", "two"]
    for e in errors:
        assert e["error"]["data"] == {"reason": "server_exited", "exit_status": 3}
    assert elapsed < 0.5, elapsed
    assert w.recv() is None
    assert w.wait() == 3


def test_child_closing_stdout_ends_the_session(wrapper):
    w = wrapper()
    w.request(1, "test/hang")
    w.request(2, "test/close_stdout")
    errors = sorted([w.recv(), w.recv()], key=lambda e: e["id"])
    assert [e["id"] for e in errors] == [1, 2]
    assert all(e["error"]["data"]["reason"] == "server_exited" for e in errors)
    assert w.wait() == 0  # stdin closed by the wrapper; the child then exits on its own


def test_sigkill_is_reported_as_137(wrapper):
    w = wrapper()
    w.request(1, "test/kill", {"signal": int(signal.SIGKILL)})
    err = w.recv()
    assert err["id"] == 1 and err["error"]["data"]["exit_status"] == 137
    assert w.wait() == 137


def test_shutdown_on_client_eof(wrapper):
    w = wrapper()
    pid = w.call(1, "test/grandchild")["result"]["pid"]
    w.close_stdin()
    assert w.wait() == 0
    assert wait_until(lambda: not pid_alive(pid)), "grandchild orphaned"


def test_eof_then_sigterm_then_sigkill_for_a_stubborn_child(wrapper):
    w = wrapper(["--exit-on-eof=no"], grace=0.2)
    assert w.call(1, "tools/list")["id"] == 1
    w.close_stdin()
    assert w.wait() == 128 + signal.SIGTERM
    w = wrapper(["--exit-on-eof=no", "--ignore-term"], grace=0.2)
    assert w.call(1, "tools/list")["id"] == 1
    w.close_stdin()
    assert w.wait() == 128 + signal.SIGKILL


def test_sigterm_stops_child_and_grandchildren(wrapper):
    w = wrapper(["--exit-on-eof=no"], grace=0.3)
    pid = w.call(1, "test/grandchild")["result"]["pid"]
    w.request(2, "test/hang")
    w.proc.send_signal(signal.SIGTERM)
    err = w.recv()
    assert err["id"] == 2 and err["error"]["data"]["reason"] == "server_exited"
    assert w.wait() == 128 + signal.SIGTERM
    assert wait_until(lambda: not pid_alive(pid)), "grandchild orphaned"


def test_second_signal_escalates_shutdown(wrapper):
    w = wrapper(["--exit-on-eof=no", "--ignore-term"], grace=30)
    assert w.call(1, "tools/list")["id"] == 1
    t0 = time.monotonic()
    w.proc.send_signal(signal.SIGTERM)  # closes the child's stdin; the child ignores it
    # Two signals of one kind may coalesce; a second, different one skips the 30 s wait: SIGTERM (ignored), then
    # SIGKILL after at most 1 s.
    w.proc.send_signal(signal.SIGINT)
    assert w.wait(10) == 137
    assert time.monotonic() - t0 < 5


def test_spawn_failure_exits_127_without_printing_argv(wrapper):
    w = wrapper(child=["/nonexistent/server", "--token=" + SECRET])
    assert w.wait() == 127
    err = w.stderr_text()
    assert "cannot start the server program" in err and SECRET not in err


def test_child_environment_is_scrubbed(wrapper):
    env = dict(os.environ, AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY", MY_TOOL_HOME="/opt/x",
               LC_ALL="C.UTF-8")
    w = wrapper(env=env, env_passthrough="MY_TOOL_HOME")
    child_env = w.call(1, "test/env")["result"]["env"]
    assert "AWS_SECRET_ACCESS_KEY" not in child_env
    assert child_env["MY_TOOL_HOME"] == "/opt/x"
    assert child_env["PATH"] == env["PATH"] and child_env["LC_ALL"] == "C.UTF-8"


def test_pass_env_reaches_the_child_through_the_real_console_script(tmp_path):
    from tests.conftest import MCPGUARD

    cfg = tmp_path / "m.toml"
    cfg.write_text(f'[keys]\ndir = "{tmp_path}/k"\n[audit]\npath = "{tmp_path}/a.jsonl"\n'
                   f'[tools]\npins_path = "{tmp_path}/p.json"\n')
    env = dict(os.environ, MY_SERVER_REGION="eu-west-1", OTHER_SETTING="unlisted")
    out = subprocess.run(MCPGUARD + ["wrap", "--config", str(cfg), "--pass-env", "MY_SERVER_REGION", "--", *ECHO],
                         input=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "test/env"}) + "\n", env=env,
                         capture_output=True, text=True, timeout=60)
    child_env = json.loads(out.stdout.splitlines()[0])["result"]["env"]
    assert child_env["MY_SERVER_REGION"] == "eu-west-1"  # (a token-named value would come back redacted)
    assert "OTHER_SETTING" not in child_env


def test_typer_wrap_command_hands_pass_env_to_main(monkeypatch):
    from typer.testing import CliRunner

    import mcpguard.wrap
    from mcpguard.cli import app

    seen = {}

    def fake_main(argv, **kw):
        seen.update(kw, argv=argv)
        return 0

    monkeypatch.setattr(mcpguard.wrap, "main", fake_main)
    r = CliRunner().invoke(app, ["wrap", "--pass-env", "A", "--pass-env", "B", "--", "srv", "--pass-env", "C"])
    assert r.exit_code == 0, r.output
    assert seen["pass_env"] == ["A", "B"] and seen["argv"] == ["srv", "--pass-env", "C"]


# --- the pipeline's verdicts (real Pipeline, fake engine) -----------------------------------------------------


def test_stderr_is_filtered_line_by_line(wrapper, tmp_path):
    w = wrapper(protector="fake", tmp=str(tmp_path))
    line = f"boto: using key {SECRET} for alice@example.com\x1b[31m"
    assert w.call(1, "test/stderr", {"hex": line.encode().hex()})["id"] == 1
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"
    assert w.call(2, "test/stderr", {"hex": pem.encode().hex()})["id"] == 2
    w.close_stdin()
    assert w.wait() == 0
    err = w.stderr_text()
    assert SECRET not in err and "alice@example.com" not in err
    assert "[REDACTED:aws_access_key_id]" in err
    assert "\x1b" not in err
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in err and "BKcwggSjAgEAAoIBAQC7" not in err
    assert "[BLOCKED:private_key]" in err


def test_stderr_drop_and_inherit(wrapper, tmp_path):
    w = wrapper(["--stderr-banner", "hello-from-child"], protector="fake", tmp=str(tmp_path), stderr="drop")
    assert w.call(1, "tools/list")["id"] == 1
    w.close_stdin()
    w.wait()
    assert "hello-from-child" not in w.stderr_text()
    w = wrapper(["--stderr-banner", "hello-from-child"], protector="fake", tmp=str(tmp_path), stderr="inherit")
    assert w.call(1, "tools/list")["id"] == 1
    w.close_stdin()
    w.wait()
    assert "hello-from-child" in w.stderr_text()


def test_blocked_request_is_answered_under_its_id_without_the_value(wrapper, tmp_path):
    w = wrapper(protector="fake", tmp=str(tmp_path))
    resp = w.call(9, "tools/call", {"name": "echo", "arguments": {"text": f"use {SECRET}"}})
    assert resp["id"] == 9
    assert "aws_access_key_id" in str(resp["error"]) and SECRET not in str(resp)


def test_results_are_protected(wrapper, tmp_path):
    w = wrapper(protector="fake", tmp=str(tmp_path))
    # Client→server PII is allowed by default, so the server echoes the email back; the result is tokenized.
    resp = w.call(3, "tools/call", {"name": "echo", "arguments": {"text": "mail bob@example.com"}})
    assert resp["id"] == 3
    text = resp["result"]["content"][0]["text"]
    assert "bob@example.com" not in text and text.startswith("mail ")


def test_audit_unavailable_fails_closed_in_both_directions(wrapper):
    w = wrapper(protector="auditfail")
    # A request that cannot be audited is answered with an error and never reaches the server.
    err = w.call(1, "tools/call", {"name": "echo", "arguments": {"text": "x"}})
    assert err["id"] == 1 and err["error"]["data"]["reason"] == "audit_unavailable"
    # A result that cannot be audited is dropped; the client's request is answered with an error.
    err = w.call(2, "test/echo_params", {"k": "v"})
    assert err["id"] == 2 and err["error"]["data"]["reason"] == "audit_unavailable"
    assert "result" not in err
    # A stderr line that cannot be audited is withheld.
    assert w.call(3, "test/stderr", {"text": "stderr-line-marker"})["id"] == 3
    w.close_stdin()
    assert w.wait() == 0
    assert "stderr-line-marker" not in w.stderr_text()
    assert "a server stderr line was withheld (audit_unavailable)" in w.stderr_text()


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip("process-group tests are Linux-specific")


def test_files_and_dev_null_as_client_streams(tmp_path):
    # Regular files and /dev/null cannot be polled by an event loop (libuv aborts on them): blocking fallback.
    import subprocess

    from tests.mcpguard.wrap.harness import LAUNCH

    argv = LAUNCH + ["--", *ECHO]
    assert subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=30).returncode == 0
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"jsonrpc":"2.0","id":1,"method":"tools/list"}\n{"jsonrpc":"2.0","id":2,"method":"tools/list"}\n')
    with src.open("rb") as fin, dst.open("wb") as fout:
        assert subprocess.run(argv, stdin=fin, stdout=fout, timeout=30).returncode == 0
    assert [line[:25] for line in dst.read_text().splitlines()] == ['{"jsonrpc":"2.0","id":1,"', '{"jsonrpc":"2.0","id":2,"']
