"""Pipeline core overheads: protect() per frame (without detection cost, and with the real engine), token restore,
audit append and audit verify.

Run: .venv/bin/python bench/pipeline_bench.py [--fake-engine]
Prints one line per measurement (median of N runs, after a warm-up). Results go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcpguard.audit.store import AuditLog  # noqa: E402
from mcpguard.audit.verify import verify_file  # noqa: E402
from mcpguard.config import Config  # noqa: E402
from mcpguard.crypto import MemoryKeyProvider  # noqa: E402
from mcpguard.runtime import NO_AUDIT, build_pipeline  # noqa: E402
from mcpguard.types import Context, Direction  # noqa: E402


class NullEngine:
    """No findings: isolates the pipeline's own cost (leaf walk, policy, rebuild)."""

    def scan_leaves(self, leaves):
        return []

    def scan_text(self, text, path=""):
        return []


def timeit(fn, n):
    fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return Timing(statistics.median(times), min(times))


class Timing:
    """Median and best of the runs, printed in milliseconds (best is the less load-sensitive number)."""

    def __init__(self, median: float, best: float) -> None:
        self.median, self.best = median, best

    def __mul__(self, k: float) -> "Timing":
        return Timing(self.median * k, self.best * k)

    def __format__(self, spec: str) -> str:
        return f"median {format(self.median, spec)} / best {format(self.best, spec)}"


def rows_result(n_rows: int) -> dict:
    rows = [{"id": i, "name": f"user {i}", "email": f"user{i}@corp.io", "note": "x" * 40} for i in range(n_rows)]
    return {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": json.dumps(rows)}],
                                                  "structuredContent": {"rows": rows}}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fake-engine", action="store_true", help="use tests/mcpguard/fakes.py instead of the real one")
    args = ap.parse_args()
    if args.fake_engine:
        from tests.mcpguard.fakes import FakeEngine

        engine, label = FakeEngine(), "fake engine"
    else:
        from mcpguard.detect.engine import build_engine

        engine, label = build_engine(Config().detection), "real engine"
    keys = MemoryKeyProvider()
    s2c = Context(Direction.SERVER_TO_CLIENT, method="tools/call", server="db")
    c2s = Context(Direction.CLIENT_TO_SERVER, server="db")

    small = rows_result(4)  # ~1 KiB, 8 emails
    big_text = {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": ("lorem ipsum " * 87381)[:1 << 20]}]}}
    big_rows = rows_result(4000)  # ~1 MiB, 8000 emails
    print(f"sizes: small {len(json.dumps(small))} B, big_text {len(json.dumps(big_text))} B, "
          f"big_rows {len(json.dumps(big_rows))} B")

    null = build_pipeline(Config(), engine=NullEngine(), keys=keys, audit=NO_AUDIT)
    for name, msg, n in (("small", small, 500), ("big_text", big_text, 20), ("big_rows", big_rows, 10)):
        print(f"pipeline only (no findings) {name}: {timeit(lambda: null.protect(msg, s2c), n) * 1e3:.3f} ms")

    from mcpguard.jsonrpc.leaves import collect_message

    for name, msg, n in (("small", small, 200), ("big_text", big_text, 10), ("big_rows", big_rows, 5)):
        leaves = collect_message(msg)
        print(f"{label} alone (scan_leaves) {name}: {timeit(lambda: engine.scan_leaves(leaves), n) * 1e3:.3f} ms")

    with tempfile.TemporaryDirectory() as d:
        real = build_pipeline(Config(), engine=engine, keys=keys, audit=AuditLog(Path(d) / "a.jsonl"))
        for name, msg, n in (("small", small, 200), ("big_text", big_text, 10), ("big_rows", big_rows, 5)):
            print(f"{label} + tokenize + audit {name}: {timeit(lambda: real.protect(msg, s2c), n) * 1e3:.3f} ms")
        out = real.protect(small, s2c).message
        tokens = [r["email"] for r in out["result"]["structuredContent"]["rows"]]
        req = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
               "params": {"name": "q", "arguments": {"sql": " OR ".join(f"email = '{t}'" for t in tokens)}}}
        print(f"{label} restore {len(tokens)} tokens in a request: {timeit(lambda: real.protect(req, c2s), 200) * 1e3:.3f} ms")

        from mcpguard.tokens import MemoryTokenStore, SqliteTokenStore, Tokenizer

        for store_name, store in (("memory", MemoryTokenStore()), ("sqlite", SqliteTokenStore(Path(d) / "t.db"))):
            tk = Tokenizer(store, keys)
            n = 500
            t = time.perf_counter()
            for i in range(n):
                tk.issue(f"user{i}@corp.io", "email", user="u", server="s")
            new = (time.perf_counter() - t) / n
            t = time.perf_counter()
            for i in range(n):
                tk.issue(f"user{i}@corp.io", "email", user="u", server="s")
            again = (time.perf_counter() - t) / n
            print(f"token issue ({store_name} store): new value {new * 1e6:.0f} us, seen value {again * 1e6:.0f} us")

        log = AuditLog(Path(d) / "b.jsonl")
        fields = {"direction": "server_to_client", "counts": {"email": 2}, "rules": ["r"],
                  "findings": [{"type": "email", "path": "/result/x", "fp": "0" * 16}] * 2}
        n = 5000
        t = time.perf_counter()
        for _ in range(n):
            log.append("frame", fields)
        el = time.perf_counter() - t
        print(f"audit append: {el / n * 1e6:.1f} us/record ({n / el:.0f} records/s)")
        t = time.perf_counter()
        res = verify_file(Path(d) / "b.jsonl")
        el = time.perf_counter() - t
        print(f"audit verify: {res.records / el:.0f} records/s (ok={res.ok})")


if __name__ == "__main__":
    main()
