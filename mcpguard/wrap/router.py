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
:meth:`Router.release_due`). A progress stream ends (held notifications released, state dropped) before the response
to the request that carried its token is forwarded, or when that request is cancelled; every stream ends when the
child goes (:meth:`Router.release_all`). Order is kept within each stream; a held notification may reach the client
after frames of other streams.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Protocol

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
from mcpguard.types import Context, Direction, Finding, Outcome
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

    def _end_progress(self, rid: str | int) -> None:
        key = self._progress_of.pop(rid, None)
        if key is not None and self.streams is not None:
            self._deliver(self.streams.end(key))

    def _deliver(self, released: Sequence[Any]) -> None:
        for msg, carried in released:
            outcome = self._protect(msg, Context(S2C, method=msg["method"], server=self.server), carried)
            if isinstance(outcome, Outcome) and outcome.kind == "forward":
                data = self._encoded(outcome.message, None)
                if data is not None:
                    self.to_client.append(data)

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
                try:
                    released = self.streams.push(key, msg, text, path=path, now=self.clock(),  # type: ignore[union-attr]
                                                 size=len(item))  # type: ignore[arg-type]
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



__all__ = ["BLOCKED_CODE", "HOLD_SECONDS", "MAX_HELD_BYTES", "MAX_STREAMS", "Notices", "Protector", "Router",
           "SERVER_EXITED_CODE"]
