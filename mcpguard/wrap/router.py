"""Frame routing for the stdio wrapper: one decoded line in, protected frames out, with in-flight tracking.

:class:`Router` is pure and synchronous (no I/O): :meth:`Router.client_frame` and :meth:`Router.child_frame` take
one line (or an :class:`~mcpguard.jsonrpc.framing.Oversize` marker) from the client or from the server, run it
through the pipeline and append what must be written to :attr:`Router.to_child` / :attr:`Router.to_client` as whole
serialized frames; the session (:mod:`mcpguard.wrap.session`) does the writing. Requests are tracked per direction so
a response is protected knowing the method it answers, and so every open client request can be answered when the
child dies (:meth:`Router.fail_in_flight`).

Fail closed: when the pipeline cannot protect a frame (audit unavailable, internal error) the frame is not forwarded
and the waiting side gets an error. Nothing received is ever echoed: errors name reasons, never values.

Streams (``hold_streams=True``): server→client ``notifications/progress`` (keyed by ``progressToken``, text
``params.message``) and ``notifications/message`` (keyed by ``logger``, text ``params.data`` when it is a string) go
through a :class:`~mcpguard.detect.stream.StreamTable` from the pipeline, so a value split across two notifications
of one stream is found and both parts are protected: each notification is held until the next of its stream shows
that no value can still cross its end, or until :data:`HOLD_SECONDS` pass (the session's timer calls
:meth:`Router.release_due`, and only once the server has been quiet that long: see :mod:`mcpguard.wrap.session`). A
progress stream ends (held notifications released, state dropped) before the response to the request that carried
its token is forwarded, or when that request is cancelled; every stream ends when the child goes
(:meth:`Router.release_all`). Order is kept within each stream; a held notification may reach the client after
frames of other streams.

A private key sent one line per notification outruns the stream scan: its header leaves the scan window after about
a line, and base64 lines alone match nothing. :class:`PemStreams` therefore follows each stream like the stderr
filter's :class:`~mcpguard.wrap.stderr.PemGate`: after a chunk shows a ``-----BEGIN … PRIVATE KEY-----`` header
without its ``-----END …-----`` line, every following chunk of the stream is key material up to and including the
END line (bounded by :data:`MAX_PEM_CHARS`), and is protected as a ``private_key`` finding over that text — the
policy decides what becomes of it (by default ``private_key`` is hard-blocked: the notification is dropped), and the
audit records it like any finding.
"""

from __future__ import annotations

import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from mcpguard.errors import FrameError, MCPGuardError
from mcpguard.jsonrpc.framing import (
    Limits,
    Oversize,
    decode,
    encode,
    error_response,
    frame_id,
    oversize_error,
    peek_id,
)
from mcpguard.types import Category, Context, Direction, Finding, Outcome
from mcpguard.wrap.inflight import InFlight, Pending

C2S = Direction.CLIENT_TO_SERVER
S2C = Direction.SERVER_TO_CLIENT

#: JSON-RPC code for wrapper-generated failures that are not frame errors (implementation-defined server error
#: range, JSON-RPC 2.0 §5.1).
SERVER_EXITED_CODE = -32000
#: Code of a frame refused by policy when the pipeline gave no error object of its own.
BLOCKED_CODE = -32001
#: How long a notification may be held waiting for the next one of its stream (seconds): the longest delay the
#: cross-notification scan adds, and the pause in a stream after which a split value's first part is let go.
HOLD_SECONDS = 0.05
#: Open notification streams kept at once (least recently used ones are ended beyond that).
MAX_STREAMS = 256
#: Frame bytes held back over all streams at most (beyond, the oldest streams are released early).
MAX_HELD_BYTES = 8 << 20
#: Characters of a notification stream taken as key material after a private key header without its END line; past
#: this the gate closes (the detector's own bound on one PEM block; the longest real keys are about 13 KiB).
MAX_PEM_CHARS = 64 * 1024
#: Rule id of the findings :class:`PemStreams` makes (the engine's PEM rule is ``pem.private_key``).
PEM_STREAM_RULE = "pem.private_key.stream"


class Protector(Protocol):
    """The pipeline surface the wrapper uses (:class:`mcpguard.pipeline.Pipeline`)."""

    def protect(self, message: dict[str, Any], ctx: Context, *, carried: Sequence[Finding] = ()) -> Outcome:
        """:meth:`mcpguard.pipeline.Pipeline.protect`: one parsed JSON-RPC message in, an Outcome out (``carried``
        only when the pipeline offers ``stream_table``)."""
        ...

    def protect_text(self, text: str, ctx: Context) -> tuple[str, list[Any]]:
        """:meth:`mcpguard.pipeline.Pipeline.protect_text`: plain text (a stderr line) in, protected text out."""
        ...


def _error(message: str, reason: str, code: int = -32600, **data: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"reason": reason, **data}}


BLOCKED_ERROR = _error("blocked by mcpguard policy", "blocked", BLOCKED_CODE)
DUPLICATE_ID_ERROR = _error("invalid request: this id is already in flight", "duplicate_id")
TOO_MANY_ERROR = _error("too many requests in flight", "too_many_in_flight", -32000)


# At least as wide as the engine's header (``pem.private_key``: also ``PGP PRIVATE KEY BLOCK``, ``ENCRYPTED``) and
# bounded, so a line cut over two chunks is found with a short carried tail.
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]{0,64}PRIVATE KEY[A-Z ]{0,16}-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]{0,64}PRIVATE KEY[A-Z ]{0,16}-----")
#: Characters carried from one chunk to the next: longer than the longest header or END line the patterns match.
_PEM_TAIL = 128


class _PemState(NamedTuple):
    tail: str  # the stream's last characters after the last header/END line seen (a line cut across chunks)
    header: str | None  # the open block's header line, None when no block is open
    seen: int  # characters of the open block so far


_KEY_LINE = re.compile(r"[A-Za-z0-9+/=]{40,}|Proc-Type:|DEK-Info:|-----")


def _looks_like_prose(text: str) -> bool:
    """True when ``text`` holds something but nothing of a PEM body: no run of 40+ base64 characters (body lines are
    64), no ``Proc-Type:``/``DEK-Info:`` header field, no ``-----`` of an armour line."""
    return bool(text.strip()) and _KEY_LINE.search(text) is None


class PemStreams:
    """Which notification streams are inside a private key block, fed each chunk's text in stream order.

    :meth:`feed` says how many leading characters of a chunk are key material of a block opened by an *earlier*
    chunk: the whole chunk, or up to and including the END line when the block ends in it. (The chunk holding the
    header is the engine's: a header without its END line is reported to the end of the text.) A header or END line
    cut across chunks is found through a short carried tail. A block longer than ``max_chars`` closes its gate
    (:meth:`feed` then reports ``overrun``). At most ``max_streams`` streams are followed; beyond, the least recently
    fed stream without an open block is forgotten first. Memory: ``max_streams`` × :data:`_PEM_TAIL` characters.
    """

    __slots__ = ("_state", "max_streams", "max_chars")

    def __init__(self, max_streams: int = MAX_STREAMS, max_chars: int = MAX_PEM_CHARS) -> None:
        self._state: OrderedDict[Hashable, _PemState] = OrderedDict()
        self.max_streams = max_streams
        self.max_chars = max_chars

    def __len__(self) -> int:
        return len(self._state)

    def is_open(self, key: Hashable) -> bool:
        """True while stream ``key`` is inside a private key block."""
        state = self._state.get(key)
        return state is not None and state.header is not None

    def feed(self, key: Hashable, text: str) -> tuple[int, str | None, bool]:
        """Take the next chunk of stream ``key``: returns ``(covered, header, overrun)`` — the number of leading
        characters of ``text`` inside a block opened by an earlier chunk (0 when none), that block's header line,
        and whether the block ran past ``max_chars`` without its END line (its gate is closed now)."""
        state = self._state.pop(key, None) or _PemState("", None, 0)
        joined = state.tail + text
        base = len(state.tail)
        header, seen = state.header, state.seen
        if header is not None and _PEM_END.search(joined, 0) is None and _looks_like_prose(text):
            # Inside a block, but nothing here looks like key material (no base64 line, no PEM header field): the
            # block was a mention or ended unmarked. Close the gate rather than silence the stream for 64 KiB.
            header, seen = None, 0
        opened_before = header  # the block (if any) this chunk starts inside
        first_header = header
        covered, pos, overrun = 0, 0, False
        while True:
            if header is None:
                m = _PEM_BEGIN.search(joined, pos)
                if m is None:
                    break
                header, seen, pos = m.group(), 0, m.end()
                if m.start() < base and opened_before is None and covered == 0:
                    # The header began in the previous chunk and ends in this one: this chunk is inside the block
                    # from its start (the engine sees no header in it alone).
                    opened_before = first_header = header
                continue
            m = _PEM_END.search(joined, pos)
            end = len(joined) if m is None else m.end()
            seen += end - max(pos, base)
            if opened_before is not None:
                covered = end - base  # key material of the earlier block, through its END line
                opened_before = None
            if m is None:
                if seen > self.max_chars:
                    header, overrun = None, True
                    pos = len(joined)
                break
            header, pos = None, m.end()
        self._state[key] = _PemState(joined[max(pos, len(joined) - _PEM_TAIL):], header, seen)
        self._bound()
        return covered, first_header, overrun

    def end(self, key: Hashable) -> None:
        """Forget stream ``key`` (it ended)."""
        self._state.pop(key, None)

    def clear(self) -> None:
        """Forget every stream."""
        self._state.clear()

    def _bound(self) -> None:
        if len(self._state) <= self.max_streams:
            return
        for key, state in self._state.items():
            if state.header is None:
                del self._state[key]  # a stream outside any block loses only a short tail
                return
        self._state.popitem(last=False)


class _Chunk(NamedTuple):
    """A held stream notification: the message and what :class:`PemStreams` said of it at push time."""

    msg: dict[str, Any]
    pem: Finding | None  # the key material it carries (a finding over its text), or None
    withhold: bool  # inside a key block, with a text field that is not a string: not forwarded


class Notices:
    """Value-free diagnostics on the wrapper's stderr, rate-limited per kind (a noisy child cannot flood the log)."""

    FIRST = 10
    EVERY = 1000

    def __init__(self, fd: int = 2) -> None:
        self.fd = fd
        self.counts: dict[str, int] = {}

    def __call__(self, kind: str, text: str | None = None) -> None:
        n = self.counts.get(kind, 0) + 1
        self.counts[kind] = n
        if n > self.FIRST and n % self.EVERY:
            return
        suffix = f" ({n} so far)" if n > self.FIRST else ""
        try:
            os.write(self.fd, f"mcpguard: {text or kind}{suffix}\n".encode("utf-8", "replace"))
        except OSError:
            pass


def _tool_of(msg: Mapping[str, Any], method: str) -> str | None:
    if method != "tools/call":
        return None
    params = msg.get("params")
    name = params.get("name") if type(params) is dict else None
    return name if type(name) is str else None


def _progress_token(msg: Mapping[str, Any]) -> Hashable | None:
    """A request's ``params._meta.progressToken`` (string or integer), else None."""
    params = msg.get("params")
    meta = params.get("_meta") if type(params) is dict else None
    token = meta.get("progressToken") if type(meta) is dict else None
    return token if type(token) is str or type(token) is int else None


def _cancelled_id(cancel: Mapping[str, Any]) -> str | int | None:
    params = cancel.get("params")
    rid = params.get("requestId") if type(params) is dict else None
    return rid if type(rid) is str or type(rid) is int else None


def _field(msg: Mapping[str, Any], path: str) -> Any:
    """The value at ``/params/<name>`` (``path``) of a notification, or None."""
    params = msg.get("params")
    return params.get(path.rsplit("/", 1)[-1]) if type(params) is dict else None


def _forget(table: InFlight, cancel: Mapping[str, Any]) -> None:
    # A cancelled request gets no response (MCP "Utilities › Cancellation"); keeping it would leak a table slot.
    # A response that arrives anyway is then dropped as unsolicited, which is what the requester wants.
    params = cancel.get("params")
    rid = params.get("requestId") if type(params) is dict else None
    if type(rid) is str or type(rid) is int:
        table.pop(rid)


class Router:
    """Routes frames between the client and the server through ``pipeline``.

    ``server`` names the server in contexts; ``limits`` are the framing limits; ``note(kind, text)`` receives
    value-free diagnostics. After each call, :attr:`to_client` and :attr:`to_child` hold the serialized frames
    (bytes ending in ``\\n``) to write, in order; the caller empties them.

    ``hold_streams`` turns on cross-notification detection (module docstring) when the pipeline has
    ``stream_table``; the caller must then call :meth:`release_due` by :meth:`next_release` and :meth:`release_all`
    at the end. ``clock`` (seconds, monotonic) times the holds.
    """

    def __init__(self, pipeline: Protector, *, server: str, limits: Limits = Limits(),
                 note: Callable[..., None] = lambda kind, text=None: None, hold_streams: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pipeline = pipeline
        self.server = server
        self.limits = limits
        self.note = note
        self.client_inflight = InFlight()
        self.server_inflight = InFlight()
        self.to_client: list[bytes] = []
        self.to_child: list[bytes] = []
        self.clock = clock
        factory = getattr(pipeline, "stream_table", None) if hold_streams else None
        #: Held server→client notification streams, or None when not holding.
        self.streams = factory(max_streams=MAX_STREAMS, max_held_size=MAX_HELD_BYTES,
                               hold_seconds=HOLD_SECONDS) if callable(factory) else None
        self._progress_of: dict[str | int, Hashable] = {}  # open client request id -> its progress stream key
        #: Private key blocks open in notification streams (with :attr:`streams` only).
        self.pem = PemStreams() if self.streams is not None else None

    # -- held notification streams -------------------------------------------------------------------------------

    @property
    def holding(self) -> int:
        """Notifications held back (0 when not holding streams)."""
        return self.streams.holding if self.streams is not None else 0

    def next_release(self) -> float | None:
        """When (``clock`` seconds) :meth:`release_due` has something to release, or None."""
        return self.streams.next_due() if self.streams is not None else None

    def release_due(self, now: float | None = None) -> None:
        """Protect and queue the notifications held for :data:`HOLD_SECONDS` without a successor."""
        if self.streams is not None:
            self._deliver(self.streams.release_due(self.clock() if now is None else now))

    def release_all(self) -> None:
        """End every stream: protect and queue everything held (the child is gone or the session ends)."""
        if self.streams is not None:
            self._deliver(self.streams.end_all())
        if self.pem is not None:
            self.pem.clear()

    def _end_progress(self, rid: str | int) -> None:
        key = self._progress_of.pop(rid, None)
        if key is not None and self.streams is not None:
            self._deliver(self.streams.end(key))
            if self.pem is not None:
                self.pem.end(key)

    def _deliver(self, released: Sequence[Any]) -> None:
        for chunk, carried in released:
            msg = chunk.msg
            if chunk.withhold:
                self.note("pem_withheld", "a notification inside a private key block was withheld")
                continue
            if chunk.pem is not None:
                carried = [*carried, chunk.pem]
            outcome = self._protect(msg, Context(S2C, method=msg["method"], server=self.server), carried)
            if isinstance(outcome, Outcome) and outcome.kind == "forward":
                data = self._encoded(outcome.message, None)
                if data is not None:
                    self.to_client.append(data)

    def _gate(self, key: Hashable, msg: dict[str, Any], path: str, text: str) -> _Chunk:
        """Feed a stream notification's text to :attr:`pem` (in stream order, before it is held) and wrap it with the
        verdict: a ``private_key`` finding over the key material it carries, or ``withhold`` when it is inside a block
        but its text field holds something other than a string (structured log data: nothing to place a finding
        on)."""
        assert self.pem is not None
        inside = self.pem.is_open(key)
        covered, header, overrun = self.pem.feed(key, text)
        if overrun:
            self.note("pem_overrun", f"a private key block in a notification stream ran past {MAX_PEM_CHARS} "
                                     "characters without its END line; the stream is no longer treated as key "
                                     "material")
        value = _field(msg, path)
        if inside and value is not None and type(value) is not str:
            return _Chunk(msg, None, True)
        if covered <= 0 or header is None:
            return _Chunk(msg, None, False)
        part = text[:covered]
        # ``value`` (never written anywhere: the audit keeps a keyed fingerprint) is the block as far as this chunk
        # shows it, longer than the part, so the pipeline treats it as one part of a split value: redacted, never
        # masked (a mask would show the tail of every line).
        finding = Finding(type="private_key", rule=PEM_STREAM_RULE, category=Category.SECRET, path=path, start=0,
                          end=covered, confidence=0.9, value=header + "\n" + part)
        return _Chunk(msg, finding, False)

    def _stream_of(self, msg: Mapping[str, Any], method: str) -> tuple[Hashable, str, str] | None:
        """``(key, path, text)`` of a server notification that belongs to a stream, else None."""
        params = msg.get("params")
        if type(params) is not dict:
            return None
        if method == "notifications/progress":
            token = params.get("progressToken")
            if type(token) is not str and type(token) is not int:
                return None
            text = params.get("message")
            return ("progress", token), "/params/message", text if type(text) is str else ""
        if method == "notifications/message":
            logger = params.get("logger")
            if logger is not None and type(logger) is not str:
                return None
            data = params.get("data")
            return ("log", logger), "/params/data", data if type(data) is str else ""
        return None

    def fail_in_flight(self, status: int) -> int:
        """Answer every open client request with a ``server_exited`` error (the server is gone); returns how many.
        Held notifications are released first."""
        self.release_all()
        self._progress_of.clear()
        pending = self.client_inflight.drain()
        err = _error(f"MCP server exited (status {status}) before answering", "server_exited",
                     SERVER_EXITED_CODE, exit_status=status)
        for request_id, _ in pending:
            self.to_client.append(encode(error_response(request_id, err)))
        return len(pending)

    def _protect(self, msg: dict[str, Any], ctx: Context, carried: Sequence[Finding] = ()) -> Outcome | MCPGuardError:
        try:
            if carried:
                return self.pipeline.protect(msg, ctx, carried=carried)
            return self.pipeline.protect(msg, ctx)  # type: ignore[union-attr]
        except MCPGuardError as err:
            self.note(f"refused:{err.reason}", f"frame refused ({err.reason})")
            return err
        except Exception as exc:  # noqa: BLE001 - fail closed; the exception text may quote the frame
            self.note("internal", f"internal error while protecting a frame ({type(exc).__name__}); refused")
            return MCPGuardError("mcpguard could not protect this frame; it was not forwarded")

    def _reply(self, out: list[bytes], request_id: str | int | None, error: dict[str, Any]) -> None:
        out.append(encode(error_response(request_id, error)))

    def _encoded(self, message: dict[str, Any] | None, request_id: str | int | None) -> bytes | None:
        """Serialize a pipeline output; ``None`` (with a notice) when it cannot be."""
        if message is None:
            return None
        if request_id is not None and message.get("id") != request_id:
            message = {**message, "id": request_id}
        try:
            return encode(message)
        except FrameError:
            self.note("unserializable", "a protected frame could not be serialized; refused")
            return None

    def client_frame(self, item: bytes | object) -> None:
        """Handle one frame (bytes, or an ``Oversize`` marker) from the client: parse strictly, protect, and queue
        the result toward the child or an error toward the client."""
        to_client = self.to_client
        if isinstance(item, Oversize):
            self.note("client_oversize", "client frame over the size limit refused")
            rid = peek_id(item.prefix)
            # Answer under the request's id when its prefix names one (and it is not already in flight).
            if rid is not None and rid in self.client_inflight:
                rid = None
            self._reply(to_client, rid, oversize_error(self.limits.max_frame_bytes).jsonrpc_error())
            return
        try:
            msg, kind = decode(item, max_depth=self.limits.max_depth)  # type: ignore[arg-type]
        except FrameError as err:
            self.note(f"client_invalid:{err.reason}", f"invalid client frame refused ({err.reason})")
            self._reply(to_client, frame_id(err), err.jsonrpc_error())
            return
        if kind == "request":
            rid = msg["id"]
            method = msg["method"]
            if rid in self.client_inflight:
                # Answering under the reused id would resolve the first request with this error.
                self._reply(to_client, None, DUPLICATE_ID_ERROR)
                return
            if self.client_inflight.full():
                self._reply(to_client, rid, TOO_MANY_ERROR)
                return
            tool = _tool_of(msg, method)
            outcome = self._protect(msg, Context(C2S, method=method, server=self.server, tool=tool, request_id=rid))
            if isinstance(outcome, MCPGuardError):
                self._reply(to_client, rid, outcome.jsonrpc_error())
            elif outcome.kind == "forward":
                data = self._encoded(outcome.message, rid)
                if data is None:
                    self._reply(to_client, rid, BLOCKED_ERROR)
                    return
                self.client_inflight.add(rid, Pending(method, tool))
                self.to_child.append(data)
                if self.streams is not None:
                    token = _progress_token(msg)
                    if token is not None:
                        self._progress_of[rid] = ("progress", token)
            else:
                self._reply(to_client, rid, outcome.error or BLOCKED_ERROR)
        elif kind == "notification":
            method = msg["method"]
            outcome = self._protect(msg, Context(C2S, method=method, server=self.server))
            if isinstance(outcome, Outcome) and outcome.kind == "forward":
                data = self._encoded(outcome.message, None)
                if data is not None:
                    self.to_child.append(data)
                    if method == "notifications/cancelled":
                        _forget(self.client_inflight, msg)
                        rid = _cancelled_id(msg)
                        if rid is not None:
                            self._end_progress(rid)
        else:
            rid = msg["id"]
            pending = self.server_inflight.pop(rid) if rid is not None else None
            if pending is None:
                self.note("client_unsolicited", "client response to no open server request dropped")
                return
            outcome = self._protect(msg, Context(C2S, method=pending.method, server=self.server, request_id=rid))
            self._answer(self.to_child, rid, outcome)

    def child_frame(self, item: bytes | object) -> None:
        """Handle one frame (bytes, or an ``Oversize`` marker) from the child: invalid output is dropped with a
        value-free notice; valid frames are protected and queued toward the client."""
        if isinstance(item, Oversize):
            self.note("server_oversize", "server frame over the size limit dropped")
            # If it names an open client request, that request is answered with the error instead of hanging.
            rid = peek_id(item.prefix)
            if rid is not None and self.client_inflight.pop(rid) is not None:
                self._end_progress(rid)
                err = oversize_error(self.limits.max_frame_bytes).jsonrpc_error()
                err["message"] = "the server's response exceeds the frame size limit; it was dropped"
                self._reply(self.to_client, rid, err)
            return
        try:
            msg, kind = decode(item, max_depth=self.limits.max_depth)  # type: ignore[arg-type]
        except FrameError as err:
            # Never forwarded and never quoted: a non-JSON line from the child may be a secret it printed.
            self.note(f"server_invalid:{err.reason}", f"invalid server output dropped ({err.reason})")
            return
        if kind == "response":
            rid = msg["id"]
            if rid is None:
                outcome = self._protect(msg, Context(S2C, server=self.server))
                if isinstance(outcome, Outcome) and outcome.kind == "forward":
                    data = self._encoded(outcome.message, None)
                    if data is not None:
                        self.to_client.append(data)
                return
            pending = self.client_inflight.pop(rid)
            if pending is None:
                self.note("server_unsolicited", "server response to no open client request dropped")
                return
            self._end_progress(rid)  # its progress notifications go first; none may follow the response
            outcome = self._protect(
                msg, Context(S2C, method=pending.method, server=self.server, tool=pending.tool, request_id=rid)
            )
            self._answer(self.to_client, rid, outcome)
        elif kind == "request":
            rid = msg["id"]
            method = msg["method"]
            if rid in self.server_inflight:
                self._reply(self.to_child, None, DUPLICATE_ID_ERROR)
                return
            if self.server_inflight.full():
                self._reply(self.to_child, rid, TOO_MANY_ERROR)
                return
            outcome = self._protect(msg, Context(S2C, method=method, server=self.server, request_id=rid))
            if isinstance(outcome, MCPGuardError):
                self._reply(self.to_child, rid, outcome.jsonrpc_error())
            elif outcome.kind == "forward":
                data = self._encoded(outcome.message, rid)
                if data is None:
                    self._reply(self.to_child, rid, BLOCKED_ERROR)
                    return
                self.server_inflight.add(rid, Pending(method))
                self.to_client.append(data)
            else:
                self._reply(self.to_child, rid, outcome.error or BLOCKED_ERROR)
        else:
            method = msg["method"]
            stream = self._stream_of(msg, method) if self.streams is not None else None
            if stream is not None:
                key, path, text = stream
                chunk = self._gate(key, msg, path, text)
                try:
                    released = self.streams.push(  # type: ignore[union-attr]
                        key, chunk, text, path=path, now=self.clock(), size=len(item))  # type: ignore[arg-type]
                except Exception as exc:  # noqa: BLE001 - fail closed: an unscanned notification is not forwarded
                    self.note("internal", f"internal error while scanning a notification stream "
                                          f"({type(exc).__name__}); notification dropped")
                    return
                self._deliver(released)
                return
            outcome = self._protect(msg, Context(S2C, method=method, server=self.server))
            if isinstance(outcome, Outcome) and outcome.kind == "forward":
                data = self._encoded(outcome.message, None)
                if data is not None:
                    self.to_client.append(data)
                    if method == "notifications/cancelled":
                        _forget(self.server_inflight, msg)

    def _answer(self, out: list[bytes], rid: str | int, outcome: Outcome | MCPGuardError) -> None:
        """Deliver the protected response to the side waiting for ``rid``; on any refusal that side still gets an
        answer (the replacement result, else an error)."""
        if isinstance(outcome, MCPGuardError):
            self._reply(out, rid, outcome.jsonrpc_error())
            return
        if outcome.kind in ("forward", "reject"):
            data = self._encoded(outcome.message, rid)
            if data is not None:
                out.append(data)
                return
        self._reply(out, rid, outcome.error or BLOCKED_ERROR)



__all__ = ["BLOCKED_CODE", "HOLD_SECONDS", "MAX_HELD_BYTES", "MAX_PEM_CHARS", "MAX_STREAMS", "Notices",
           "PEM_STREAM_RULE", "PemStreams", "Protector", "Router", "SERVER_EXITED_CODE"]
