"""Detection runs off the hub's event loop: while one user's huge, PII-dense tool result is being protected, another
user's small ``tools/call`` and the health check complete; the big result is still protected and refusals still fail
closed. Ordering is asserted, never wall-clock time."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from hub.app import build_app, default_pipeline
from hub.auth.base import Principal
from hub.auth.dev import DevAuthenticator
from hub.gateway import INLINE_BYTES, Gateway
from hub.settings import HubSettings
from mcpguard.errors import AuditUnavailable
from mcpguard.types import Context, Direction, Outcome
from tests.hub.harness import settings

pytestmark = pytest.mark.anyio
SERVER = Path(__file__).with_name("servers") / "poisoned.py"
BASE = "http://127.0.0.1:8080"
ALICE = Principal(user_id="alice@example.com", email="alice@example.com", tenant="dev")
S2C = Direction.SERVER_TO_CLIENT
#: Safety stop for the gated protect below: with detection on the loop it never sees the small call finish, and gives
#: up after this many rounds (then the order assertion fails), instead of hanging the test.
MAX_ROUNDS = 200


class GatedPipeline:
    """The real pipeline; for Alice's ``tools/call`` result it re-runs the (real, CPU-bound) protect until Bob's small
    requests are done (``small_done``) or :data:`MAX_ROUNDS` pass, so "the big protect is still running while the
    small requests complete" is a fact the test can assert, not a race it hopes to win."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.big_started = threading.Event()
        self.small_done = threading.Event()
        self.rounds = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def protect(self, message: dict[str, Any], ctx: Context) -> Outcome:
        if ctx.user != "alice@example.com" or ctx.direction is not S2C or ctx.method != "tools/call" \
                or "result" not in message or len(str(message)) < 10_000:
            return self.inner.protect(message, ctx)
        self.big_started.set()
        while True:
            out = self.inner.protect(message, ctx)
            self.rounds += 1
            if self.small_done.is_set() or self.rounds >= MAX_ROUNDS:
                return out


def _client(app: Any, dev: DevAuthenticator, user: str) -> Client:
    http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE,
                              headers={"Authorization": f"Bearer {dev.mint(user)}"}, timeout=120)
    return Client(streamable_http_client(f"{BASE}/mcp", http_client=http), mode="2026-07-28")


async def test_small_call_and_health_complete_while_a_big_result_is_protected(tmp_path):
    d = tmp_path / "connectors" / "demo"
    d.mkdir(parents=True)
    (d / "manifest.yaml").write_text(
        f"name: demo\ntransport: {{type: stdio, command: '{sys.executable}', args: ['{SERVER}'], protocol: legacy}}\n"
        "isolation: user\n")
    # The pure-Python finder: which multi-pattern backend runs does not matter to the event loop (concurrent scans
    # with Hyperscan are covered by tests/mcpguard/test_thread_safety.py).
    s = settings(tmp_path, connectors={"enabled": ["demo"], "dirs": [str(tmp_path / "connectors")], "bundled": False},
                 policy={"inline": {"detection": {"use_hyperscan": False}}})
    gated = GatedPipeline(default_pipeline(s))
    app = build_app(s, pipeline=gated)
    dev = DevAuthenticator(s)
    emails = [f"kim.{i}@acmecorp.co.kr" for i in range(3000)]
    big = " ".join(emails)
    order: list[str] = []
    async with app.router.lifespan_context(app), _client(app, dev, "alice@example.com") as alice, \
            _client(app, dev, "bob@example.com") as bob:
        # Both users' upstream children are started and listed first: what is measured is one call each.
        assert {t.name for t in (await alice.list_tools()).tools} >= {"demo__echo", "demo__add"}
        assert (await bob.call_tool("demo__add", {"a": 1, "b": 1})).content[0].text == "2"
        health = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE, timeout=120)
        result: dict[str, Any] = {}

        async def big_call() -> None:
            result["big"] = await alice.call_tool("demo__echo", {"message": big})
            order.append("big call")

        async with anyio.create_task_group() as tg:
            tg.start_soon(big_call)
            await anyio.to_thread.run_sync(gated.big_started.wait)
            r = await bob.call_tool("demo__add", {"a": 2, "b": 3})
            assert r.content[0].text == "5"
            order.append("small call")
            assert (await health.get("/health")).status_code == 200
            order.append("health")
            gated.small_done.set()
        await health.aclose()
    assert order == ["small call", "health", "big call"]
    assert gated.rounds < MAX_ROUNDS
    text = result["big"].content[0].text
    assert not result["big"].is_error and text.count("[[EMAIL:") == len(emails)
    assert not any(e in text for e in emails[:50])


# -- Gateway.protect units -------------------------------------------------------------------------------------------
class Recording:
    """Forwards every frame and records the thread each protect ran on; ``gate`` (when set) makes protect wait."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.threads: list[int] = []
        self.gate = gate
        self.active = 0
        self.most = 0
        self._lock = threading.Lock()

    def protect(self, message: dict[str, Any], ctx: Context) -> Outcome:
        with self._lock:
            self.threads.append(threading.get_ident())
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            if self.gate is not None:
                self.gate.wait()
            return Outcome("forward", message)
        finally:
            with self._lock:
                self.active -= 1


def _frame(chars: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "x" * chars}]}}


async def _protect(gw: Gateway, message: dict[str, Any]) -> Outcome:
    return await gw.protect(message, direction=S2C, method="tools/call", connector="c", principal=ALICE)


async def test_big_frames_go_to_a_worker_thread_and_tiny_ones_stay_on_the_loop():
    rec = Recording()
    gw = Gateway({}, pool=None, pipeline=rec)
    loop_thread = threading.get_ident()
    tiny, big = _frame(10), _frame(INLINE_BYTES * 4)
    assert (await _protect(gw, tiny)).message is tiny
    assert (await _protect(gw, big)).message is big
    assert rec.threads[0] == loop_thread and rec.threads[1] != loop_thread
    # Many small members add up: a result of 2,000 one-character strings is not "tiny".
    many = {"jsonrpc": "2.0", "id": 1, "result": {"rows": ["a"] * 2000}}
    await _protect(gw, many)
    assert rec.threads[2] != loop_thread


async def test_at_most_detect_threads_frames_are_protected_at_once():
    gate = threading.Event()
    rec = Recording(gate)
    gw = Gateway({}, pool=None, pipeline=rec, detect_threads=2)
    done = []

    async def one() -> None:
        done.append(await _protect(gw, _frame(INLINE_BYTES * 2)))

    with anyio.fail_after(60):  # a deadlock breaker, not a speed assertion
        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(one)
            limiter = gw._detectors()
            while limiter.statistics().tasks_waiting < 4:
                await anyio.sleep(0.01)
            assert limiter.borrowed_tokens == 2
            gate.set()
    assert len(done) == 6 and rec.most == 2


async def test_a_failure_in_the_worker_thread_surfaces_as_before():
    class Failing:
        def __init__(self, exc: Exception) -> None:
            self.exc = exc

        def protect(self, message, ctx):
            assert threading.get_ident() != loop_thread
            raise self.exc

    loop_thread = threading.get_ident()
    # An mcpguard refusal (e.g. the audit log is unwritable) is a readable, fail-closed reject.
    out = await _protect(Gateway({}, pool=None, pipeline=Failing(AuditUnavailable("disk full"))),
                         _frame(INLINE_BYTES * 2))
    assert out.kind == "reject" and out.message is None and out.error["data"]["reason"] == "audit_unavailable"
    # Anything else is a generic fail-closed reject (its text may quote the frame, so it is not passed on).
    out = await _protect(Gateway({}, pool=None, pipeline=Failing(ZeroDivisionError("x"))), _frame(INLINE_BYTES * 2))
    assert out.kind == "reject" and out.message is None and out.error["data"]["reason"] == "internal_error"
    assert out.error["code"] == -32603


async def test_an_async_pipeline_is_awaited_on_the_loop():
    loop_thread = threading.get_ident()
    seen = []

    class Async:
        async def protect(self, message, ctx):
            seen.append(threading.get_ident())
            return Outcome("forward", message)

    big = _frame(INLINE_BYTES * 4)
    assert (await _protect(Gateway({}, pool=None, pipeline=Async()), big)).message is big
    assert seen == [loop_thread]


def test_detect_threads_setting():
    assert HubSettings().server.detect_threads == 2
    assert HubSettings.model_validate({"server": {"detect_threads": 4}}).server.detect_threads == 4
    with pytest.raises(Exception):
        HubSettings.model_validate({"server": {"detect_threads": 0}})
    with pytest.raises(ValueError):
        Gateway({}, pool=None, pipeline=SimpleNamespace(protect=lambda m, c: None), detect_threads=0)
