"""Exact-match redaction of injected credentials in whatever an upstream sends back.

A server may echo its environment or request headers (server-everything's ``get-env`` does). Before the detection
pipeline sees a result, every string in it has each injected value replaced by :data:`MARK` — also in its JSON-escaped
form, since results often carry JSON as text. Redacting first also keeps the pipeline from turning a credential into
a reversible token the client could get restored later.
"""

from __future__ import annotations

import json
from typing import Any

#: The type in the marker. The hub registers it with the pipeline (``Pipeline.marker_types``) so the pipeline's
#: key=value secret detector does not re-mark ``"API_KEY": "[REDACTED:credential]"`` as ``generic_secret``.
MARK_TYPE = "credential"
MARK = f"[REDACTED:{MARK_TYPE}]"
#: Values shorter than this are not redacted by exact match (they would shred ordinary text); the manifests' real
#: credentials are far longer.
MIN_LEN = 6


def needles(secrets: tuple[str, ...]) -> tuple[str, ...]:
    """The strings to look for: each secret and its JSON-escaped body, longest first."""
    out: set[str] = set()
    for s in secrets:
        if len(s) >= MIN_LEN:
            out.add(s)
            out.add(json.dumps(s)[1:-1])
            out.add(json.dumps(s, ensure_ascii=False)[1:-1])
    return tuple(sorted(out, key=len, reverse=True))


def redact(obj: Any, secrets: tuple[str, ...]) -> tuple[Any, int]:
    """``(copy of obj with every needle replaced in every string and key, replacements made)``."""
    ns = needles(secrets)
    if not ns:
        return obj, 0
    count = 0

    def walk(x: Any) -> Any:
        nonlocal count
        if isinstance(x, str):
            for n in ns:
                if n in x:
                    count += x.count(n)
                    x = x.replace(n, MARK)
            return x
        if isinstance(x, dict):
            return {walk(k): walk(v) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v) for v in x]
        return x

    return walk(obj), count


__all__ = ["MARK", "MARK_TYPE", "needles", "redact"]
