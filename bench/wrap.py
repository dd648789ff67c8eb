"""Wrapper overhead: ``mcpguard wrap`` versus a direct connection to the same stdio server.

Method
------
The server is ``tests/mcpguard/wrap/children/echo_server.py`` (standard library only): ``tools/call echo`` returns a
text result of N bytes of git-log-like prose (hashes, dates, words; nothing the detector must change, so the numbers
measure reading, not rewriting). The client is this script, speaking raw newline-delimited JSON-RPC over the pipes
with blocking I/O, so the client's own cost is small and identical in both arms.

- *Start-up*: time from ``Popen`` to the ``initialize`` response, median of ``--starts`` runs per arm; overhead is
  wrapped minus direct. Measured with the echo child (boots in tens of ms, so the wrapper's own start-up is exposed)
  and with the real ``mcp-server-git`` (boots in ~1 s; the wrapper prepares its pipeline while the child boots).
  The wrapped arm runs the real console script (``mcpguard wrap --config <tmp> -- …``) with the real pipeline
  (detection engine, tool guard, keys, audit log in a temp dir).
- *Round trip*: sequential ``tools/call`` requests after a warm-up; p50/p99 per arm per size (1 KiB, 64 KiB, 1 MiB,
  8 MiB); overhead = wrapped p50 − direct p50. *Wrapper CPU / call* is the wrapper process's user+system CPU time
  over the timed calls (``/proc``, 10 ms ticks) divided by the number of calls: it includes the wrapper's own
  pipe I/O and is far less sensitive to the load of a shared machine than the wall times. For 8 MiB also the
  wrapper's processing rate, size / overhead (MB/s, 10^6 bytes), which is what the "≥ 100 MB/s" target is compared
  with, and the end-to-end rate of each arm.
- ``--protector pass`` swaps the real pipeline for a pass-through (tests/mcpguard/wrap/launch.py) to separate the
  wrapper's framing/IO cost from detection.

``--framing`` instead times the strict parse alone: ``orjson.loads`` versus ``framing.decode`` (orjson, depth walk,
duplicate-key balance) versus the naive safe parse (``json.loads`` with an ``object_pairs_hook``).

Run: ``.venv/bin/python bench/wrap.py [--quick] [--protector real|pass] [--no-git] [--framing] [--startup-only]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ECHO = [sys.executable, str(ROOT / "tests" / "mcpguard" / "wrap" / "children" / "echo_server.py")]
MCPGUARD = str(Path(sys.executable).parent / "mcpguard")
LAUNCH = [sys.executable, str(ROOT / "tests" / "mcpguard" / "wrap" / "launch.py")]

SIZES = [("1 KiB", 1024), ("64 KiB", 64 * 1024), ("1 MiB", 1 << 20), ("8 MiB", 8 << 20)]
INIT = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}


GIT = [sys.executable, "-m", "mcp_server_git", "--repository", str(ROOT)]


def wrapped_argv(protector: str, tmp: str, server: list[str] = ECHO) -> list[str]:
    if protector == "pass":
        return LAUNCH + ["--protector", "pass", "--"] + server
    cfg = Path(tmp) / "mcpguard.toml"
    if not cfg.exists():
        cfg.write_text(
            f'[keys]\ndir = "{tmp}/keys"\n[tokens]\nstore = "memory"\n[audit]\npath = "{tmp}/audit.jsonl"\n'
            f'[tools]\npins_path = "{tmp}/pins.json"\n'
        )
    return [MCPGUARD, "wrap", "--config", str(cfg), "--"] + server


class Conn:
    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.out = self.proc.stdout
        self.rid = 0

    def call(self, msg: dict) -> bytes:
        self.proc.stdin.write(json.dumps(msg).encode() + b"\n")
        self.proc.stdin.flush()
        line = self._readline()
        return line

    def _readline(self) -> bytes:
        chunks = []
        while True:
            chunk = self.out.readline()
            if not chunk:
                raise RuntimeError("server closed the connection")
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                return b"".join(chunks)

    def echo(self, n: int) -> float:
        self.rid += 1
        msg = {"jsonrpc": "2.0", "id": self.rid, "method": "tools/call",
               "params": {"name": "echo", "arguments": {"n": n, "fill": "log"}}}
        t0 = time.perf_counter()
        line = self.call(msg)
        dt = time.perf_counter() - t0
        if b'"result"' not in line[:200] and b'"result"' not in line:
            raise RuntimeError("unexpected answer: " + line[:200].decode("utf-8", "replace"))
        return dt

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(10)


def startup(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        c = Conn(argv)
        c.call(INIT)
        times.append(time.perf_counter() - t0)
        c.close()
    return times


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` (Linux ``/proc/<pid>/stat`` fields 14-15, in clock
    ticks of 1/``SC_CLK_TCK`` s, usually 10 ms); NaN where /proc is unavailable."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def round_trips(argv: list[str], n: int, iters: int) -> tuple[list[float], float]:
    """Wall times of ``iters`` sequential calls after a warm-up, and the CPU seconds per call of the process that
    answers the client (the wrapper in the wrapped arm, the server in the direct arm), which is less sensitive to
    machine load than the wall times."""
    c = Conn(argv)
    c.call(INIT)
    for _ in range(max(3, iters // 10)):
        c.echo(n)
    cpu0 = cpu_seconds(c.proc.pid)
    times = [c.echo(n) for _ in range(iters)]
    cpu = (cpu_seconds(c.proc.pid) - cpu0) / iters
    c.close()
    return times, cpu


def framing_bench(quick: bool) -> None:
    """Cost of the strict parse: orjson alone, framing.decode (orjson + depth walk + duplicate-key balance), and the
    naive safe alternative (json.loads with an object_pairs_hook), on a text result and on a row-heavy result."""
    import orjson

    sys.path.insert(0, str(ROOT / "tests" / "mcpguard" / "wrap" / "children"))
    from echo_server import _fill

    from mcpguard.jsonrpc.framing import _reject_duplicates, decode

    def frame(result: dict) -> bytes:
        return orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": result})

    cases = []
    for label, n in (("1 KiB text", 1024), ("1 MiB text", 1 << 20), ("8 MiB text", 8 << 20)):
        cases.append((label, frame({"content": [{"type": "text", "text": _fill(n, "log")}]})))
    rows = [{"id": i, "name": f"user{i}", "city": "Seoul", "created": "2026-11-03T14:22:09Z", "score": i * 0.5}
            for i in range(9000)]
    cases.append(("1 MiB rows (45k keys)", frame({"structuredContent": {"rows": rows}})))
    print("\n| frame | orjson.loads | framing.decode | json.loads + pairs hook |\n|---|---|---|---|")
    for label, raw in cases:
        reps = 3 if len(raw) > (4 << 20) else (20 if len(raw) > 4096 else 2000)
        reps = max(2, int(reps * (0.3 if quick else 1)))

        def best(fn) -> float:
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            return min(times)

        a = best(lambda: orjson.loads(raw))
        b = best(lambda: decode(raw))
        c = best(lambda: json.loads(raw, object_pairs_hook=_reject_duplicates))
        unit, f = ("µs", 1e6) if len(raw) < 65536 else ("ms", 1e3)
        mbs = len(raw) / b / 1e6
        print(f"| {label} | {a * f:.1f} {unit} | **{b * f:.1f} {unit}** ({mbs:.0f} MB/s) | {c * f:.1f} {unit} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    ap.add_argument("--protector", choices=["real", "pass"], default="real")
    ap.add_argument("--starts", type=int, default=15)
    ap.add_argument("--no-git", action="store_true", help="skip the mcp-server-git start-up row")
    ap.add_argument("--framing", action="store_true", help="only the strict-parse micro-benchmark")
    ap.add_argument("--startup-only", action="store_true", help="only the start-up rows (no round trips)")
    args = ap.parse_args()
    if args.framing:
        print(f"# bench/wrap.py --framing — load average {os.getloadavg()[0]:.1f}")
        framing_bench(args.quick)
        return
    scale = 0.2 if args.quick else 1.0
    iters = {1024: 2000, 64 * 1024: 400, 1 << 20: 60, 8 << 20: 15}
    with tempfile.TemporaryDirectory() as tmp:
        wrapped = wrapped_argv(args.protector, tmp)
        load = os.getloadavg()[0]
        print(f"# bench/wrap.py — protector={args.protector}, python {platform.python_version()}, "
              f"{os.cpu_count()} CPUs, {platform.machine()}, load average {load:.1f} at start")
        # Interleave arms run by run so machine load drifts hit both alike.
        starts = max(3, int(args.starts * (0.4 if args.quick else 1)))
        d_s, w_s = [], []
        for _ in range(starts):
            d_s += startup(ECHO, 1)
            w_s += startup(wrapped, 1)
        print("\n| start-up (to initialize response) | direct | wrapped | overhead |\n|---|---|---|---|")
        print(f"| echo child, median of {starts} | {statistics.median(d_s) * 1e3:.1f} ms | "
              f"{statistics.median(w_s) * 1e3:.1f} ms | "
              f"**{(statistics.median(w_s) - statistics.median(d_s)) * 1e3:.1f} ms** |")
        if not args.no_git:
            runs = max(2, starts // 3)
            g_d, g_w = [], []
            for _ in range(runs):
                g_d += startup(GIT, 1)
                g_w += startup(wrapped_argv(args.protector, tmp, GIT), 1)
            print(f"| mcp-server-git, median of {runs} | {statistics.median(g_d) * 1e3:.0f} ms | "
                  f"{statistics.median(g_w) * 1e3:.0f} ms | "
                  f"**{(statistics.median(g_w) - statistics.median(g_d)) * 1e3:.0f} ms** |")
        if args.startup_only:
            return
        print("\n| result size | direct p50 / p99 | wrapped p50 / p99 | overhead p50 | overhead p99 "
              "| wrapper CPU / call |\n|---|---|---|---|---|---|")
        rates = None
        for label, n in SIZES:
            k = max(5, int(iters[n] * scale))
            d, _ = round_trips(ECHO, n, k)
            w, w_cpu = round_trips(wrapped, n, k)
            unit, f = ("µs", 1e6) if n < (1 << 20) else ("ms", 1e3)
            o50 = pct(w, 50) - pct(d, 50)
            o99 = pct(w, 99) - pct(d, 99)
            print(f"| {label} ({k} calls) | {pct(d, 50) * f:.0f} / {pct(d, 99) * f:.0f} {unit} | "
                  f"{pct(w, 50) * f:.0f} / {pct(w, 99) * f:.0f} {unit} | **{o50 * f:.0f} {unit}** | "
                  f"{o99 * f:.0f} {unit} | {w_cpu * f:.0f} {unit} |")
            if n == 8 << 20:
                rates = (n / o50 / 1e6 if o50 > 0 else float("inf"), n / pct(d, 50) / 1e6, n / pct(w, 50) / 1e6)
        if rates:
            print(f"\n8 MiB result: wrapper processing rate (size / p50 overhead) **{rates[0]:.0f} MB/s**; "
                  f"end to end {rates[1]:.0f} MB/s direct, {rates[2]:.0f} MB/s wrapped.")


if __name__ == "__main__":
    main()
