"""One wrapped server: the child, the two frame pumps, the stderr filter and shutdown.

::

    client stdin ──▶ LineSplitter ─▶ decode ─▶ protect(client_to_server) ─▶ encode ──▶ child stdin
    client stdout ◀── encode ◀─ protect(server_to_client) ◀─ decode ◀─ LineSplitter ◀── child stdout
    wrapper stderr ◀── protect_text ◀─ LineCutter ◀── child stderr          (filter mode)

The pumps read raw chunks and cut them into lines (:class:`~mcpguard.jsonrpc.framing.LineSplitter`); what each line
becomes — a protected frame forwarded, an error answered, a notice — is decided by the pure
:class:`~mcpguard.wrap.router.Router`, and the pumps write what it queued. This module owns the I/O and the
lifecycle: the child's exit (every open client request answered within 500 ms), client EOF and signals (stdin close,
SIGTERM, SIGKILL of the process group), and the stderr filter.

Three tasks write frames: the two pumps and the release timer, which lets go of notifications and stderr lines held
back by the router and the stderr filter (values split across chunks, docs/wrap.md). Writes to each pipe are
serialized by a lock, so frames keep their order and nobody queues more for a reader that is behind. The timer lets a
held chunk go only once its source has been quiet for the hold time: the pump reading that source is parked in
``read()`` with nothing of it left unprocessed (:class:`Quiet`), and, for notifications, the client is taking what is
written. A delay on the wrapper's side — a slow client, a backlog of frames to scan — is thus never mistaken for a
pause by the server inside a value.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcpguard.errors import MCPGuardError
from mcpguard.jsonrpc.framing import Limits, LineSplitter
from mcpguard.types import Direction
from mcpguard.wrap.child import Child, exit_status, spawn_failed, start
from mcpguard.wrap.env import child_env
from mcpguard.wrap.router import BLOCKED_CODE, SERVER_EXITED_CODE, Notices, Protector, Router
from mcpguard.wrap.settings import SpawnSettings

#: Seconds a held chunk's source (the child's stdout or stderr) must have been quiet — its pump parked in read()
#: with nothing queued or unread in the pipe — before the chunk may be released (see Wrapper._release_at).
QUIET_GRACE = 0.01
from mcpguard.wrap.stderr import LineCutter, StderrFilter
from mcpguard.wrap.streams import ByteSink, open_reader

S2C = Direction.SERVER_TO_CLIENT
#: After the child exits, how long its remaining stdout may take to drain before open requests are failed (s).
STDOUT_DRAIN_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the wrapper needs once the config is validated: the ``pipeline``, framing ``limits`` and the shutdown
    ``grace`` in seconds."""

    pipeline: Protector
    limits: Limits = Limits()
    grace: float = 2.0
    #: The server's name for contexts (audit, tokens, pins), when known only after validation.
    server: str | None = None
    #: Work that may be done ahead of need (e.g. compiling the tool guard's poisoning rules, needed only for the
    #: first ``tools/list`` result): run once, after the first frame reaches the client, so it delays neither
    #: start-up nor the ``initialize`` answer. Exceptions are ignored: the work happens on first use anyway.
    warm: Callable[[], object] | None = None


class Quiet:
    """Since when a pump's source has been quiet: the pump is parked in ``read()`` and nothing the source wrote is
    left unprocessed.

    The pump calls :meth:`park` just before each ``read()`` and :meth:`busy` when it returns, so :attr:`parked` is
    the monotonic time (s) it last went idle, or None while it handles a chunk (including waiting for the client to
    take what it wrote). ``reader`` is the pump's :class:`~mcpguard.wrap.streams.Reader` (or any callable; one
    without ``pending`` counts as having nothing pending); ``on_park`` is called on each park. Before the first
    park the source counts as quiet since time 0.
    """

    __slots__ = ("reader", "parked", "on_park")

    def __init__(self, reader: Any = None, on_park: Callable[[], None] = lambda: None) -> None:
        self.reader = reader
        self.parked: float | None = 0.0
        self.on_park = on_park

    def park(self) -> None:
        """The pump is about to wait in ``read()``: the source is idle from now (unless bytes are still pending)."""
        self.parked = time.monotonic()
        self.on_park()

    def busy(self) -> None:
        """``read()`` returned: the pump is handling a chunk, so the source does not count as quiet."""
        self.parked = None

    def since(self) -> float | None:
        """When the source went quiet (monotonic s), or None while it is not: the pump is at work, or bytes the
        source wrote wait for it (queued in the reader, or still in the pipe because the event loop, busy elsewhere,
        has not polled it yet)."""
        parked = self.parked
        if parked is None:
            return None
        pending = getattr(self.reader, "pending", None)
        if pending is not None and pending():
            return None
        return parked


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
        self.router: Router | None = None
        self.pipeline: Protector | None = None
        self.limits = Limits()
        self.grace = 2.0
        self.child: Child | None = None
        self.sink = ByteSink(client_out)
        self._client_done: asyncio.Event | None = None
        self._escalate: asyncio.Event | None = None
        self._signalled = 0
        self._stderr: StderrFilter | None = None
        #: Set when the release timer should look again: something is held, a pump parked, a write finished.
        self._wake: asyncio.Event | None = None
        #: One writer at a time per pipe (the pumps and the release timer all flush): frames keep their order.
        self._client_lock = asyncio.Lock()
        self._child_lock = asyncio.Lock()
        self._stdout_quiet = Quiet(on_park=self._poke)
        self._stderr_quiet = Quiet(on_park=self._poke)
        self._warm: Callable[[], object] | None = None

    # --- lifecycle ------------------------------------------------------------------------------------------------

    async def run(self) -> int:
        """Spawn, pump until the client leaves or the child exits, shut down; return the exit status (the child's,
        128+N for a signal; an :class:`MCPGuardError`'s ``exit_code`` when the config or pipeline failed)."""
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._loop_error)
        self._client_done = asyncio.Event()
        self._escalate = asyncio.Event()
        self._wake = asyncio.Event()
        if self.popen is None:
            env = child_env(self.environ, passthrough=self.spawn_settings.passthrough,
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
            self._warm = prepared.warm
            self.router = Router(self.pipeline, server=self.server, limits=self.limits, note=self.note,
                                 hold_streams=True)
            self._stderr = StderrFilter(self.pipeline, server=self.server, fd=self.diag_fd, note=self.note)
            await self.sink.open()
            client_task = asyncio.create_task(self._client_pump())
            child_task = asyncio.create_task(self._child_pump())
            tasks = [client_task, child_task, asyncio.create_task(self._release_timer())]
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
            self._stderr.finish()
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

    @staticmethod
    def _run_warm(warm: Callable[[], object]) -> None:
        try:
            warm()
        except Exception:  # noqa: BLE001 - optional work; it is done again (and fails closed) on first use
            pass

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
        """Release held notifications and answer every open client request: the server is gone."""
        n = self.router.fail_in_flight(status) if self.router is not None else 0
        if n:
            self.note("server_exited", f"server exited; answered {n} open request(s) with an error")
        await self._flush()

    async def _release_timer(self) -> None:
        """Let go of notifications and stderr lines held without a successor for their hold time (see the router and
        :class:`~mcpguard.wrap.stderr.StderrFilter`), counted from their push, once their source is quiet
        (:meth:`_release_at`)."""
        assert self._wake is not None
        while True:
            self._wake.clear()
            due = self._release_at()
            if due is None:
                await self._wake.wait()
                continue
            delay = due - time.monotonic()
            if delay > 0:
                try:  # a state change (a pump parks, the client catches up) may make something due sooner
                    await asyncio.wait_for(self._wake.wait(), delay)
                except TimeoutError:
                    pass
                continue
            self._release_ready(time.monotonic())
            await self._flush()

    def _router_quiet(self) -> float | None:
        """Since when the router's held notifications may be let go (monotonic s): the child's stdout has been quiet
        since then and the client is taking what is written; None while not."""
        if self.sink.paused:
            return None  # a release could not be written anyway, and the server's next frames wait behind it
        return self._stdout_quiet.since()

    def _release_at(self) -> float | None:
        """When (monotonic s) the timer may next let go of something: for each holder, the later of its own due time
        (last push + hold) and its source's quiet time + :data:`QUIET_GRACE`. The grace, not the whole hold, is what
        the source must stay quiet: long enough that a server blocked on a full pipe (a backlog, its continuation
        among the unread bytes) has refilled it, short enough that a server sending a heartbeat every 20 ms does not
        hold a log line until it pauses. None while nothing is held, or every holder's source is busy (a pump park or
        a finished write wakes the timer)."""
        assert self.router is not None and self._stderr is not None
        due: list[float] = []
        held = self.router.next_release()
        quiet = self._router_quiet() if held is not None else None
        if held is not None and quiet is not None:
            due.append(max(held, quiet + QUIET_GRACE))
        held = self._stderr.next_release()
        quiet = self._stderr_quiet.since() if held is not None else None
        if held is not None and quiet is not None:
            due.append(max(held, quiet + QUIET_GRACE))
        return min(due, default=None)

    def _release_ready(self, now: float) -> None:
        """Queue (router) or write (stderr) what is due at ``now`` (monotonic s) and whose source is quiet."""
        assert self.router is not None and self._stderr is not None
        quiet = self._router_quiet()
        if quiet is not None and quiet + QUIET_GRACE <= now:
            self.router.release_due(now)
        quiet = self._stderr_quiet.since()
        if quiet is not None and quiet + QUIET_GRACE <= now:
            self._stderr.release_due(now)

    def _poke(self) -> None:
        """Wake the release timer when something is held (a pump parked or a write finished: a hold may be due)."""
        wake = self._wake
        if wake is None:
            return
        router, stderr = self.router, self._stderr
        if (router is not None and router.holding) or (stderr is not None and stderr.holding):
            wake.set()

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # asyncio's default handler prints reprs and tracebacks; keep the wrapper's stderr value-free.
        exc = context.get("exception")
        self.note("internal", f"internal error ({type(exc).__name__ if exc else 'event loop'})")

    # --- pumps ----------------------------------------------------------------------------------------------------

    async def _flush(self) -> None:
        """Write what the router queued, to the client then to the child. The pumps and the release timer call this
        concurrently: each pipe has a lock, taken before the queue is emptied, so batches reach the pipe in the order
        they were queued and a writer that finds the reader behind (waiting in ``drain``) holds the others back
        instead of piling more onto the pipe."""
        router = self.router
        if router is None:
            return
        if router.to_client:
            async with self._client_lock:
                await self._write_client(router)
        if router.to_child:
            async with self._child_lock:
                await self._write_child(router)

    async def _write_client(self, router: Router) -> None:
        if not router.to_client:
            return  # another writer took it while this one waited for the lock
        data = b"".join(router.to_client)
        router.to_client = []
        await self.sink.write(data)
        self._poke()  # the client caught up: a held notification may be due
        if self.sink.closed and self._client_done is not None:
            self._client_done.set()
        warm = self._warm
        if warm is not None:
            # The first answer is out (normally ``initialize``); the client takes a moment to send the next
            # request, which is when the deferred work is cheapest.
            self._warm = None
            asyncio.get_running_loop().call_soon(self._run_warm, warm)

    async def _write_child(self, router: Router) -> None:
        if not router.to_child:
            return
        data = b"".join(router.to_child)
        router.to_child = []
        child = self.child
        if child is None or child.stdin is None or child.stdin.closed or child.exited.is_set():
            return  # the child is gone; its exit answers the open requests
        await child.stdin.write(data)

    async def _client_pump(self) -> None:
        assert self._client_done is not None
        try:
            read = await open_reader(self.client_in)
            await self._pump(read, self.router.client_frame)  # type: ignore[union-attr]
        finally:
            self._client_done.set()

    async def _child_pump(self) -> None:
        assert self.child is not None
        quiet = self._stdout_quiet
        quiet.reader = self.child.read_stdout
        try:
            await self._pump(self.child.read_stdout, self.router.child_frame, quiet)  # type: ignore[union-attr]
        finally:
            quiet.park()  # nothing more will come from the child's stdout

    async def _pump(self, read, deliver, quiet: Quiet | None = None) -> None:
        """Split ``read()`` chunks into bounded frames, hand each to ``deliver`` and flush after every chunk.
        ``quiet``, when given, is told when the pump parks in ``read()`` and when it is at work."""
        splitter = LineSplitter(self.limits.max_frame_bytes)
        while True:
            if quiet is not None:
                quiet.park()
            chunk = await read()
            if quiet is not None:
                quiet.busy()
            if not chunk:
                break
            for item in splitter.feed(chunk):
                deliver(item)
            await self._flush()
        for item in splitter.finish():
            deliver(item)
        await self._flush()

    async def _stderr_pump(self) -> None:
        assert self.child is not None and self.child.read_stderr is not None
        read = self.child.read_stderr
        quiet = self._stderr_quiet
        quiet.reader = read
        cutter = LineCutter()
        try:
            while True:
                quiet.park()
                chunk = await read()
                quiet.busy()
                if not chunk:
                    break
                for piece in cutter.feed(chunk):
                    self._stderr.line(piece)  # type: ignore[union-attr]
            for piece in cutter.finish():
                self._stderr.line(piece)  # type: ignore[union-attr]
            self._stderr.finish()  # type: ignore[union-attr]
        finally:
            quiet.park()

    # --- frames ---------------------------------------------------------------------------------------------------

def run_loop(coro: Any) -> Any:
    """Run ``coro`` to completion on uvloop when it is installed (lower per-frame latency), else on asyncio's own
    loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


__all__ = ["BLOCKED_CODE", "Notices", "Prepared", "Protector", "Quiet", "SERVER_EXITED_CODE", "Wrapper", "run_loop"]
