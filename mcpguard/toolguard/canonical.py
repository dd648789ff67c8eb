"""Canonical form and hash of an MCP tool definition, for pinning.

The pinned fields are ``name``, ``title``, ``description``, ``inputSchema``, ``outputSchema`` and ``annotations``
(MCP 2025-11-25 ``Tool``); ``_meta``, ``icons`` and ``execution`` are left out because servers may vary them between
listings without changing what the tool does. Every string is whitespace-normalized (runs of Unicode whitespace become
one space, ends stripped) and ``required`` arrays are sorted, so re-indenting a description or reordering required
properties is not drift; the position of a tool in ``tools/list`` never matters because each tool is hashed alone.

Serialization follows RFC 8785 (JSON Canonicalization Scheme): object members sorted by the UTF-16 code units of their
names, no insignificant whitespace, numbers in the ECMAScript ``Number.prototype.toString`` form (§3.2.2.3), strings
with the minimal JSON escapes (§3.2.2.2). The hash is SHA-256 over the UTF-8 bytes, hex encoded.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

__all__ = ["PINNED_FIELDS", "canonical_json", "canonical_tool", "field_hashes", "tool_hash"]

PINNED_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")

_WS = re.compile(r"\s+")


def _number(x: int | float) -> str:
    # RFC 8785 §3.2.2.3: integers and integral doubles print without a fraction; others use the shortest round-trip
    # digits with ECMAScript exponent rules (exponent when < 1e-6 or >= 1e21; "e+N" / "e-N", no zero padding).
    if isinstance(x, bool):
        raise TypeError("bool is not a number")
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        raise ValueError("non-finite numbers have no JSON form")
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e21:
        return str(int(x))
    r = repr(x)
    if "e" in r:
        mant, exp = r.split("e")
        sign = "-" if exp.startswith("-") else "+"
        exp = exp.lstrip("+-").lstrip("0") or "0"
        e = int(exp) * (-1 if sign == "-" else 1)
        if -7 < e < 21:  # ECMAScript prints these positionally
            return format(x, "f").rstrip("0").rstrip(".") if e < 0 else str(int(x))
        return f"{mant}e{sign}{exp}"
    return r


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of a JSON value (dict with str keys, list, str, int, float, bool, None) as UTF-8 bytes.

    Raises ``TypeError`` for a non-JSON type and ``ValueError`` for NaN or infinity.
    """
    return _encode(value).encode("utf-8")


def _encode(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _encode(value[k]) for k in keys) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _normalize(value: Any, key: str | None = None) -> Any:
    if isinstance(value, str):
        return _WS.sub(" ", value).strip()
    if isinstance(value, list):
        items = [_normalize(v) for v in value]
        if key == "required" and all(isinstance(v, str) for v in items):
            items.sort()
        return items
    if isinstance(value, dict):
        return {k: _normalize(v, k) for k, v in value.items()}
    return value


def canonical_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """The pinned fields of a wire-format tool (camelCase keys), whitespace-normalized; absent fields are omitted."""
    return {f: _normalize(tool[f], f) for f in PINNED_FIELDS if f in tool and tool[f] is not None}


def tool_hash(tool: dict[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of :func:`canonical_tool` (64 characters)."""
    return hashlib.sha256(canonical_json(canonical_tool(tool))).hexdigest()


def field_hashes(tool: dict[str, Any]) -> dict[str, str]:
    """Per-field hashes (16 hex characters each) so a diff can say *which* fields changed without storing the text.

    Keys are the pinned field names plus ``inputSchema.properties.<name>`` for each input property, so a changed,
    added or removed parameter is named.
    """
    canon = canonical_tool(tool)
    out = {f: hashlib.sha256(canonical_json(v)).hexdigest()[:16] for f, v in canon.items()}
    props = canon.get("inputSchema", {}).get("properties") if isinstance(canon.get("inputSchema"), dict) else None
    if isinstance(props, dict):
        for name, schema in props.items():
            out[f"inputSchema.properties.{name}"] = hashlib.sha256(canonical_json(schema)).hexdigest()[:16]
    return out
