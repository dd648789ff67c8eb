"""Pure hash-chain math for the audit log: canonical JSON, record hashing, building and verifying records.

Each record is a JSON object holding ``seq`` (0-based position), ``ts`` (RFC 3339 UTC), ``prev`` (the previous
record's ``hash``; 64 zeros for the first), its own fields, and ``hash`` = lowercase hex SHA-256 (FIPS 180-4) of the
canonical JSON of the record without ``hash``. Editing a record breaks its hash; deleting or reordering records
breaks ``seq``/``prev``; cutting off the tail needs an anchor (the last ``seq`` and ``hash`` kept elsewhere).

Canonical JSON follows the JSON Canonicalization Scheme (RFC 8785) for the values records hold: object members sorted
by key, no insignificant whitespace, strings as ``json.dumps`` writes them with ``ensure_ascii=False`` (RFC 8785 §3.2.2.2
escaping). Records hold no floats (:func:`sanitize` turns them into strings), so RFC 8785's number formatting never
arises, and keys are ASCII, so code-point and UTF-16 ordering agree.

Raw values must never enter a record: :data:`FORBIDDEN_FIELDS` are rejected anywhere in a record, in code.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import orjson

GENESIS = "0" * 64

#: Field names that would hold a raw value. Refused at any depth of a record (ValueError), whatever their content.
FORBIDDEN_FIELDS = frozenset({
    "value", "values", "raw", "match", "matched", "text", "secret", "secrets", "plaintext", "original",
    "password", "token_value", "restored_value", "content", "arguments", "params", "result",
})

#: Fields the chain owns; callers cannot set them.
RESERVED_FIELDS = frozenset({"seq", "ts", "prev", "hash"})


def canonical(obj: Any) -> bytes:
    """The canonical UTF-8 JSON of ``obj`` (RFC 8785 for the subset records use): sorted keys, no whitespace.

    orjson and the stdlib produce the same bytes for record values (both escape only what RFC 8259 requires, with
    ``\\n``-style short forms and lowercase ``\\u00xx``); the stdlib handles what orjson refuses (integers beyond
    64 bits)."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8")


def record_hash(record: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of ``record`` without its ``hash`` member."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def sanitize(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-safe copy of caller fields: floats become strings (``repr``), tuples/sets become lists (sets sorted),
    strings with lone surrogates are escaped. Raises ``ValueError`` on a forbidden or reserved field name or a value
    that is not JSON."""
    out = _clean(fields, top=True)
    assert isinstance(out, dict)
    return out


def _clean(value: Any, top: bool = False) -> Any:
    # Concrete types first: this runs on every field of every record.
    cls = type(value)
    if cls is str:
        return _text(value)
    if cls is int or cls is bool or value is None:
        return value
    if cls is dict or isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if type(k) is not str:
                raise ValueError("audit field names must be strings")
            if k in FORBIDDEN_FIELDS:
                raise ValueError(f"audit field {k!r} is forbidden: audit records never hold raw values")
            if top and k in RESERVED_FIELDS:
                raise ValueError(f"audit field {k!r} is reserved for the hash chain")
            t = type(v)
            if t is str:
                v = v if v.isascii() else _text(v)
            elif not (t is int or t is bool or v is None):
                v = _clean(v)
            out[k if k.isascii() else _text(k)] = v
        return out
    if cls is list or cls is tuple:
        return [_clean(v) for v in value]
    if isinstance(value, enum.Enum):
        return _clean(value.value)
    if isinstance(value, str):
        return _text(str(value))
    if isinstance(value, bool) or isinstance(value, int):
        return int(value) if not isinstance(value, bool) else bool(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_clean(v) for v in value)
    raise ValueError(f"audit fields must be JSON values, not {type(value).__name__}")


def _text(s: str) -> str:
    if s.isascii():
        return s
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "backslashreplace").decode("ascii", "replace")


def build_record(prev_hash: str, seq: int, ts: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The next record: ``fields`` (sanitized) plus ``seq``, ``ts``, ``prev`` and ``hash``."""
    record: dict[str, Any] = {"seq": seq, "ts": ts, "prev": prev_hash, **sanitize(fields)}
    record["hash"] = record_hash(record)
    return record


def parse_record(line: str | bytes) -> dict[str, Any]:
    """Parse one JSONL line strictly (no NaN/Infinity, no duplicate keys); raises ``ValueError``."""
    def no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) != len(pairs):
            raise ValueError("duplicate key")
        return out

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    obj = json.loads(line, object_pairs_hook=no_dupes, parse_constant=no_constants)
    if not isinstance(obj, dict):
        raise ValueError("a record is a JSON object")
    return obj


def check_record(record: Mapping[str, Any], *, seq: int, prev_hash: str) -> str | None:
    """Why ``record`` does not continue a chain at position ``seq`` after ``prev_hash``, or None if it does."""
    if not isinstance(record.get("hash"), str) or not isinstance(record.get("prev"), str):
        return "missing hash or prev"
    if record.get("seq") != seq:
        return f"seq is {record.get('seq')!r}, expected {seq} (record deleted, inserted or reordered)"
    if record["prev"] != prev_hash:
        return "prev does not match the previous record's hash (record deleted, inserted or reordered)"
    if record_hash(record) != record["hash"]:
        return "hash does not match the record's content (record edited)"
    return None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of verifying a chain: ``records`` read; ``first_bad`` the 0-based index (line) of the first bad
    record or None; ``reason`` why; ``last_seq``/``last_hash`` of the last good record (``-1``/genesis if none)."""

    ok: bool
    records: int
    first_bad: int | None = None
    reason: str | None = None
    last_seq: int = -1
    last_hash: str = GENESIS


def verify_lines(lines: Iterable[str | bytes], *, anchor: Mapping[str, Any] | None = None) -> VerifyResult:
    """Verify a whole chain given its lines in order. ``anchor`` (``{"seq", "hash"}``) additionally requires the
    record at ``anchor["seq"]`` to exist with that hash, which detects a truncated tail."""
    prev = GENESIS
    count = 0
    anchored = anchor is None
    for index, line in enumerate(lines):
        count = index + 1
        try:
            record = parse_record(line)
        except ValueError as exc:
            return VerifyResult(False, count, index, f"not a JSON record ({exc})", index - 1, prev)
        why = check_record(record, seq=index, prev_hash=prev)
        if why is not None:
            return VerifyResult(False, count, index, why, index - 1, prev)
        if anchor is not None and index == anchor.get("seq"):
            if record["hash"] != anchor.get("hash"):
                return VerifyResult(False, count, index, "hash differs from the anchor (log rewritten)", index - 1,
                                    prev)
            anchored = True
        prev = record["hash"]
    if not anchored:
        return VerifyResult(False, count, count,
                            f"log ends before anchored record {anchor.get('seq')!r} (tail truncated)",  # type: ignore[union-attr]
                            count - 1, prev)
    return VerifyResult(True, count, None, None, count - 1, prev)


__all__ = [
    "FORBIDDEN_FIELDS",
    "GENESIS",
    "RESERVED_FIELDS",
    "VerifyResult",
    "build_record",
    "canonical",
    "check_record",
    "parse_record",
    "record_hash",
    "sanitize",
    "verify_lines",
]
