"""The child MCP server process: spawn (argv only, own session), exit notification, and group shutdown.

:func:`start` is synchronous and needs only ``subprocess``: the wrapper calls it before importing asyncio, pydantic
or the detection engine, so the server starts booting at once. :meth:`Child.attach` then connects its pipes to the
event loop and watches for its exit through a pidfd (Linux ≥ 5.3; a waiter thread elsewhere). The exit is noticed
as soon as it happens, even when a grandchild still holds the pipes open (``Process.wait()`` on Python 3.11 would
wait for pipe EOF too).

Shutdown follows the MCP lifecycle spec (2025-11-25, "Lifecycle › Shutdown › stdio"): close the child's stdin, wait,
SIGTERM, wait, SIGKILL — sent to the whole process group, so grandchildren (``npx`` → ``node``, ``uv`` → ``python``)
die too. ``start_new_session=True`` makes the child a group leader and keeps the terminal's Ctrl-C away from it (the
wrapper decides when it stops).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any


def start(argv: Sequence[str], env: Mapping[str, str], *, stderr_mode: str, cwd: str | None = None) -> subprocess.Popen:
    """Start ``argv`` (no shell) with exactly ``env``, stdin/stdout piped, in a new session.

    ``stderr_mode``: ``filter`` pipes stderr to the wrapper, ``drop`` sends it to /dev/null, ``inherit`` shares the
    wrapper's stderr. Raises ``OSError`` when the program cannot be started.
    """
    stderr = {"filter": subprocess.PIPE, "drop": subprocess.DEVNULL, "inherit": None}[stderr_mode]
    return subprocess.Popen(
        list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=dict(env), cwd=cwd,
        start_new_session=True, close_fds=True, bufsize=0,
    )


def spawn_failed(exc: OSError, fd: int = 2) -> int:
    """Report a failed start on ``fd`` and return the exit status (127 not found, 126 otherwise). Never prints argv:
    it may hold credentials; the OS reason is value-free."""
    try:
        os.write(fd, f"mcpguard: cannot start the server program ({exc.strerror or type(exc).__name__})\n".encode())
    except OSError:
        pass
    return 127 if isinstance(exc, FileNotFoundError) else 126


class Child:
    """A started server. After :meth:`attach`: ``stdin`` is a :class:`~mcpguard.wrap.streams.ByteSink`,
    ``read_stdout``/``read_stderr`` return chunks (``b""`` at EOF; ``read_stderr`` is None unless stderr is piped),
    and :attr:`exited` is set as soon as the process ends, with :attr:`returncode` holding its status."""

    def __init__(self, popen: subprocess.Popen) -> None:
        self.popen = popen
        self.pid = popen.pid
        self.exited: Any = None
        self.stdin: Any = None
        self.read_stdout: Any = None
        self.read_stderr: Any = None

    async def attach(self) -> None:
        """Connect the pipes to the running event loop and start watching for the exit."""
        import asyncio
        import threading

        from mcpguard.wrap.streams import ByteSink, open_reader

        loop = asyncio.get_running_loop()
        self.exited = asyncio.Event()
        try:
            pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            # No pidfd: one daemon thread blocks in waitpid for us.
            def wait() -> None:
                self.popen.wait()
                loop.call_soon_threadsafe(self.exited.set)

            threading.Thread(target=wait, name="mcpguard-child-wait", daemon=True).start()
        else:
            def on_exit() -> None:
                if self.popen.poll() is None:
                    return  # not yet reapable; the pidfd stays readable and we are called again
                loop.remove_reader(pidfd)
                os.close(pidfd)
                self.exited.set()

            loop.add_reader(pidfd, on_exit)
        assert self.popen.stdin is not None and self.popen.stdout is not None
        self.stdin = ByteSink(self.popen.stdin.fileno(), fileobj=self.popen.stdin)
        await self.stdin.open()
        self.read_stdout = await open_reader(self.popen.stdout.fileno(), fileobj=self.popen.stdout)
        if self.popen.stderr is not None:
            self.read_stderr = await open_reader(self.popen.stderr.fileno(), fileobj=self.popen.stderr)

    @property
    def returncode(self) -> int | None:
        """The child's exit status as ``Popen`` reports it (negative for a signal), or None while it runs."""
        return self.popen.returncode

    def close_stdin(self) -> None:
        """Close the child's stdin once queued frames are written (the first step of shutdown); idempotent."""
        if self.stdin is not None:
            self.stdin.close()
        elif self.popen.stdin is not None:
            self.popen.stdin.close()

    def signal_group(self, sig: int) -> bool:
        """Send ``sig`` to the child's process group; False when no member is left."""
        try:
            os.killpg(self.pid, sig)
            return True
        except (ProcessLookupError, PermissionError):
            return False

    def group_alive(self) -> bool:
        """True while any process of the child's group exists (the child itself or a grandchild)."""
        return self.signal_group(0)

    async def wait_exited(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the child to exit; True when it has."""
        import asyncio

        if self.exited.is_set():
            return True
        try:
            await asyncio.wait_for(self.exited.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def reap_group(self, grace: float) -> None:
        """After the child exited: terminate whatever is left of its group (orphaned grandchildren)."""
        import asyncio

        if not self.group_alive():
            return
        self.signal_group(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        # Grandchildren are not our children: there is no exit event to wait on, so poll briefly.
        while self.group_alive() and loop.time() < deadline:
            await asyncio.sleep(0.02)
        self.signal_group(signal.SIGKILL)


def exit_status(returncode: int | None) -> int:
    """The wrapper's exit status for a child's ``returncode``: the code itself, or 128 + N for death by signal N
    (shell convention: SIGKILL → 137, SIGTERM → 143)."""
    if returncode is None:
        return 1
    if returncode < 0:
        return 128 + (-returncode)
    return returncode


__all__ = ["Child", "exit_status", "spawn_failed", "start"]
