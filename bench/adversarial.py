"""Worst-case density: frames made of one repeated unit, through the whole protect path.

    .venv/bin/python bench/adversarial.py [--sizes 0.25,0.5,1,2]

A hostile server (or a huge legitimate dump) can fill a frame with nothing but anchor hits, escapes or findings.
This prints, per unit, the protect time (ms, wall clock, one pass, default pipeline, audit off) for each frame size in
MB and the ratio of the largest to the smallest time: about size ratio × 1 means linear cost; much more means a
super-linear path (the decode layer's run finder once copied the buffer's prefix per run). Results and method:
docs/benchmarks.md, section "Detection".
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcpguard.config import Config  # noqa: E402
from mcpguard.crypto import MemoryKeyProvider  # noqa: E402
from mcpguard.runtime import NO_AUDIT, build_pipeline  # noqa: E402
from mcpguard.types import Context, Direction  # noqa: E402

#: Name → repeated unit. Anchors, escapes, encodings and findings at the highest density they can have.
UNITS = {
    "percent": "%41%42 x ", "u-escape": "\\u0041\\u0042 y ", "html": "&amp;&#64; z ",
    # escapes with no token edge (whitespace, quote, <, >) anywhere: one escape window the size of the frame
    "percent-glued": "%41a", "html-glued": "&#65;a", "x-escape-glued": "\\x41a",
    "base64-text": base64.b64encode(b"hello there general").decode() + " ", "long-base64": "QUJD", "hex": "6b",
    "dashes": "-a", "digits": "1234 ", "email": "a@b.co ", "akia": "AKIA ", "jwt-anchor": "eyJ.", "key-colon": "key: ",
    "pem": "-----BEGIN ", "url-userinfo": "://u:p@ ", "escape-mix": "%4\\u00&#x b64 ", "dotted": "1.", "plus": "+1 ",
    "assignment": "password=", "quote": '"', "backslash": "\\", "ampersand": "&", "percent-sign": "%",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="0.25,0.5,1,2", help="frame sizes in MB, comma-separated, ascending")
    args = ap.parse_args()
    sizes = [float(x) for x in args.sizes.split(",")]
    pipeline = build_pipeline(Config(), keys=MemoryKeyProvider(), audit=NO_AUDIT)
    ctx = Context(Direction.SERVER_TO_CLIENT, method="tools/call", server="bench")
    print("| unit | " + " | ".join(f"{mb:g} MB (ms)" for mb in sizes) + f" | ratio {sizes[-1]:g}/{sizes[0]:g} MB |")
    print("|---|" + "---:|" * (len(sizes) + 1))
    for name, unit in UNITS.items():
        times = []
        for mb in sizes:
            n = int(mb * 1e6)
            text = (unit * (n // len(unit) + 1))[:n]
            msg = {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": text}]}}
            t0 = time.perf_counter()
            pipeline.protect(msg, ctx)
            times.append(time.perf_counter() - t0)
        ratio = times[-1] / max(times[0], 1e-9)
        print(f"| {name} | " + " | ".join(f"{t * 1e3:,.1f}" for t in times) + f" | {ratio:.1f} |", flush=True)


if __name__ == "__main__":
    main()
