"""E2E: the real `mcpguard wrap` console script in front of a small stdlib server that splits secrets across two
logging notifications, two progress notifications and two stderr lines (a JWT wrapped at 64 columns). Neither the
client nor the wrapper's stderr ever sees a value or either half of it; the audit log records each finding (type,
path) without the value."""

from __future__ import annotations

import json
import os
import sys

import pytest

from mcpguard.wrap.session import Wrapper
from tests.conftest import MCPGUARD
from tests.mcpguard.detect.secrets.test_jwt import JWT
from tests.mcpguard.detect.secrets.test_vcs import GHP
from tests.mcpguard.wrap.harness import HERE, Driven, audit_verify, write_config

pytestmark = [
    pytest.mark.e2e,
    # The session's release timer drives the held notifications and stderr lines (see docs/wrap.md, "Values split
    # across chunks"); without it the wrapper scans frame by frame and this test does not apply yet.
    pytest.mark.skipif(not hasattr(Wrapper, "_release_timer"), reason="the session's stream release timer is not "
                       "wired in mcpguard/wrap/session.py yet"),
]

AWS = "AKIAQYLPMN5HHHFPZAM2"
SPLIT = [sys.executable, str(HERE / "children" / "split_server.py")]


def halves(value: str) -> list[str]:
    mid = len(value) // 2
    return [value, value[:mid], value[mid:]]


def test_values_split_across_notifications_and_stderr_lines(tmp_path):
    cfg = write_config(tmp_path)
    env = {**os.environ, "HOME": str(tmp_path)}
    d = Driven(MCPGUARD + ["wrap", "--config", str(cfg), "--name", "split", "--"] + SPLIT, env=env)
    try:
        init = d.call(1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                        "clientInfo": {"name": "t", "version": "1"}})
        assert init["result"]["serverInfo"]["name"] == "split"
        args = {"log": f"connecting with key {AWS} to prod", "progress": f"cloning with {GHP} now",
                "stderr": "auth " + JWT + " ok"}
        d.request(2, "tools/call", {"name": "split", "_meta": {"progressToken": "tok-2"},
                                    "arguments": {k: v[::-1].encode().hex() for k, v in args.items()}})
        frames = []
        while len(frames) < 5:  # two logs, two progress, the result (the logs may follow the result)
            msg = d.recv(timeout=10)
            assert msg is not None
            frames.append(msg)
        d.close_stdin()
        assert d.wait() == 0
    finally:
        d.kill()

    client = b"".join(d.raw_stdout).decode()
    stderr = d.stderr_text()
    for value in (AWS, GHP, JWT):
        for part in halves(value):
            assert part not in client and part not in stderr

    logs = [f["params"]["data"] for f in frames if f.get("method") == "notifications/message"]
    assert logs == ["connecting with key [REDACTED:aws_access_key_id]", "[REDACTED:aws_access_key_id] to prod"]
    prog = [f["params"] for f in frames if f.get("method") == "notifications/progress"]
    assert [p["progress"] for p in prog] == [1, 2]
    assert [p["message"] for p in prog] == ["cloning with [REDACTED:github_token]", "[REDACTED:github_token] now"]
    result = [f for f in frames if f.get("id") == 2]
    assert result[0]["result"]["content"][0]["text"] == "done"
    assert frames.index(result[0]) > max(i for i, f in enumerate(frames) if f.get("method") ==
                                         "notifications/progress")  # progress never follows its result
    assert "auth [REDACTED:jwt]" in stderr

    raw = (tmp_path / "audit.jsonl").read_text()
    for value in (AWS, GHP, JWT):
        for part in halves(value):
            assert part not in raw
    records = [json.loads(line) for line in raw.splitlines()]
    seen = {(r["method"], f["type"], f["path"]) for r in records for f in r.get("findings", [])}
    assert {("notifications/message", "aws_access_key_id", "/params/data"),
            ("notifications/progress", "github_token", "/params/message"),
            ("stderr", "jwt", "")} <= seen
    parts = [f for r in records for f in r.get("findings", []) if f["type"] == "aws_access_key_id"]
    assert len(parts) == 2 and parts[0]["fp"] == parts[1]["fp"]  # both halves, one value
    assert audit_verify(tmp_path / "audit.jsonl").returncode == 0
