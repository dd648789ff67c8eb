"""A stdio MCP server (standard library only) that writes a burst of large notifications, for the wrapper's
backpressure tests (a client that stops reading for a moment).

It answers ``initialize`` and ``tools/call``. ``{"name": "logs", "arguments": {"n": N}}`` sends ``N`` logging
notifications of about 100 KB each (logger ``app``, each ending in a space, so each is held only until the
next),
then the result. ``{"name": "split", "arguments": {"n": N, "head": h, "rest": r}}`` sends, in ONE write, a logging
notification with text ``h``, ``N`` unrelated notifications of about 100 KB, and a logging notification with text
``r`` (a value cut in two with no pause by the server), then the result ``"done"``. It exits at end of stdin.
"""

from __future__ import annotations

import json
import sys

out = sys.stdout.buffer
#: About 100 KB of words (runs of letters stay short: the test engine's patterns backtrack over long runs).
BIG = "lorem ipsum dolor sit amet " * 3700


def enc(msg: dict) -> bytes:
    return json.dumps(msg, separators=(",", ":")).encode() + b"\n"


def log(text: str) -> bytes:
    return enc({"jsonrpc": "2.0", "method": "notifications/message",
                "params": {"level": "info", "logger": "app", "data": text}})


def answer(rid, text: str = "done") -> bytes:
    return enc({"jsonrpc": "2.0", "id": rid, "result": {"content": [{"type": "text", "text": text}]}})


def call(rid, params: dict) -> None:
    args = params.get("arguments") or {}
    n = int(args.get("n", 10))
    if params.get("name") == "logs":
        for _ in range(n):
            out.write(log(BIG))
    else:
        flood = b"".join(enc({"jsonrpc": "2.0", "method": "notifications/resources/updated",
                              "params": {"uri": "file:///x", "note": BIG}}) for _ in range(n))
        out.write(log(args["head"]) + flood + log(args["rest"]))
    out.write(answer(rid))
    out.flush()


for raw in sys.stdin.buffer:
    msg = json.loads(raw)
    method, rid = msg.get("method"), msg.get("id")
    if rid is None:
        continue
    if method == "initialize":
        out.write(enc({"jsonrpc": "2.0", "id": rid, "result": {
            "protocolVersion": "2025-11-25", "capabilities": {"tools": {}, "logging": {}},
            "serverInfo": {"name": "flood", "version": "1"}}}))
        out.flush()
    elif method == "tools/call":
        call(rid, msg.get("params") or {})
    else:
        out.write(enc({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "method not found"}}))
        out.flush()
