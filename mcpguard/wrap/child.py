"""The child MCP server process: spawn (argv only, own session), exit notification, and group shutdown.

Shutdown follows the MCP lifecycle spec (2025-11-25, "Lifecycle › Shutdown › stdio"): close the child's stdin, wait,
SIGTERM, wait, SIGKILL — sent to the whole process group, so grandchildren (``npx`` → ``node``, ``uv`` → ``python``)
die too. ``start_new_session=True`` makes the child a group leader and keeps the terminal's Ctrl-C away from it (the
wrapper decides when it stops).

Exit notification comes from ``process_exited`` rather than ``Process.wait()``: on Python 3.11 ``wait()`` also waits
for pipe EOF, and a grandchild holding the pipes open would make a dead server look alive.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence

from mcpguard.wrap.streams import CHUNK


class _ChildProtocol(asyncio.subprocess.SubprocessStreamProtocol):
    def __init__(self, limit: int, loop: asyncio.AbstractEventLoop, exited: asyncio.Event) -> None:
        super().__init__(limit=limit, loop=loop)
        self._exited_event = exited

    def process_exited(self) -> None:
        super().process_exited()
        self._exited_event.set()


class Child:
    """A spawned server. ``stdin``/``stdout`` are asyncio streams; ``stderr`` is a stream only in ``filter`` mode.
    :attr:`exited` is set as soon as the process ends; :attr:`returncode` then holds its status."""

    def __init__(self, proc: asyncio.subprocess.Process, exited: asyncio.Event) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.exited = exited
        self.stdin = proc.stdin
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def close_stdin(self) -> None:
        """Close the child's stdin (the first step of shutdown); idempotent."""
        if self.stdin is not None and not self.stdin.is_closing():
            self.stdin.close()

    def signal_group(self, sig: int) -> bool:
        """Send ``sig`` to the child's process group; False when no member is left."""
        try:
            os.killpg(self.pid, sig)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return False

    def group_alive(self) -> bool:
        """True while any process of the child's group exists (the child itself or a grandchild)."""
        return self.signal_group(0)

    async def wait_exited(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the child to exit; True when it has."""
        if self.exited.is_set():
            return True
        try:
            await asyncio.wait_for(self.exited.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def stop(self, grace: float) -> None:
        """Shut the child down: close stdin, wait ``grace`` s, SIGTERM the group, wait ``grace`` s, SIGKILL it."""
        self.close_stdin()
        if await self.wait_exited(grace):
            return
        self.signal_group(signal.SIGTERM)
        if await self.wait_exited(grace):
            return
        self.signal_group(signal.SIGKILL)
        await self.wait_exited(5.0)

    async def reap_group(self, grace: float) -> None:
        """After the child exited: terminate whatever is left of its group (orphaned grandchildren)."""
        if not self.group_alive():
            return
        self.signal_group(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        # Grandchildren are not our children: there is no exit event to wait on, so poll briefly.
        while self.group_alive() and loop.time() < deadline:
            await asyncio.sleep(0.02)
        self.signal_group(signal.SIGKILL)


async def spawn(
    argv: Sequence[str], env: Mapping[str, str], *, stderr_mode: str, cwd: str | None = None
) -> Child:
    """Start ``argv`` (no shell) with exactly ``env``, stdin/stdout piped, in a new session.

    ``stderr_mode``: ``filter`` pipes stderr to the wrapper, ``drop`` sends it to /dev/null, ``inherit`` shares the
    wrapper's stderr. Raises ``OSError`` when the program cannot be started.
    """
    loop = asyncio.get_running_loop()
    exited = asyncio.Event()
    stderr = {"filter": subprocess.PIPE, "drop": subprocess.DEVNULL, "inherit": None}[stderr_mode]
    transport, protocol = await loop.subprocess_exec(
        lambda: _ChildProtocol(CHUNK, loop, exited),
        *argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
        close_fds=True,
    )
    proc = asyncio.subprocess.Process(transport, protocol, loop)
    return Child(proc, exited)


def exit_status(returncode: int | None) -> int:
    """The wrapper's exit status for a child's ``returncode``: the code itself, or 128 + N for death by signal N
    (shell convention: SIGKILL → 137, SIGTERM → 143)."""
    if returncode is None:
        return 1
    if returncode < 0:
        return 128 + (-returncode)
    return returncode


__all__ = ["Child", "exit_status", "spawn"]
