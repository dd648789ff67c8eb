"""Detection benchmark: quality on the labelled corpus and throughput on the protect path, next to the machine's
ceilings measured in the same run.

Run: ``.venv/bin/python bench/detect.py [--repeat N] [--quick]`` or ``--external`` (quality on the external corpus,
``tests/corpus/external``: upstream test vectors we did not write, see its README; tables only, no throughput).

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
import random
import sys
import time
import uuid
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
TRAFFIC = ("chat", "prose-heavy", "digit-heavy", "secret-heavy", "mixed")


def frames_for(records: list[dict], mix: str) -> list[bytes]:
    """Serialized JSON-RPC response frames for the records of ``mix`` (``all``: every record)."""
    chosen = [r for r in records if mix == "all" or r["mix"] == mix]
    return [orjson.dumps({"jsonrpc": "2.0", "id": r["record"], "result": r["data"]}) for r in chosen]


def _texts(records: list[dict], mix: str) -> list[str]:
    return [c["text"] for r in records if r["mix"] == mix for c in r["data"].get("content", []) if c.get("text")]


def _log_line(rnd: random.Random) -> str:
    """A numbers-dense log line with no PII: timestamp, UUID, ids, amounts, latencies, public address, version."""
    return (f"2025-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}T{rnd.randrange(24):02d}:{rnd.randrange(60):02d}:"
            f"{rnd.randrange(60):02d}.{rnd.randrange(10**6):06d}Z INFO req={uuid.UUID(int=rnd.getrandbits(128))} "
            f"order={rnd.randrange(10**9, 10**10)} amount={rnd.randrange(10**6) / 100:.2f} took={rnd.randrange(1, 999)}ms "
            f"ip=203.0.{rnd.randrange(256)}.{rnd.randrange(256)} ts={1_700_000_000 + rnd.randrange(10**8)} "
            f"v{rnd.randrange(1, 9)}.{rnd.randrange(30)}.{rnd.randrange(99)} sku={rnd.randrange(10**5, 10**6)}\n")


_CODE = (
    "def handler(event, context):\n    items = load_items(event['bucket'], event['prefix'])\n"
    "    for item in items:\n        if item.size > MAX_SIZE:\n            logger.warning('skip %s', item.key)\n"
    "            continue\n        process(item)\n    return {'status': 200, 'count': len(items)}\n\n"
)


def traffic_frames(records: list[dict], kind: str, n_frames: int = 48, leaves: int = 32, leaf_size: int = 2048) -> list[bytes]:
    """Realistic-density frames (~64 KiB, 32 text leaves of ~2 KiB, as in docs/benchmarks.md's method):

    - ``prose-heavy``: chat/prose leaves (English and Korean) with one leaf in 16 from the labelled ``mcp`` records
      (git logs, HTTP responses, PII text);
    - ``digit-heavy``: numbers-dense log leaves (timestamps, UUIDs, ids, amounts, public IPs) with one leaf in 8 from
      the labelled ``digit`` records (SQL rows with e-mails, phones, RRNs, cards);
    - ``secret-heavy``: code leaves alternating with labelled ``secret`` records (.env, YAML, source with keys);
    - ``mixed``: a third of each of the three above;
    - ``chat``: prose leaves only (English and Korean, numbers in sentences), no planted values: the
      low-density case, comparable to the synthetic chat text behind ``docs/benchmarks.md``'s ceilings.
    """
    rnd = random.Random(7)
    prose, mcp, digit, secret = (_texts(records, m) for m in ("prose", "mcp", "digit", "secret"))

    def fill(src: list[str]) -> str:
        out = ""
        while len(out) < leaf_size:
            out += rnd.choice(src) + "\n"
        return out[:leaf_size]

    def leaf(k: str, i: int) -> str:
        if k == "chat":
            return fill(prose)
        if k == "prose-heavy":
            return fill(mcp) if i % 16 == 0 else fill(prose)
        if k == "digit-heavy":
            if i % 8 == 0:
                return fill(digit)
            out = ""
            while len(out) < leaf_size:
                out += _log_line(rnd)
            return out
        return fill(secret) if i % 2 == 0 else (_CODE * (leaf_size // len(_CODE) + 1))[:leaf_size]

    frames = []
    for f in range(n_frames):
        k = kind if kind != "mixed" else TRAFFIC[1 + f % 3]
        content = [{"type": "text", "text": leaf(k, i)} for i in range(leaves)]
        frames.append(orjson.dumps({"jsonrpc": "2.0", "id": f, "result": {"content": content}}))
    return frames


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
    from mcpguard.detect import normalize
    from mcpguard.detect.pii import numbers
    from mcpguard.jsonrpc import framing

    c_parts = (f"numeric pass {numbers.BACKEND}, scan buffer {'c' if normalize._textscan else 'python'}, "
               f"duplicate-key count {'c' if framing._jsonscan else 'python'}")
    return (f"{cpu}, {os.cpu_count()} vCPU, Python {platform.python_version()}, hyperscan {hs}, {c_parts}, "
            f"load average {os.getloadavg()[0]:.2f}")


def external_quality() -> None:
    """``--external``: per-type quality on ``tests/corpus/external`` for both finder backends and both settings
    (default, and each source's intent about placeholders), with every miss and false positive listed."""
    from tests.corpus.external.scoring import load as load_external, report, run_all

    records = load_external()[0]
    print(f"# Detection quality on the external corpus\n\nmachine: {machine()}\n")
    print(f"{len(records)} records from Presidio recognizer tests, gitleaks rule samples and libphonenumber example "
          "numbers (tests/corpus/external/README.md); span-overlap scoring as tests/corpus/scoring.py.\n")
    for hs in (True, False):
        results = run_all(hs)
        backend = "hyperscan" if hs else "python"
        print(f"## finder: {backend}\n")
        print(report(results, records, misses=not hs))  # the backends agree; list cases once


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="throughput only on the 'all' mix")
    ap.add_argument("--external", action="store_true", help="quality on the external corpus only")
    args = ap.parse_args()
    if args.external:
        external_quality()
        return
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

    header = "| frames | MB | memchr | parse+walk | detect (hyperscan) | detect (python) | protect (hyperscan) | protect (python) |"
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for kind in TRAFFIC:
        frames_by_mix[kind] = traffic_frames(records, kind)
        leaves_by_mix[kind] = [collect_message(orjson.loads(f)) for f in frames_by_mix[kind]]
    runs = ("mixed", "all") if args.quick else TRAFFIC + MIXES
    for mix in runs:
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
        label = f"traffic: {mix}" if mix in TRAFFIC else f"corpus: {mix}"
        print(f"| {label} | {mb:.2f} | " + " | ".join(cells) + " |")

    print("\n## Where the time goes (hyperscan finder; CPU ms per MB of frames, best of %d)\n" % args.repeat)
    print("parse+walk = orjson.loads + leaf walk + join/encode (the JSON ceiling); detect = Engine.scan_leaves; "
          "pipeline = protect − parse+walk − detect (policy, transforms, tokens, re-serialization). Per-unit costs "
          "divide a column by the counts beside it.\n")
    print("| frames | protect MB/s | parse+walk ms/MB | detect ms/MB | pipeline ms/MB | anchor hits/MB | "
          "numeric candidates/MB | findings/MB | detect µs per hit+candidate | pipeline µs per finding |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mix in TRAFFIC if not args.quick else ("chat", "mixed"):
        frames = frames_by_mix[mix]
        mb = sum(map(len, frames)) / 1e6
        st: dict[str, int] = {}
        findings = 0
        for lv in leaves_by_mix[mix]:
            findings += len(engines[True].scan_leaves(lv, st))
        walk = measure(parse_walk, frames, args.repeat)[0] / mb * 1e3
        det = measure(engines[True].scan_leaves, leaves_by_mix[mix], args.repeat)[0] / mb * 1e3
        prot = measure(protect_with(pipelines[True]), frames, args.repeat)[0] / mb * 1e3
        rest = max(0.0, prot - walk - det)
        units = (st["anchor_hits"] + st["candidates"]) / mb
        print(f"| traffic: {mix} | {1e3 / prot:,.0f} | {walk:.1f} | {det:.1f} | {rest:.1f} | "
              f"{st['anchor_hits'] / mb:,.0f} | {st['candidates'] / mb:,.0f} | {findings / mb:,.0f} | "
              f"{det * 1e3 / units if units else 0:.1f} | {rest * 1e3 / (findings / mb) if findings else 0:.1f} |")


if __name__ == "__main__":
    main()
