"""A stdio MCP server (standard library only) that splits secrets across chunks of one stream, for the wrapper's
cross-chunk tests.

It answers ``initialize`` and ``tools/call``. A call to ``split`` with ``{"log": h, "stderr": h, "progress": h}``
(each optional; ``h`` is the UTF-8 text reversed, then in hex, so the request itself carries no secret past the wrapper, not even to its decode layer) sends the ``log`` text as two ``notifications/message`` of logger ``app`` (cut in the middle),
the ``progress`` text as two ``notifications/progress`` under the request's ``_meta.progressToken``, prints the
``stderr`` text to stderr wrapped at 64 columns, then answers ``"done"``. Any other method gets a
``-32601`` error. It exits at end of stdin.
"""

from __future__ import annotations

import json
import sys

out = sys.stdout.buffer


def send(msg: dict) -> None:
    out.write(json.dumps(msg, separators=(",", ":")).encode() + b"\n")
    out.flush()


def halves(text: str) -> tuple[str, str]:
    mid = len(text) // 2
    return text[:mid], text[mid:]


def split(rid, params: dict) -> None:
    args = {k: bytes.fromhex(v).decode()[::-1] for k, v in (params.get("arguments") or {}).items()}
    token = (params.get("_meta") or {}).get("progressToken")
    if args.get("log"):
        for part in halves(args["log"]):
            send({"jsonrpc": "2.0", "method": "notifications/message",
                  "params": {"level": "info", "logger": "app", "data": part}})
    if args.get("progress") and token is not None:
        for n, part in enumerate(halves(args["progress"]), 1):
            send({"jsonrpc": "2.0", "method": "notifications/progress",
                  "params": {"progressToken": token, "progress": n, "total": 2, "message": part}})
    if args.get("stderr"):
        text = args["stderr"]
        sys.stderr.write("".join(text[i : i + 64] + "\n" for i in range(0, len(text), 64)))
        sys.stderr.flush()
    send({"jsonrpc": "2.0", "id": rid, "result": {"content": [{"type": "text", "text": "done"}], "isError": False}})


for raw in sys.stdin.buffer:
    msg = json.loads(raw)
    method, rid = msg.get("method"), msg.get("id")
    if rid is None:
        continue
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": rid, "result": {
            "protocolVersion": "2025-11-25", "capabilities": {"tools": {}, "logging": {}},
            "serverInfo": {"name": "split", "version": "1"}}})
    elif method == "tools/call" and (msg.get("params") or {}).get("name") == "split":
        split(rid, msg["params"])
    else:
        send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "method not found"}})
