"""A recording shim for stdio MCP traffic: ``python -m tests.e2e.children.tee LOG -- <command> <args>``.

Runs the command with piped stdin/stdout, copies bytes through unchanged in both directions and appends every line to
``LOG`` as JSON ``{"dir": "in" | "out", "line": ...}`` ("in" = what the command received on stdin, "out" = what it
wrote). Placed in front of ``mcpguard wrap`` it records the client's transcript; placed behind it (as the wrapped
command), it records what the real server received.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading


def main() -> int:
    args = sys.argv[1:]
    if len(args) < 3 or args[1] != "--":
        print("usage: tee.py LOG -- command [args]", file=sys.stderr)
        return 2
    log_path, argv = args[0], args[2:]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    lock = threading.Lock()
    log = open(log_path, "a", encoding="utf-8")

    def record(direction: str, line: bytes) -> None:
        with lock:
            log.write(json.dumps({"dir": direction, "line": line.decode("utf-8", "replace")}) + "\n")
            log.flush()

    def pump_in() -> None:
        assert proc.stdin is not None
        for line in sys.stdin.buffer:
            record("in", line)
            proc.stdin.write(line)
            proc.stdin.flush()
        proc.stdin.close()

    threading.Thread(target=pump_in, daemon=True).start()
    assert proc.stdout is not None
    for line in proc.stdout:
        record("out", line)
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
