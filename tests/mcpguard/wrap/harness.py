"""A raw-pipe driver for the wrapper under test: write bytes or frames to its stdin, read frames from its stdout
with bounded waits (a reader thread feeds a queue, so no test sleeps)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LAUNCH = [sys.executable, str(HERE / "launch.py")]
ECHO = [sys.executable, str(HERE / "children" / "echo_server.py")]


class Driven:
    """A running wrapper process. ``recv()`` returns the next stdout frame (parsed), ``stderr_text()`` what it
    wrote to stderr once it has exited."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, start_new_session=True)
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.raw_stdout: list[bytes] = []
        self._err: list[bytes] = []
        self._t_out = threading.Thread(target=self._pump_out, daemon=True)
        self._t_err = threading.Thread(target=self._pump_err, daemon=True)
        self._t_out.start()
        self._t_err.start()

    def _pump_out(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.raw_stdout.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _pump_err(self) -> None:
        while True:
            chunk = self.proc.stderr.read1(65536)  # type: ignore[union-attr]
            if not chunk:
                return
            self._err.append(chunk)

    def send_raw(self, data: bytes) -> None:
        self.proc.stdin.write(data)  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]

    def send(self, msg: dict[str, Any]) -> None:
        self.send_raw(json.dumps(msg).encode() + b"\n")

    def request(self, rid: Any, method: str, params: dict | None = None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def recv(self, timeout: float = 10.0) -> dict[str, Any] | None:
        """The next frame, or None at end of stream. Fails the test after ``timeout`` seconds."""
        line = self.lines.get(timeout=timeout)
        if line is None:
            self.lines.put(None)
            return None
        assert line.endswith(b"\n"), line[:100]
        return json.loads(line)

    def call(self, rid: Any, method: str, params: dict | None = None, timeout: float = 10.0) -> dict[str, Any]:
        self.request(rid, method, params)
        msg = self.recv(timeout)
        assert msg is not None
        return msg

    def close_stdin(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]

    def wait(self, timeout: float = 15.0) -> int:
        code = self.proc.wait(timeout)
        self._t_err.join(5)
        self._t_out.join(5)
        return code

    def stderr_text(self) -> str:
        return b"".join(self._err).decode("utf-8", "replace")

    def kill(self) -> None:
        """Stop the wrapper if a test left it running: SIGTERM first (so it stops its child's process group, which
        lives in another session), SIGKILL after 3 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.send_signal(signal.SIGINT)  # a second signal: skip the grace waits
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)


def launch(child_args: list[str] | None = None, *, child: list[str] | None = None, env: dict[str, str] | None = None,
           **opts: Any) -> Driven:
    """Start launch.py (pass-through protector unless ``protector="fake"``) around the echo server."""
    argv = list(LAUNCH)
    for key, value in opts.items():
        for v in value if isinstance(value, list) else [value]:
            argv += ["--" + key.replace("_", "-"), str(v)]
    argv += ["--"] + (child if child is not None else ECHO) + list(child_args or [])
    return Driven(argv, env=env)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); read its state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until true or ``timeout`` (for process state, which has no event to wait on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# --- helpers for the e2e tests (real servers, real SDK client, real `mcpguard wrap`) ---------------------------


def write_config(tmp: Path, extra: str = "") -> Path:
    """A mcpguard.toml keeping keys, audit log and pins inside ``tmp``; returns its path."""
    cfg = tmp / "mcpguard.toml"
    cfg.write_text(
        f'[keys]\ndir = "{tmp / "keys"}"\n[tokens]\nstore = "memory"\n[audit]\npath = "{tmp / "audit.jsonl"}"\n'
        f'[tools]\npins_path = "{tmp / "pins.json"}"\n' + extra
    )
    return cfg


def wrap_params(config: Path, server: list[str], *, env: dict[str, str] | None = None, name: str | None = None):
    """``StdioServerParameters`` running ``mcpguard wrap --config CONFIG -- SERVER…``."""
    from mcp import StdioServerParameters

    mcpguard = str(Path(sys.executable).parent / "mcpguard")
    args = ["wrap", "--config", str(config)] + (["--name", name] if name else []) + ["--"] + list(server)
    return StdioServerParameters(command=mcpguard, args=args, env=env)


def audit_verify(path: Path) -> subprocess.CompletedProcess:
    """Run ``mcpguard audit verify PATH``."""
    mcpguard = str(Path(sys.executable).parent / "mcpguard")
    return subprocess.run([mcpguard, "audit", "verify", str(path)], capture_output=True, text=True, timeout=60)


def texts(result) -> str:
    """All text (and resource text/blob) of a CallToolResult, joined."""
    out = []
    for c in result.content:
        for attr in ("text", "data"):
            v = getattr(c, attr, None)
            if isinstance(v, str):
                out.append(v)
        res = getattr(c, "resource", None)
        if res is not None:
            out.append(getattr(res, "text", None) or getattr(res, "blob", "") or "")
    if getattr(result, "structured_content", None):
        out.append(json.dumps(result.structured_content))
    return "\n".join(out)
