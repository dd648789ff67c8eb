"""Tool-guard sanitizer cost: :func:`mcpguard.toolguard.sanitize.sanitize_text` on 1 MiB strings.

Method
------
Each case is a 1 MiB (2^20 characters) string; the time is the best of ``--repeat`` calls (ms), so it is the
sanitizer's own cost on a quiet moment of a shared machine. Cases: clean git-log-like ASCII (the text
``bench/wrap.py`` sends), clean Korean prose, clean English prose with em dashes and curly quotes (non-ASCII whose
UTF-8 screen has candidates, so the exact regex decides), the log with a few ANSI colour codes and one zero-width
space, the Korean prose with one zero-width space, and 1 MiB of mixed C0 controls (a hostile server).

``--baseline FILE`` loads another ``sanitize.py`` (for example the previous version, saved with
``git show HEAD:mcpguard/toolguard/sanitize.py > /tmp/old.py``) and times it on the same strings, after checking
both give the same output and counts.

Run: ``.venv/bin/python bench/sanitize.py [--repeat N] [--baseline FILE]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcpguard.toolguard import sanitize  # noqa: E402

MIB = 1 << 20
LOG = ("commit 9fceb02d0ae598e95dc970b74767f19372d61af8\nDate:   Tue Nov 3 14:22:09 2026 +0900\n\n"
       "    Fix retry budget in the upload worker; see ticket 4821 and the runbook section 3.2\n\n")
KOREAN = "김민준 고객님의 주문이 오늘 배송되었습니다. 송장 번호와 예상 도착일은 주문 내역에서 확인할 수 있습니다.\n"
ENGLISH = "The worker retries — at most three times — and logs “retry budget exhausted” when it gives up.\n"


def _fill(unit: str) -> str:
    return (unit * (MIB // len(unit) + 1))[:MIB]


def cases() -> dict[str, str]:
    """Name → 1 MiB string."""
    log, korean = _fill(LOG), _fill(KOREAN)
    few = log[:1000] + "\x1b[31m" + log[1000:400000] + "\x1b[0m" + log[400000:800000] + "\u200b" + log[800000:]
    return {
        "clean ASCII log": log,
        "clean Korean prose": korean,
        "clean English, em dashes/quotes": _fill(ENGLISH),
        "log + 2 ANSI codes + 1 ZWSP": few[:MIB],
        "Korean + 1 ZWSP": (korean[:500000] + "\u200b" + korean[500000:])[:MIB],
        "1 MiB of C0 controls": _fill("\x01\x02\x07\x08\x0b\x0c\x0e\x1f\r\x7f"),
    }


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` calls, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def _load(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("baseline_sanitize", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--baseline", help="another sanitize.py to time on the same strings")
    args = ap.parse_args()
    base = _load(args.baseline) if args.baseline else None
    print(f"{'case (1 MiB)':34} {'baseline ms':>12} {'now ms':>9}")
    for name, text in cases().items():
        now = best_ms(lambda: sanitize.sanitize_text(text), args.repeat)
        old = "-"
        if base is not None:
            if base.sanitize_text(text) != sanitize.sanitize_text(text):
                raise SystemExit(f"{name}: baseline and current outputs differ")
            old = f"{best_ms(lambda: base.sanitize_text(text), args.repeat):.1f}"
        print(f"{name:34} {old:>12} {now:>9.2f}")


if __name__ == "__main__":
    main()
