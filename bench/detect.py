"""Detection benchmark: quality on the labelled corpus and throughput on the protect path, next to the machine's
ceilings measured in the same run.

Run: ``.venv/bin/python bench/detect.py [--repeat N] [--quick]``

Quality: per-type precision/recall/F1 scored by span overlap (``tests/corpus/scoring.py``) with each finder backend,
false positives per MB of prose, candidate density (numeric candidates and anchor hits per MB).

Throughput: every corpus record becomes a JSON-RPC response frame (``{"jsonrpc","id","result": record}``) serialized
with orjson. Per mix (``prose``, ``digit``, ``secret``, ``mcp``, ``all``) the frames are run through:

- ``memchr``: ``bytes.count(b"\\0")`` over each frame (a memchr-class pass, the hardware ceiling);
- ``parse+walk``: ``orjson.loads`` + the pipeline's leaf walk + ``"\\0".join`` + ``encode`` (the JSON-aware ceiling);
- ``detect``: ``engine.scan_leaves`` on pre-collected leaves (detection alone);
- ``protect``: ``orjson.loads`` → ``Pipeline.protect`` (leaves → detect → policy → transform; audit off) →
  ``orjson.dumps`` of the forwarded message: what the wrapper does per frame.

MB/s = frame bytes / CPU seconds (``time.process_time``, best of ``--repeat`` runs), so load from other processes on
a shared machine inflates the numbers less than wall-clock timing would; wall-clock is printed too.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson  # noqa: E402

from mcpguard.config import Config, DetectionConfig  # noqa: E402
from mcpguard.crypto import MemoryKeyProvider  # noqa: E402
from mcpguard.detect.engine import build_engine  # noqa: E402
from mcpguard.jsonrpc.leaves import collect_message  # noqa: E402
from mcpguard.runtime import NO_AUDIT, build_pipeline  # noqa: E402
from mcpguard.types import Context, Direction  # noqa: E402
from tests.corpus.scoring import load, score, table  # noqa: E402

MIXES = ("prose", "digit", "secret", "mcp", "all")


def frames_for(records: list[dict], mix: str) -> list[bytes]:
    """Serialized JSON-RPC response frames for the records of ``mix`` (``all``: every record)."""
    chosen = [r for r in records if mix == "all" or r["mix"] == mix]
    return [orjson.dumps({"jsonrpc": "2.0", "id": r["record"], "result": r["data"]}) for r in chosen]


def measure(fn, frames, repeat: int) -> tuple[float, float]:
    """``(best CPU seconds, best wall seconds)`` of ``fn(frame)`` over all frames, best of ``repeat`` runs."""
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        for f in frames:
            fn(f)
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    return best_cpu, best_wall


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    try:
        import hyperscan

        hs = getattr(hyperscan, "__version__", "installed")
    except ImportError:
        hs = "not installed"
    return (f"{cpu}, {os.cpu_count()} vCPU, Python {platform.python_version()}, hyperscan {hs}, "
            f"load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="throughput only on the 'all' mix")
    args = ap.parse_args()
    records, labels = load()
    print(f"# Detection benchmark\n\nmachine: {machine()}\n")

    print("## Quality (corpus: tests/corpus, span-overlap scoring)\n")
    for hs in (True, False):
        engine = build_engine(DetectionConfig(use_hyperscan=hs))
        s = score(engine, records, labels)
        print(f"### finder: {engine.backend}\n")
        print(table(s))
        print(f"\nprose: {s.prose_fp} false positives in {s.prose_mb:.2f} MB "
              f"({s.prose_fp / s.prose_mb:.2f} per MB)\n")

    print("## Candidate density (per MB of frame bytes)\n")
    print("| mix | MB | numeric candidates/MB | anchor hits/MB (hyperscan) | anchor hits/MB (python) |")
    print("|---|---:|---:|---:|---:|")
    engines = {hs: build_engine(DetectionConfig(use_hyperscan=hs)) for hs in (True, False)}
    leaves_by_mix = {}
    frames_by_mix = {}
    for mix in MIXES:
        frames = frames_for(records, mix)
        frames_by_mix[mix] = frames
        leaves_by_mix[mix] = [collect_message(orjson.loads(f)) for f in frames]
        mb = sum(map(len, frames)) / 1e6
        st = {True: {}, False: {}}
        for hs, eng in engines.items():
            for lv in leaves_by_mix[mix]:
                eng.scan_leaves(lv, st[hs])
        print(f"| {mix} | {mb:.2f} | {st[True]['candidates'] / mb:.0f} | {st[True]['anchor_hits'] / mb:.0f} | "
              f"{st[False]['anchor_hits'] / mb:.0f} |")

    print("\n## Throughput (MB/s of JSON-RPC frame bytes, CPU time, best of %d; wall-clock in brackets)\n" % args.repeat)
    keys = MemoryKeyProvider()
    ctx = Context(Direction.SERVER_TO_CLIENT, method="tools/call", server="bench")
    pipelines = {
        hs: build_pipeline(Config(detection=DetectionConfig(use_hyperscan=hs)), keys=keys, audit=NO_AUDIT)
        for hs in (True, False)
    }

    def parse_walk(f: bytes) -> None:
        lv = collect_message(orjson.loads(f))
        "\x00".join(x.text for x in lv).encode("ascii", "replace")

    def protect_with(p):
        def run(f: bytes) -> None:
            out = p.protect(orjson.loads(f), ctx)
            if out.message is not None:
                orjson.dumps(out.message)

        return run

    header = "| mix | MB | memchr | parse+walk | detect (hyperscan) | detect (python) | protect (hyperscan) | protect (python) |"
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for mix in (("all",) if args.quick else MIXES):
        frames = frames_by_mix[mix]
        mb = sum(map(len, frames)) / 1e6
        cells = []
        for fn, data in (
            (lambda f: f.count(b"\0"), frames),
            (parse_walk, frames),
            (engines[True].scan_leaves, leaves_by_mix[mix]),
            (engines[False].scan_leaves, leaves_by_mix[mix]),
            (protect_with(pipelines[True]), frames),
            (protect_with(pipelines[False]), frames),
        ):
            cpu, wall = measure(fn, data, args.repeat)
            cells.append(f"{mb / cpu:,.0f} ({mb / wall:,.0f})")
        print(f"| {mix} | {mb:.2f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
