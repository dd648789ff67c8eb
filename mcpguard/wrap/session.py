"""One wrapped server: the child, the two frame pumps, the stderr filter, in-flight tracking and shutdown.

::

    client stdin ──▶ LineSplitter ─▶ decode ─▶ protect(client_to_server) ─▶ encode ──▶ child stdin
    client stdout ◀── encode ◀─ protect(server_to_client) ◀─ decode ◀─ LineSplitter ◀── child stdout
    wrapper stderr ◀── protect_text ◀─ LineCutter ◀── child stderr          (filter mode)

Every frame is parsed strictly once and what is forwarded is a re-serialization (:mod:`mcpguard.jsonrpc.framing`);
invalid client frames are answered with a JSON-RPC error (id null unless safely known) and never echoed; invalid
child frames are dropped with a value-free notice on the wrapper's stderr. Requests are tracked per direction so a
response is protected knowing the method it answers, and so every open client request is answered when the child
dies. The wrapper fails closed: when the pipeline cannot protect a frame (audit unavailable, internal error) the
frame is not forwarded and the waiting side gets an error.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mcpguard.errors import FrameError, MCPGuardError
from mcpguard.jsonrpc.framing import (
    Limits,
    Oversize,
    LineSplitter,
    decode,
    encode,
    error_response,
    frame_id,
    oversize_error,
    peek_id,
)
from mcpguard.types import Context, Direction, Outcome
from mcpguard.wrap.child import Child, exit_status, spawn_failed, start
from mcpguard.wrap.env import child_env
from mcpguard.wrap.inflight import InFlight, Pending
from mcpguard.wrap.settings import SpawnSettings
from mcpguard.wrap.stderr import LineCutter, PemGate, decode_piece
from mcpguard.wrap.streams import ByteSink, open_reader

C2S = Direction.CLIENT_TO_SERVER
S2C = Direction.SERVER_TO_CLIENT

#: JSON-RPC code for wrapper-generated failures that are not frame errors (implementation-defined server error
#: range, JSON-RPC 2.0 §5.1).
SERVER_EXITED_CODE = -32000
#: Code of a frame refused by policy when the pipeline gave no error object of its own.
BLOCKED_CODE = -32001
#: After the child exits, how long its remaining stdout may take to drain before open requests are failed (s).
STDOUT_DRAIN_SECONDS = 0.2


class Protector(Protocol):
    """The pipeline surface the wrapper uses (:class:`mcpguard.pipeline.Pipeline`)."""

    def protect(self, message: dict[str, Any], ctx: Context) -> Outcome: ...

    def protect_text(self, text: str, ctx: Context) -> tuple[str, list[Any]]: ...


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the wrapper needs once the config is validated: the ``pipeline``, framing ``limits`` and the shutdown
    ``grace`` in seconds."""

    pipeline: Protector
    limits: Limits = Limits()
    grace: float = 2.0
    #: The server's name for contexts (audit, tokens, pins), when known only after validation.
    server: str | None = None


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


def _forget(table: InFlight, cancel: Mapping[str, Any]) -> None:
    # A cancelled request gets no response (MCP "Utilities › Cancellation"); keeping it would leak a table slot.
    # A response that arrives anyway is then dropped as unsolicited, which is what the requester wants.
    params = cancel.get("params")
    rid = params.get("requestId") if type(params) is dict else None
    if type(rid) is str or type(rid) is int:
        table.pop(rid)


class Wrapper:
    """Run ``argv`` as a child MCP server behind the protection pipeline.

    ``spawn_settings`` gives the stderr mode and child environment; ``server`` names the server in contexts;
    ``prepare`` (called once, after the child is spawned) validates the config and builds the pipeline, raising
    :class:`MCPGuardError` on failure; ``environ`` is the wrapper's environment (scrubbed for the child).
    ``client_in``/``client_out``/``diag_fd`` are the client's pipes and the wrapper's stderr. ``popen`` is the child
    when the caller already started it (:func:`mcpguard.wrap.child.start`, before the heavy imports).
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        spawn_settings: SpawnSettings,
        server: str,
        prepare: Callable[[], Prepared],
        environ: Mapping[str, str],
        client_in: int = 0,
        client_out: int = 1,
        diag_fd: int = 2,
        cwd: str | None = None,
        popen: Any = None,
    ) -> None:
        self.argv = list(argv)
        self.spawn_settings = spawn_settings
        self.server = server
        self.prepare = prepare
        self.environ = environ
        self.client_in = client_in
        self.client_out = client_out
        self.diag_fd = diag_fd
        self.cwd = cwd
        self.popen = popen
        self.note = Notices(diag_fd)
        self.client_inflight = InFlight()
        self.server_inflight = InFlight()
        self.pipeline: Protector | None = None
        self.limits = Limits()
        self.grace = 2.0
        self.child: Child | None = None
        self.sink = ByteSink(client_out)
        self._to_client: list[bytes] = []
        self._to_child: list[bytes] = []
        self._client_done: asyncio.Event | None = None
        self._escalate: asyncio.Event | None = None
        self._signalled = 0
        self._pem = PemGate()

    # --- lifecycle ------------------------------------------------------------------------------------------------

    async def run(self) -> int:
        """Spawn, pump until the client leaves or the child exits, shut down; return the exit status (the child's,
        128+N for a signal; an :class:`MCPGuardError`'s ``exit_code`` when the config or pipeline failed)."""
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._loop_error)
        self._client_done = asyncio.Event()
        self._escalate = asyncio.Event()
        if self.popen is None:
            env = child_env(self.environ, passthrough=self.spawn_settings.env_passthrough,
                            extra=self.spawn_settings.env)
            try:
                self.popen = start(self.argv, env, stderr_mode=self.spawn_settings.stderr, cwd=self.cwd)
            except OSError as exc:
                return spawn_failed(exc, self.diag_fd)
        self.child = Child(self.popen)
        await self.child.attach()
        child = self.child
        tasks: list[asyncio.Task[Any]] = []
        try:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.add_signal_handler(sig, self._on_signal)
            # The child boots while the config is validated and the detection engine is built.
            try:
                prepared = self.prepare()
            except MCPGuardError as err:
                self.note("fatal", f"{err}; stopping the server")
                await self._stop_child()
                return err.exit_code
            except Exception as exc:  # noqa: BLE001 - no pipeline means nothing may pass; text may hold values
                self.note("fatal", f"cannot build the protection pipeline ({type(exc).__name__}); stopping the server")
                await self._stop_child()
                return 1
            self.pipeline = prepared.pipeline
            self.limits = prepared.limits
            self.grace = prepared.grace
            if prepared.server:
                self.server = prepared.server
            await self.sink.open()
            client_task = asyncio.create_task(self._client_pump())
            child_task = asyncio.create_task(self._child_pump())
            tasks = [client_task, child_task]
            stderr_task = None
            if child.read_stderr is not None:
                stderr_task = asyncio.create_task(self._stderr_pump())
                tasks.append(stderr_task)
            exited = asyncio.create_task(child.exited.wait())
            client_gone = asyncio.create_task(self._client_done.wait())
            tasks += [exited, client_gone]
            # The child's stdout ending (or its pump failing) while it lives also ends the session: nothing more
            # can answer the client.
            await asyncio.wait({exited, client_gone, child_task}, return_when=asyncio.FIRST_COMPLETED)
            if not child.exited.is_set():
                if self._signalled:
                    client_task.cancel()
                await self._stop_child()
            # Let responses the child wrote before exiting reach the client, then fail what is still open.
            await asyncio.wait({child_task}, timeout=STDOUT_DRAIN_SECONDS)
            client_task.cancel()
            child_task.cancel()
            await self._fail_in_flight(exit_status(child.returncode))
            await child.reap_group(0.2)
            if stderr_task is not None:
                await asyncio.wait({stderr_task}, timeout=0.1)
            await self.sink.flush(1.0)
            return exit_status(child.returncode)
        finally:
            for task in tasks:
                task.cancel()
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            if child.returncode is None or child.group_alive():
                child.signal_group(signal.SIGKILL)
            self.sink.close()

    def _on_signal(self) -> None:
        # First signal: orderly shutdown. A signal during shutdown skips the current wait (the caller is impatient:
        # the MCP client's own escalation is about to kill us, and the child must not outlive the wrapper).
        self._signalled += 1
        assert self._client_done is not None and self._escalate is not None
        if self._client_done.is_set():
            self._escalate.set()
        self._client_done.set()

    async def _wait_exit_or_escalate(self, timeout: float) -> bool:
        assert self.child is not None and self._escalate is not None
        if self.child.exited.is_set():
            return True
        exited = asyncio.ensure_future(self.child.exited.wait())
        escalate = asyncio.ensure_future(self._escalate.wait())
        await asyncio.wait({exited, escalate}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        exited.cancel()
        escalate.cancel()
        self._escalate.clear()
        return self.child.exited.is_set()

    async def _stop_child(self) -> None:
        """Close stdin, wait, SIGTERM the group, wait, SIGKILL the group (MCP lifecycle, stdio shutdown)."""
        child = self.child
        assert child is not None
        child.close_stdin()
        if await self._wait_exit_or_escalate(self.grace):
            return
        child.signal_group(signal.SIGTERM)
        if await self._wait_exit_or_escalate(min(self.grace, 1.0) if self._signalled > 1 else self.grace):
            return
        child.signal_group(signal.SIGKILL)
        await child.wait_exited(5.0)

    async def _fail_in_flight(self, status: int) -> None:
        """Answer every open client request: the server is gone."""
        pending = self.client_inflight.drain()
        if not pending:
            return
        err = _error(f"MCP server exited (status {status}) before answering", "server_exited",
                     SERVER_EXITED_CODE, exit_status=status)
        for request_id, _ in pending:
            self._to_client.append(encode(error_response(request_id, err)))
        self.note("server_exited", f"server exited; answered {len(pending)} open request(s) with an error")
        await self._flush()

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # asyncio's default handler prints reprs and tracebacks; keep the wrapper's stderr value-free.
        exc = context.get("exception")
        self.note("internal", f"internal error ({type(exc).__name__ if exc else 'event loop'})")

    # --- pumps ----------------------------------------------------------------------------------------------------

    async def _flush(self) -> None:
        if self._to_client:
            data = b"".join(self._to_client)
            self._to_client = []
            await self.sink.write(data)
            if self.sink.closed and self._client_done is not None:
                self._client_done.set()
        if self._to_child:
            data = b"".join(self._to_child)
            self._to_child = []
            child = self.child
            if child is None or child.stdin is None or child.stdin.closed or child.exited.is_set():
                return  # the child is gone; its exit answers the open requests
            await child.stdin.write(data)

    async def _client_pump(self) -> None:
        assert self._client_done is not None
        try:
            read = await open_reader(self.client_in)
            splitter = LineSplitter(self.limits.max_frame_bytes)
            while True:
                chunk = await read()
                if not chunk:
                    break
                for item in splitter.feed(chunk):
                    self._client_frame(item)
                await self._flush()
            for item in splitter.finish():
                self._client_frame(item)
            await self._flush()
        finally:
            self._client_done.set()

    async def _child_pump(self) -> None:
        assert self.child is not None
        read = self.child.read_stdout
        splitter = LineSplitter(self.limits.max_frame_bytes)
        while True:
            chunk = await read()
            if not chunk:
                break
            for item in splitter.feed(chunk):
                self._child_frame(item)
            await self._flush()
        for item in splitter.finish():
            self._child_frame(item)
        await self._flush()

    async def _stderr_pump(self) -> None:
        assert self.child is not None and self.child.read_stderr is not None
        read = self.child.read_stderr
        cutter = LineCutter()
        while True:
            chunk = await read()
            if not chunk:
                break
            for piece in cutter.feed(chunk):
                self._stderr_line(piece)
        for piece in cutter.finish():
            self._stderr_line(piece)

    def _stderr_line(self, piece: bytes) -> None:
        text = self._pem.feed(decode_piece(piece))
        if text is None:
            return
        try:
            text, _ = self.pipeline.protect_text(text, Context(S2C, method="stderr", server=self.server))  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - fail closed: withhold the line
            reason = exc.reason if isinstance(exc, MCPGuardError) else "internal_error"
            self.note("stderr_withheld", f"a server stderr line was withheld ({reason})")
            return
        try:
            os.write(self.diag_fd, (text + "\n").encode("utf-8", "replace"))
        except OSError:
            pass

    # --- frames ---------------------------------------------------------------------------------------------------

    def _protect(self, msg: dict[str, Any], ctx: Context) -> Outcome | MCPGuardError:
        try:
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

    def _client_frame(self, item: bytes | object) -> None:
        to_client = self._to_client
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
                self._to_child.append(data)
            else:
                self._reply(to_client, rid, outcome.error or BLOCKED_ERROR)
        elif kind == "notification":
            method = msg["method"]
            outcome = self._protect(msg, Context(C2S, method=method, server=self.server))
            if isinstance(outcome, Outcome) and outcome.kind == "forward":
                data = self._encoded(outcome.message, None)
                if data is not None:
                    self._to_child.append(data)
                    if method == "notifications/cancelled":
                        _forget(self.client_inflight, msg)
        else:
            rid = msg["id"]
            pending = self.server_inflight.pop(rid) if rid is not None else None
            if pending is None:
                self.note("client_unsolicited", "client response to no open server request dropped")
                return
            outcome = self._protect(msg, Context(C2S, method=pending.method, server=self.server, request_id=rid))
            self._answer(self._to_child, rid, outcome)

    def _child_frame(self, item: bytes | object) -> None:
        if isinstance(item, Oversize):
            self.note("server_oversize", "server frame over the size limit dropped")
            # If it names an open client request, that request is answered with the error instead of hanging.
            rid = peek_id(item.prefix)
            if rid is not None and self.client_inflight.pop(rid) is not None:
                err = oversize_error(self.limits.max_frame_bytes).jsonrpc_error()
                err["message"] = "the server's response exceeds the frame size limit; it was dropped"
                self._reply(self._to_client, rid, err)
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
                        self._to_client.append(data)
                return
            pending = self.client_inflight.pop(rid)
            if pending is None:
                self.note("server_unsolicited", "server response to no open client request dropped")
                return
            outcome = self._protect(
                msg, Context(S2C, method=pending.method, server=self.server, tool=pending.tool, request_id=rid)
            )
            self._answer(self._to_client, rid, outcome)
        elif kind == "request":
            rid = msg["id"]
            method = msg["method"]
            if rid in self.server_inflight:
                self._reply(self._to_child, None, DUPLICATE_ID_ERROR)
                return
            if self.server_inflight.full():
                self._reply(self._to_child, rid, TOO_MANY_ERROR)
                return
            outcome = self._protect(msg, Context(S2C, method=method, server=self.server, request_id=rid))
            if isinstance(outcome, MCPGuardError):
                self._reply(self._to_child, rid, outcome.jsonrpc_error())
            elif outcome.kind == "forward":
                data = self._encoded(outcome.message, rid)
                if data is None:
                    self._reply(self._to_child, rid, BLOCKED_ERROR)
                    return
                self.server_inflight.add(rid, Pending(method))
                self._to_client.append(data)
            else:
                self._reply(self._to_child, rid, outcome.error or BLOCKED_ERROR)
        else:
            method = msg["method"]
            outcome = self._protect(msg, Context(S2C, method=method, server=self.server))
            if isinstance(outcome, Outcome) and outcome.kind == "forward":
                data = self._encoded(outcome.message, None)
                if data is not None:
                    self._to_client.append(data)
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


def run_loop(coro: Any) -> Any:
    """Run ``coro`` to completion on uvloop when it is installed (lower per-frame latency), else on asyncio's own
    loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


__all__ = ["BLOCKED_CODE", "Notices", "Prepared", "Protector", "SERVER_EXITED_CODE", "Wrapper", "run_loop"]
