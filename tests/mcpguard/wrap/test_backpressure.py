"""The wrapper (launch.py, real pipeline with the fake engine) in front of a server that writes megabytes of
notifications at once, driven by a client that stops reading for a second — what a busy MCP client does. The
wrapper must neither hang (every writer waiting for the client is woken when it catches up) nor let the first part of
a split value go while the rest, already written by the server, waits behind the backlog."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.mcpguard.wrap.harness import HERE, LAUNCH, Driven

FLOOD = [sys.executable, str(HERE / "children" / "flood_server.py")]
AWS = "AKIAQYLPMN5HHHFPZAM2"  # the fake engine's AWS access key id rule
INIT = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}


class SlowClient(Driven):
    """A client that reads the wrapper's stdout only after :meth:`resume` (until then the pipe and the wrapper's
    write buffer fill up, and the wrapper's writers wait)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        super().__init__(LAUNCH + ["--protector", "fake", "--tmp", str(tmp), "--"] + FLOOD)

    def _pump_out(self) -> None:
        self._resumed.wait()
        super()._pump_out()

    def start(self) -> None:
        """Read the ``initialize`` answer directly, then stop reading."""
        self.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT})

    def resume(self) -> None:
        self._resumed.set()

    def all_frames(self, rid: int, timeout: float) -> list[dict]:
        """Every frame the wrapper writes until it exits: the client closes its stdin once the response ``rid``
        is in (a held notification may follow the response). Fails after ``timeout`` seconds (a hung wrapper)."""
        deadline = time.monotonic() + timeout
        frames: list[dict] = []
        while True:
            try:
                msg = self.recv(max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"the wrapper stalled: {len(frames)} frames, then nothing for {timeout} s")
            if msg is None:
                return frames
            frames.append(msg)
            if msg.get("id") == rid:
                self.close_stdin()


@pytest.fixture
def slow_client(tmp_path):
    SlowClient._resumed = threading.Event()  # type: ignore[attr-defined]
    clients: list[SlowClient] = []

    def start() -> SlowClient:
        c = SlowClient(tmp_path)
        clients.append(c)
        return c

    yield start
    for c in clients:
        c.resume()
        c.kill()


def test_a_client_that_stops_reading_does_not_hang_the_wrapper(slow_client):
    c = slow_client()
    c.start()
    c.request(2, "tools/call", {"name": "logs", "arguments": {"n": 50}})  # ~5 MB of held-then-released logs
    time.sleep(1.0)  # the client is busy; the timer and the child pump both end up waiting for it
    c.resume()
    frames = c.all_frames(2, timeout=10)
    assert c.wait() == 0
    assert frames[0]["id"] == 1
    assert sum(f.get("method") == "notifications/message" for f in frames) == 50
    assert [f["result"]["content"][0]["text"] for f in frames if f.get("id") == 2] == ["done"]


def test_a_split_value_behind_a_backlog_is_protected_in_both_parts(slow_client):
    c = slow_client()
    c.start()
    c.request(2, "tools/call", {"name": "split", "arguments": {"n": 100, "head": "key " + AWS[:8],
                                                                  "rest": AWS[8:] + " done"}})
    time.sleep(1.0)  # part two is written already, but ~10 MB wait for the client ahead of it
    c.resume()
    frames = c.all_frames(2, timeout=10)
    assert c.wait() == 0
    logs = [f["params"]["data"] for f in frames if f.get("method") == "notifications/message"]
    assert logs == ["key [REDACTED:aws_access_key_id]", "[REDACTED:aws_access_key_id] done"]
    assert AWS[:8].encode() not in b"".join(c.raw_stdout)
    assert sum(f.get("method") == "notifications/resources/updated" for f in frames) == 100
    assert [f["result"]["content"][0]["text"] for f in frames if f.get("id") == 2] == ["done"]
