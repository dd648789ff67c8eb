"""Newline-delimited JSON-RPC framing: bytes ⇄ message, with size and depth limits and a strict parse.

The MCP stdio transport (spec 2025-11-25, "Transports › stdio") sends one JSON-RPC message per line, delimited by
``\\n``, with no embedded newlines. This module is pure (no I/O):

- :class:`LineSplitter` cuts a byte stream into lines on ``b"\\n"`` only (never ``str.splitlines``, which also splits on
  U+2028), keeping at most ``max_frame_bytes`` buffered. A longer line yields one :data:`OVERSIZE` marker and the rest
  of it is discarded through the next ``\\n`` without being buffered, so the tail of a long line can never resurface as
  a fresh, smuggled frame.
- :func:`decode` parses one line strictly: valid UTF-8, RFC 8259 JSON (no ``NaN``/``Infinity``, no lone surrogates, no
  duplicate object keys), nesting at most ``max_depth`` deep, and a JSON-RPC 2.0 envelope (§4 request/notification,
  §5 response; batches are refused because MCP removed them in 2025-06-18).
- :func:`encode` re-serializes a message as one line: what the wrapper forwards is always its own serialization of a
  parsed message, never the bytes it received.

Duplicate keys: orjson keeps the last of duplicate keys silently. Rather than parse every frame twice, :func:`decode`
compares the number of ``:`` bytes in the raw line with what the parsed document accounts for (one per object member
plus the colons inside its strings, plus escaped ``\\u003a`` colons); only when they disagree does it re-parse with an
``object_pairs_hook`` to decide. A document without duplicates always balances, so the slow path runs only on
duplicates or on rare escape spellings. (Choosing the C ``json`` parser with a hook for frames with few objects was
tried and measured no faster on an 8 MiB text result.)
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from mcpguard.errors import FrameError, FrameTooDeep, FrameTooLarge, MalformedFrame

_jsonscan: Any = None
if os.environ.get("MCPGUARD_PURE_PYTHON") != "1":
    try:  # the C member count (``_jsonscan.c``); without it, the colon-count check below in Python
        from mcpguard.jsonrpc import _jsonscan
    except ImportError:
        pass

#: Default limits (``[wrap]`` in ``mcpguard.toml`` overrides them).
DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64

MessageKind = Literal["request", "notification", "response"]


class Oversize:
    """Yielded by :class:`LineSplitter` in place of a line longer than the limit. ``prefix`` holds the line's first
    :data:`PREFIX_BYTES` bytes (for :func:`peek_id`); every ``Oversize`` compares equal to :data:`OVERSIZE`."""

    __slots__ = ("prefix",)

    def __init__(self, prefix: bytes = b"") -> None:
        self.prefix = prefix

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Oversize)

    def __hash__(self) -> int:
        return hash(Oversize)

    def __repr__(self) -> str:
        return "OVERSIZE"


#: The canonical oversize marker (for comparisons).
OVERSIZE = Oversize()
#: Bytes of an oversize line kept for :func:`peek_id`.
PREFIX_BYTES = 256

# The shape every common serializer (orjson, json.dumps, JSON.stringify of SDK objects) gives a message's start.
_ID_PREFIX = re.compile(rb'\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(-?[0-9]{1,18}|"[A-Za-z0-9_.:-]{1,128}")\s*,')


def peek_id(prefix: bytes) -> str | int | None:
    """The id of an oversize frame when its first bytes are ``{"jsonrpc":"2.0","id":<id>,`` (an integer or a plain
    string of ``[A-Za-z0-9_.:-]``), else None. Nothing else of the frame is looked at, so a caller must only use it
    to answer a request it already knows to be outstanding."""
    m = _ID_PREFIX.match(prefix)
    if m is None:
        return None
    tok = m.group(1)
    return tok[1:-1].decode() if tok.startswith(b'"') else int(tok)


def _prefix(buf: bytearray, chunk: bytes, start: int, end: int) -> bytes:
    if len(buf) >= PREFIX_BYTES:
        return bytes(buf[:PREFIX_BYTES])
    return bytes(buf) + chunk[start : min(end, start + PREFIX_BYTES - len(buf))]


_WS = frozenset(b" \t\r\n")


def _blank(line: bytes | bytearray) -> bool:
    # strip() would copy a multi-MiB line; a frame starts and ends with a bracket, so check the ends first.
    return not line or (line[0] in _WS and line[-1] in _WS and not line.strip())


class LineSplitter:
    """Split a byte stream into ``\\n``-terminated lines with a bounded buffer.

    :meth:`feed` takes chunks of any size and returns the complete lines they finish (``bytes`` without the ``\\n``;
    empty or whitespace-only lines are skipped) and :data:`OVERSIZE` for each line longer than ``max_frame_bytes``
    bytes. Memory held is at most ``max_frame_bytes`` plus one chunk. :meth:`finish` returns a final unterminated
    line at end of stream.
    """

    __slots__ = ("max_frame_bytes", "_buf", "_discarding")

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._buf = bytearray()
        #: True while skipping the rest of an oversize line.
        self._discarding = False

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished line currently held."""
        return len(self._buf)

    def feed(self, chunk: bytes) -> list[bytes | bytearray | Oversize]:
        """Consume ``chunk``; return the lines it completes (``bytes`` or ``bytearray``) and an :data:`OVERSIZE` per
        over-long line."""
        out: list[bytes | bytearray | Oversize] = []
        limit = self.max_frame_bytes
        buf = self._buf
        start = 0
        n = len(chunk)
        while start < n:
            nl = chunk.find(b"\n", start)
            if nl < 0:
                if not self._discarding:
                    if len(buf) + (n - start) > limit:
                        out.append(Oversize(_prefix(buf, chunk, start, n)))
                        buf.clear()
                        self._discarding = True
                    else:
                        buf += chunk[start:] if start else chunk
                return out
            if self._discarding:
                self._discarding = False
            elif len(buf) + (nl - start) > limit:
                out.append(Oversize(_prefix(buf, chunk, start, nl)))
                buf.clear()
            else:
                if buf:
                    buf += chunk[start:nl]
                    # Hand the buffer itself over (no copy of a possibly multi-MiB line) and start a new one.
                    line = buf
                    buf = self._buf = bytearray()
                else:
                    line = chunk[start:nl]
                if not _blank(line):
                    out.append(line)
            start = nl + 1
        return out

    def finish(self) -> list[bytes | Oversize]:
        """End of stream: return the unterminated last line, if any (an oversize tail was already reported)."""
        if self._discarding or not self._buf.strip():
            self._buf.clear()
            self._discarding = False
            return []
        line = bytes(self._buf)
        self._buf.clear()
        return [line]


def _frame_error(err: FrameError, frame_id: str | int | None = None) -> FrameError:
    # ``frame_id`` lets the caller answer under the offending request's id when it was safely known.
    err.frame_id = frame_id  # type: ignore[attr-defined]
    return err


def _valid_id(value: Any) -> bool:
    # bool is an int subclass; JSON-RPC ids are strings or integers (MCP: never null, never fractional).
    t = type(value)
    return t is str or t is int


def frame_id(err: BaseException) -> str | int | None:
    """The id to answer a refused frame under: the request's id when it was safely known, else ``None`` (null)."""
    return getattr(err, "frame_id", None)


def _shape(doc: Any, max_depth: int) -> tuple[int, int, list[str]]:
    """Walk ``doc`` once: raise :class:`FrameTooDeep` past ``max_depth`` containers; return (object members, objects,
    the keys and string values that contain a ``:``)."""
    members = 0
    objects = 0
    with_colon: list[str] = []
    keep = with_colon.append
    stack: list[tuple[Any, int]] = [(doc, 1)]
    pop = stack.pop
    push = stack.append
    while stack:
        node, depth = pop()
        if depth > max_depth:
            raise FrameTooDeep(f"frame nests deeper than the limit of {max_depth}")
        child = depth + 1
        if type(node) is dict:
            objects += 1
            members += len(node)
            for key, value in node.items():
                if ":" in key:
                    keep(key)
                t = type(value)
                if t is str:
                    if ":" in value:
                        keep(value)
                elif t is dict or t is list:
                    push((value, child))
        else:
            for value in node:
                t = type(value)
                if t is str:
                    if ":" in value:
                        keep(value)
                elif t is dict or t is list:
                    push((value, child))
    return members, objects, with_colon


def _members(doc: Any, max_depth: int) -> tuple[int, int, list[str]]:
    """:func:`_shape` without collecting strings: (object members, objects, [])."""
    members = 0
    objects = 0
    stack: list[tuple[Any, int]] = [(doc, 1)]
    pop = stack.pop
    push = stack.append
    while stack:
        node, depth = pop()
        if depth > max_depth:
            raise FrameTooDeep(f"frame nests deeper than the limit of {max_depth}")
        child = depth + 1
        if type(node) is dict:
            objects += 1
            members += len(node)
            for value in node.values():
                t = type(value)
                if t is dict or t is list:
                    push((value, child))
        else:
            for value in node:
                t = type(value)
                if t is dict or t is list:
                    push((value, child))
    return members, objects, []


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise MalformedFrame("parse error: duplicate object key")
    return obj


def parse(line: bytes | bytearray, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse one line strictly into a JSON value (no envelope checks).

    ``line`` is UTF-8 bytes. Raises :class:`MalformedFrame` (JSON-RPC -32700) for invalid UTF-8, invalid JSON (RFC
    8259: ``NaN``/``Infinity`` and lone surrogates included) or a duplicate object key, and :class:`FrameTooDeep`
    (-32600) when containers nest deeper than ``max_depth``. Messages never quote the input.
    """
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        # orjson's own depth limit (1024) is reported as a depth error, not a parse error.
        if "depth" in str(exc):
            raise FrameTooDeep(f"frame nests deeper than the limit of {max_depth}") from None
        raise MalformedFrame(f"parse error: not valid JSON at byte {exc.pos}") from None
    t = type(doc)
    if t is not dict and t is not list:
        return doc
    if _jsonscan is not None:
        # One C pass: the ':' outside strings are the members as written; orjson keeps one of duplicate keys.
        members = _members(doc, max_depth)[0]
        if _jsonscan.member_colons(line) != members:
            json.loads(line, object_pairs_hook=_reject_duplicates)
        return doc
    members, _, with_colon = _shape(doc, max_depth)
    raw_colons = line.count(b":")
    # An escaped colon adds a parsed colon without a raw one; over-counting them only sends us to the slow path.
    # One find on the common path (no escaped colon anywhere) instead of two counts.
    if line.find(b"\\u003") >= 0:
        raw_colons += line.count(b"\\u003a") + line.count(b"\\u003A")
    if raw_colons != members + sum(s.count(":") for s in with_colon):
        json.loads(line, object_pairs_hook=_reject_duplicates)
    return doc


def classify(msg: Any) -> MessageKind:
    """Check a parsed value is one JSON-RPC 2.0 message and say which kind.

    Request (§4): ``method`` string and an ``id`` (string or integer); notification (§4.1): ``method`` and no ``id``;
    response (§5): ``id`` and exactly one of ``result``/``error``, where ``error`` is an object with an integer
    ``code`` and a string ``message`` (§5.1) and ``id`` may be null only for an error. Raises :class:`FrameError`
    (-32600) otherwise; a batch (JSON array) is refused with reason ``batch_unsupported``.
    """
    if type(msg) is not dict:
        if type(msg) is list:
            raise _frame_error(FrameError("batches are not supported (removed from MCP in 2025-06-18)",
                                          reason="batch_unsupported"))
        raise _frame_error(FrameError("invalid request: a JSON-RPC message must be an object"))
    fid = msg.get("id")
    known_id = fid if _valid_id(fid) else None
    if msg.get("jsonrpc") != "2.0":
        raise _frame_error(FrameError('invalid request: "jsonrpc" must be "2.0"'), known_id)
    if "method" in msg:
        if type(msg["method"]) is not str:
            raise _frame_error(FrameError('invalid request: "method" must be a string'), known_id)
        if "result" in msg or "error" in msg:
            raise _frame_error(FrameError("invalid request: a request carries no result or error"), known_id)
        params = msg.get("params")
        if params is not None and type(params) is not dict and type(params) is not list:
            raise _frame_error(FrameError('invalid request: "params" must be an object or array'), known_id)
        if "id" not in msg:
            return "notification"
        if known_id is None:
            raise _frame_error(FrameError('invalid request: "id" must be a string or an integer'))
        return "request"
    if "id" not in msg:
        raise _frame_error(FrameError('invalid request: no "method" and no "id"'))
    has_result = "result" in msg
    has_error = "error" in msg
    if has_result == has_error:
        raise _frame_error(FrameError("invalid response: exactly one of result and error is required"), known_id)
    if has_error:
        err = msg["error"]
        if type(err) is not dict or type(err.get("code")) is not int or type(err.get("message")) is not str:
            raise _frame_error(FrameError("invalid response: error needs an integer code and a string message"),
                               known_id)
        if fid is not None and known_id is None:
            raise _frame_error(FrameError('invalid response: "id" must be a string, an integer or null'))
    elif known_id is None:
        raise _frame_error(FrameError('invalid response: "id" must be a string or an integer'))
    return "response"


def decode(line: bytes | bytearray, *, max_depth: int = DEFAULT_MAX_DEPTH) -> tuple[dict[str, Any], MessageKind]:
    """Parse and check one frame: ``(message, kind)``.

    Raises :class:`MalformedFrame` (-32700), :class:`FrameTooDeep` or :class:`FrameError` (-32600). When the frame
    parsed and carried a valid id, :func:`frame_id` of the error returns it (for an answer under that id).
    """
    msg = parse(line, max_depth)
    return msg, classify(msg)


def encode(msg: dict[str, Any]) -> bytes:
    """Serialize one message as a single UTF-8 line ending in ``\\n`` (orjson escapes every control character, so
    no raw newline can appear inside). Raises :class:`FrameError` when the value cannot be serialized."""
    try:
        return orjson.dumps(msg, option=orjson.OPT_APPEND_NEWLINE)
    except (orjson.JSONEncodeError, TypeError):
        raise FrameError("frame could not be serialized", reason="frame_unserializable") from None


def error_response(request_id: str | int | None, error: dict[str, Any]) -> dict[str, Any]:
    """A JSON-RPC 2.0 error response (§5, §5.1): ``{"jsonrpc": "2.0", "id": request_id, "error": error}``."""
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def oversize_error(max_frame_bytes: int) -> FrameTooLarge:
    """The error for a line longer than ``max_frame_bytes`` bytes (-32600, reason ``frame_too_large``)."""
    return _frame_error(FrameTooLarge(f"frame exceeds the limit of {max_frame_bytes} bytes",
                                      data={"limit": max_frame_bytes}))  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Limits:
    """Framing limits: ``max_frame_bytes`` (bytes per line, excluding the ``\\n``) and ``max_depth`` (nested
    containers, the top-level message counting as 1)."""

    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH


__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_FRAME_BYTES",
    "OVERSIZE",
    "PREFIX_BYTES",
    "Oversize",
    "Limits",
    "LineSplitter",
    "MessageKind",
    "classify",
    "decode",
    "encode",
    "error_response",
    "frame_id",
    "oversize_error",
    "parse",
    "peek_id",
]
