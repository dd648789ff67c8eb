"""Flow control between the wrapper's writers, and when the release timer may let a held chunk go.

The session has three writers toward the client (the two pumps and the release timer): every writer waiting for a
slow client must be woken when it catches up (else the wrapper hangs for good), writes must not interleave, and the
timer may let a held notification or stderr line go only once its source has been quiet for the hold time — not
merely because the wrapper itself was slow (docs/wrap.md, "Values split across chunks")."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from mcpguard.wrap.router import HOLD_SECONDS, Router
from mcpguard.wrap.session import QUIET_GRACE, Quiet, Wrapper
from mcpguard.wrap.settings import SpawnSettings
from mcpguard.wrap.stderr import HOLD_SECONDS as STDERR_HOLD
from mcpguard.wrap.stderr import StderrFilter
from mcpguard.wrap.streams import _WriteProtocol, open_reader
from tests.mcpguard.wrap.launch import fake_pipeline

AWS = "AKIAQYLPMN5HHHFPZAM2"  # the fake engine's AWS access key id rule


def run(coro):
    return asyncio.run(coro)


# --- _WriteProtocol.drain -------------------------------------------------------------------------------------


def test_every_writer_waiting_in_drain_is_woken():
    async def main():
        p = _WriteProtocol()
        p.pause_writing()
        pump = asyncio.create_task(p.drain())  # the child pump's flush
        await asyncio.sleep(0)
        timer = asyncio.create_task(p.drain())  # the release timer's flush, at the same time
        await asyncio.sleep(0)
        assert not pump.done() and not timer.done()
        p.resume_writing()
        await asyncio.wait_for(asyncio.gather(pump, timer), 1.0)

    run(main())


def test_a_cancelled_drain_leaves_the_other_waiters_alone():
    async def main():
        p = _WriteProtocol()
        p.pause_writing()
        a = asyncio.create_task(p.drain())
        b = asyncio.create_task(p.drain())
        await asyncio.sleep(0)
        a.cancel()
        await asyncio.sleep(0)
        assert a.cancelled() and not b.done()
        p.resume_writing()
        await asyncio.wait_for(b, 1.0)

    run(main())


def test_a_lost_connection_wakes_every_drain():
    async def main():
        p = _WriteProtocol()
        p.pause_writing()
        waiters = [asyncio.create_task(p.drain()) for _ in range(3)]
        await asyncio.sleep(0)
        assert p.paused
        p.connection_lost(None)
        await asyncio.wait_for(asyncio.gather(*waiters), 1.0)
        assert not p.paused

    run(main())


# --- Reader.pending ---------------------------------------------------------------------------------------------


def test_reader_pending_counts_bytes_still_in_the_pipe_and_queued():
    async def main():
        rfd, wfd = os.pipe()
        try:
            reader = await open_reader(rfd)
            assert reader.pending() == 0
            os.write(wfd, b"abc")
            assert reader.pending() == 3  # in the pipe: the loop has not polled it yet
            await asyncio.sleep(0.02)
            assert reader.pending() == 3  # queued in the protocol
            assert await reader() == b"abc"
            assert reader.pending() == 0
        finally:
            os.close(wfd)

    run(main())


# --- the session: flush lock and release gating ---------------------------------------------------------------


class Sink:
    """A client sink whose writes wait until released; records the order and overlap of writes."""

    def __init__(self):
        self.paused = False
        self.closed = False
        self.writes: list[bytes] = []
        self.active = 0
        self.overlap = 0
        self.gate: asyncio.Event | None = None

    async def write(self, data):
        self.active += 1
        self.overlap = max(self.overlap, self.active)
        self.writes.append(data)
        if self.gate is not None:
            await self.gate.wait()
        self.active -= 1


@pytest.fixture
def devnull():
    fd = os.open(os.devnull, os.O_WRONLY)
    yield fd
    os.close(fd)


@pytest.fixture
def wrapper(tmp_path, devnull):
    """A session that is not running: its router and stderr filter (real pipeline, fake engine) and a stub sink, to
    drive the release timer's decisions by hand."""

    def make() -> Wrapper:
        p = fake_pipeline(None, str(tmp_path))
        w = Wrapper(["true"], spawn_settings=SpawnSettings(), server="s", prepare=lambda: None, environ={})
        w.router = Router(p, server="s", hold_streams=True)
        w._stderr = StderrFilter(p, server="s", fd=devnull)
        w.sink = Sink()  # type: ignore[assignment]
        return w

    return make


def log(data: str) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "method": "notifications/message",
                       "params": {"level": "info", "logger": "app", "data": data}}).encode()


def test_concurrent_flushes_write_one_at_a_time_in_order(wrapper):
    async def main():
        w = wrapper()
        sink = w.sink
        sink.gate = asyncio.Event()
        w.router.to_client.append(b"A\n")
        first = asyncio.create_task(w._flush())  # a pump: the client is slow, its write waits
        await asyncio.sleep(0)
        w.router.to_client.append(b"B\n")
        second = asyncio.create_task(w._flush())  # the release timer, meanwhile
        await asyncio.sleep(0)
        w.router.to_client.append(b"C\n")
        await asyncio.sleep(0)
        assert sink.writes == [b"A\n"]  # the second writer waits for the first instead of piling on
        sink.gate.set()
        await asyncio.wait_for(asyncio.gather(first, second), 1.0)
        assert b"".join(sink.writes) == b"A\nB\nC\n" and sink.overlap == 1

    run(main())


def test_a_held_notification_waits_while_the_child_pump_is_busy(wrapper):
    w = wrapper()
    w.router.child_frame(log("key " + AWS[:8]))
    assert w.router.holding == 1
    w._stdout_quiet.busy()  # e.g. waiting for a slow client, or scanning a backlog: part two may be queued behind
    assert w._release_at() is None
    w._release_ready(time.monotonic() + 10)
    assert w.router.holding == 1 and w.router.to_client == []


def test_a_held_chunk_waits_for_its_hold_and_a_quiet_grace(wrapper):
    """Released at the later of its own due time (push + hold) and the source's quiet time + QUIET_GRACE: a pump busy
    past the hold delays it by the grace only, not by a whole hold (a chatty server must not hold a log line until it
    pauses, review of Dec 8)."""
    w = wrapper()
    w._stdout_quiet.busy()
    w.router.child_frame(log("key " + AWS[:8]))
    due = w.router.next_release()
    time.sleep(HOLD_SECONDS + 0.01)  # the pump works past the hold (other frames)
    w._stdout_quiet.park()
    parked = w._stdout_quiet.parked
    assert parked > due
    assert w._release_at() == pytest.approx(parked + QUIET_GRACE)
    w._release_ready(parked + QUIET_GRACE / 2)
    assert w.router.holding == 1
    w._release_ready(parked + QUIET_GRACE)
    assert w.router.holding == 0
    assert [json.loads(f)["params"]["data"] for f in w.router.to_client] == ["key " + AWS[:8]]


def test_a_quiet_source_releases_at_the_push_due_time(wrapper):
    w = wrapper()
    w._stdout_quiet.park()
    w.router.child_frame(log("key " + AWS[:8]))
    assert w._release_at() == pytest.approx(w.router.next_release())  # the pump parked before the push


def test_nothing_is_released_while_the_client_is_behind(wrapper):
    w = wrapper()
    w.router.child_frame(log("key " + AWS[:8]))
    w._stdout_quiet.park()
    w.sink.paused = True
    assert w._release_at() is None
    w._release_ready(time.monotonic() + 10)
    assert w.router.holding == 1
    w.sink.paused = False
    assert w._release_at() is not None


def test_bytes_waiting_in_the_pipe_count_as_work(wrapper):
    class Pending:
        n = 10

        def pending(self):
            return self.n

    w = wrapper()
    reader = Pending()
    w._stdout_quiet.reader = reader
    w.router.child_frame(log("key " + AWS[:8]))
    w._stdout_quiet.park()
    assert w._stdout_quiet.since() is None and w._release_at() is None
    reader.n = 0
    assert w._stdout_quiet.since() == w._stdout_quiet.parked


def test_a_held_stderr_line_waits_while_the_stderr_pump_is_busy(wrapper):
    w = wrapper()
    w._stderr.line(("export KEY=" + AWS[:8]).encode())
    assert w._stderr.holding == 1
    w._stderr_quiet.busy()
    assert w._release_at() is None
    w._release_ready(time.monotonic() + 10)
    assert w._stderr.holding == 1
    time.sleep(STDERR_HOLD + 0.01)
    w._stderr_quiet.park()
    parked = w._stderr_quiet.parked
    assert w._release_at() == pytest.approx(parked + QUIET_GRACE)
    w._release_ready(parked + QUIET_GRACE / 2)
    assert w._stderr.holding == 1
    w._release_ready(parked + QUIET_GRACE)
    assert w._stderr.holding == 0


def test_quiet_before_the_first_read_and_on_park_callback():
    parks = []
    q = Quiet(on_park=lambda: parks.append(1))
    assert q.since() == 0.0  # no pump (e.g. stderr not piped): nothing can arrive
    q.busy()
    assert q.since() is None
    q.park()
    assert q.since() == q.parked and parks == [1]
