"""Async byte streams over the wrapper's own file descriptors (the client's side: stdin and stdout).

Pipes, sockets and terminals go through the event loop (``connect_read_pipe``/``connect_write_pipe``); anything the
loop cannot poll (a regular file, ``/dev/null``) falls back to plain blocking calls, which never block for long on
such files. Reads return raw chunks of up to :data:`CHUNK` bytes: framing is the caller's job (no ``readline``).

Several tasks may write to one :class:`ByteSink` at once (the session's pumps and its release timer): each write is
queued whole, and every writer waiting for the reader to catch up is woken when it does.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import stat
import struct
import termios
from collections import deque
from collections.abc import Awaitable
from typing import Any

#: Bytes asked for per read.
CHUNK = 1 << 20


def pollable(fd: int) -> bool:
    """True for what an event loop can watch: pipes, sockets, terminals. Not regular files nor ``/dev/null`` (epoll
    refuses them, and libuv aborts on them instead of raising)."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or (stat.S_ISCHR(mode) and os.isatty(fd))


def unread(fd: int) -> int:
    """Bytes waiting in the pipe or socket ``fd`` that no read has taken yet (``FIONREAD``); 0 when the kernel cannot
    say (e.g. ``fd`` is closed)."""
    try:
        return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    except (OSError, ValueError, struct.error):
        return 0


class _ReadProtocol(asyncio.Protocol):
    """Queue chunks from a pipe; pause the pipe while too much is queued (backpressure towards the writer). One
    reader at a time."""

    def __init__(self, high_water: int) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._high = high_water
        self._eof = False
        self._waiter: asyncio.Future[None] | None = None
        self._transport: asyncio.ReadTransport | None = None
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._size += len(data)
        if self._size > self._high and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._wake()

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    @property
    def buffered(self) -> int:
        """Bytes received and not yet returned by :meth:`read`."""
        return self._size

    @property
    def eof(self) -> bool:
        """True once the writer closed the pipe (the file descriptor may be closed too)."""
        return self._eof

    async def read(self) -> bytes:
        while not self._chunks:
            if self._eof:
                return b""
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        chunks = self._chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._chunks = []
        self._size = 0
        if self._paused and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        return data


class _WriteProtocol(asyncio.BaseProtocol):
    """Flow control for a write pipe: ``drain`` waits while the transport's buffer is above its high-water mark.

    Any number of tasks may wait in ``drain`` at once (the session's pumps and its release timer all write to the
    client): each waits on its own future and all are woken together, so none is left behind when the reader catches
    up, and cancelling one waiter does not disturb the others.
    """

    def __init__(self) -> None:
        self.closed = False
        self._paused = False
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def paused(self) -> bool:
        """True while the transport's buffer is above its high-water mark."""
        return self._paused and not self.closed

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        for w in self._waiters:
            if not w.done():
                w.set_result(None)

    async def drain(self) -> None:
        while self._paused and not self.closed:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                self._waiters.remove(waiter)


class ByteSink:
    """Write whole frames to a file descriptor. ``write`` never interleaves two frames; after the reader goes away
    (EPIPE) :attr:`closed` turns true and further writes are discarded."""

    def __init__(self, fd: int, fileobj: Any = None) -> None:
        self.fd = fd
        #: When given (e.g. a child's stdin), the transport owns and finally closes this file object.
        self._fileobj = fileobj
        self._transport: asyncio.WriteTransport | None = None
        self._proto: _WriteProtocol | None = None
        self._sync_closed = False

    async def open(self) -> None:
        """Attach a non-blocking write transport when the fd is a pipe or socket; files keep blocking writes."""
        loop = asyncio.get_running_loop()
        if not pollable(self.fd):
            return  # a regular file or /dev/null: plain blocking writes are fine
        try:
            pipe = self._fileobj or os.fdopen(self.fd, "wb", buffering=0, closefd=False)
            self._transport, self._proto = await loop.connect_write_pipe(_WriteProtocol, pipe)
            self._transport.set_write_buffer_limits(high=4 * CHUNK)
        except (ValueError, OSError):
            self._transport = None  # a regular file: plain blocking writes are fine

    @property
    def closed(self) -> bool:
        """True once the reader has gone away (broken pipe) or the sink was closed."""
        if self._proto is not None:
            return self._proto.closed or (self._transport is not None and self._transport.is_closing())
        return self._sync_closed

    @property
    def paused(self) -> bool:
        """True while the reader is too far behind (more than the high-water mark queued): a :meth:`write` now waits.
        Always false for blocking writes."""
        return self._proto is not None and self._proto.paused

    async def write(self, data: bytes) -> None:
        """Queue ``data`` (one or more complete frames) and wait while the reader is too far behind."""
        if self.closed:
            return
        if self._transport is not None:
            self._transport.write(data)
            await self._proto.drain()  # type: ignore[union-attr]
            return
        view = memoryview(data)
        try:
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
        except OSError:
            self._sync_closed = True

    async def flush(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for queued bytes to reach the reader."""
        t = self._transport
        if t is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.closed and t.get_write_buffer_size() and loop.time() < deadline:
            await asyncio.sleep(0.005)

    def close(self) -> None:
        """Close after queued bytes are written (an owned file object is closed then, so the reader sees EOF)."""
        if self._transport is not None:
            self._transport.close()
        elif self._fileobj is not None:
            self._fileobj.close()
        self._sync_closed = True


class Reader:
    """The next chunk of a stream: ``await reader()`` returns up to :data:`CHUNK` bytes, ``b""`` at end of stream.
    :meth:`pending` counts the bytes the writer has sent that no call returned yet. One reader at a time."""

    __slots__ = ("fd", "_proto")

    def __init__(self, fd: int, proto: _ReadProtocol | None = None) -> None:
        self.fd = fd
        self._proto = proto

    def __call__(self) -> Awaitable[bytes]:
        return self._proto.read() if self._proto is not None else self._read_blocking()

    async def _read_blocking(self) -> bytes:
        try:
            return os.read(self.fd, CHUNK)
        except OSError:
            return b""

    def pending(self) -> int:
        """Bytes the writer has sent that no read returned yet: queued in the event loop's protocol, plus those still
        in the pipe (the loop may not have polled it yet). 0 for a blocking reader (a regular file is never
        waited on) and, past end of stream, only what is queued."""
        proto = self._proto
        if proto is None:
            return 0
        if proto.eof:
            return proto.buffered  # the descriptor may be closed (and its number reused): do not ask the kernel
        return proto.buffered + unread(self.fd)


async def open_reader(fd: int, high_water: int = 4 * CHUNK, fileobj: Any = None) -> Reader:
    """A :class:`Reader` for ``fd``. ``fileobj``, when given, is owned by the transport (closed at end of stream)."""
    loop = asyncio.get_running_loop()
    if pollable(fd):
        try:
            pipe = fileobj or os.fdopen(fd, "rb", buffering=0, closefd=False)
            _, proto = await loop.connect_read_pipe(lambda: _ReadProtocol(high_water), pipe)
            return Reader(fd, proto)
        except (ValueError, OSError):
            pass
    return Reader(fd)


__all__ = ["CHUNK", "ByteSink", "Reader", "open_reader", "pollable", "unread"]
