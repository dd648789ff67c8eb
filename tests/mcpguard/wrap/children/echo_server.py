"""A small purpose-written stdio JSON-RPC server for wrapper tests and bench/wrap.py (standard library only, starts in
~20 ms).

It answers ``initialize``, ``tools/list`` and ``tools/call`` for one tool, ``echo`` (``{"n": bytes}`` returns a text
of ``n`` bytes, ``"fill": "log"`` makes it git-log-like prose; ``{"text": s}`` returns ``s``; ``{"hex": h}`` returns
the UTF-8 text ``h`` encodes), plus test methods that misbehave on purpose:

- ``test/exit`` ``{"code": c}`` exits with status ``c`` without answering; ``test/kill`` ``{"signal": s}`` kills
  itself with signal ``s``.
- ``test/noise`` ``{"text": s}`` (or ``hex``) prints ``s`` as a raw (non-JSON) stdout line, then answers.
- ``test/stderr`` ``{"text": s}`` (or ``hex``) prints ``s`` to stderr, then answers.
- ``test/hang`` never answers; ``test/close_stdout`` closes stdout and keeps running. ``test/raw`` ``{"line": s}``
  writes ``s`` + ``\\n`` to stdout verbatim and answers nothing.
- ``test/ask`` ``{"method": m, "count": k}`` sends ``k`` server→client requests ``m`` (ids ``s1``…), waits for all
  answers, then answers with the list of results.
- ``test/grandchild`` spawns a sleeping grandchild in its process group and answers with its pid.
- ``test/env`` answers with the environment.
- ``test/echo_params`` answers with the params it received.

``--ignore-term`` ignores SIGTERM; ``--exit-on-eof=no`` keeps running after stdin closes (until signalled);
``--banner TEXT`` prints TEXT as a non-JSON stdout line at start; ``--stderr-banner TEXT`` prints it to stderr.
Requests run sequentially except that ``test/ask`` answers arrive while it waits.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

out = sys.stdout.buffer


def send(msg: dict) -> None:
    out.write(json.dumps(msg, separators=(",", ":")).encode() + b"\n")
    out.flush()


def result(rid, res) -> None:
    send({"jsonrpc": "2.0", "id": rid, "result": res})


def text_result(text: str) -> dict:
    return {"content": [{"type": "text", "text": text}], "isError": False}


stdin = sys.stdin.buffer
waiting: dict = {}


LOG_LINE = ("commit 9fceb02d0ae598e95dc970b74767f19372d61af8\nDate:   Tue Nov 3 14:22:09 2026 +0900\n\n"
            "    Fix retry budget in the upload worker; see ticket 4821 and the runbook section 3.2\n\n")


def _fill(n: int, kind: str) -> str:
    # ``log``: realistic git-log-like text without sensitive values (what a scanner must read but not change).
    if kind == "log":
        return (LOG_LINE * (n // len(LOG_LINE) + 1))[:n]
    return "x" * n


def _text(params: dict) -> str:
    # ``hex`` lets a test make the child produce a secret the request itself never carried (it would be blocked).
    return bytes.fromhex(params["hex"]).decode() if "hex" in params else params["text"]


def handle(msg: dict) -> None:
    """Answer one message (a response to one of our own requests is stored in ``waiting``)."""
    if "method" not in msg:
        waiting[msg["id"]] = msg.get("result", msg.get("error"))
        return
    method = msg["method"]
    rid = msg.get("id")
    params = msg.get("params") or {}
    if rid is None:
        return  # notifications
    if method == "initialize":
        result(rid, {"protocolVersion": params.get("protocolVersion", "2025-11-25"),
                     "capabilities": {"tools": {}}, "serverInfo": {"name": "echo", "version": "1"}})
    elif method == "tools/list":
        result(rid, {"tools": [{"name": "echo", "description": "Echo n bytes.",
                                "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}}}]})
    elif method == "tools/call":
        a = params.get("arguments") or {}
        if "text" in a or "hex" in a:
            result(rid, text_result(_text(a)))
        else:
            result(rid, text_result(_fill(int(a.get("n", 0)), a.get("fill", "x"))))
    elif method == "test/exit":
        os._exit(int(params.get("code", 3)))
    elif method == "test/kill":
        os.kill(os.getpid(), int(params.get("signal", signal.SIGKILL)))
    elif method == "test/noise":
        out.write(_text(params).encode() + b"\n")
        out.flush()
        result(rid, {"ok": True})
    elif method == "test/stderr":
        sys.stderr.write(_text(params) + "\n")
        sys.stderr.flush()
        result(rid, {"ok": True})
    elif method == "test/hang":
        pass
    elif method == "test/close_stdout":
        os.close(1)
    elif method == "test/raw":
        out.write(params["line"].encode() + b"\n")
        out.flush()
    elif method == "test/ask":
        k = int(params.get("count", 1))
        ids = [f"s{i}" for i in range(k)]
        for i in ids:
            send({"jsonrpc": "2.0", "id": i, "method": params.get("method", "roots/list"), "params": {}})
        while not all(i in waiting for i in ids):
            reply = stdin.readline()
            if not reply:
                os._exit(0)
            handle(json.loads(reply))  # requests that arrive meanwhile are answered at once
        result(rid, {"answers": [waiting.pop(i) for i in ids]})
    elif method == "test/grandchild":
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        result(rid, {"pid": p.pid})
    elif method == "test/env":
        result(rid, {"env": dict(os.environ)})
    elif method == "test/echo_params":
        result(rid, {"params": params})
    else:
        send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found"}})


def main() -> None:
    args = sys.argv[1:]
    exit_on_eof = "--exit-on-eof=no" not in args
    if "--ignore-term" in args:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if "--banner" in args:
        out.write(args[args.index("--banner") + 1].encode() + b"\n")
        out.flush()
    if "--stderr-banner" in args:
        sys.stderr.write(args[args.index("--stderr-banner") + 1] + "\n")
        sys.stderr.flush()
    while True:
        line = stdin.readline()
        if not line:
            break
        handle(json.loads(line))
    if not exit_on_eof:
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
