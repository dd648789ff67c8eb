"""Pooled upstream instances: one long-lived MCP client session per (owner, connector).

The owner is the verified user id for per-user connectors (credentials, private directories, every HTTP upstream)
and ``"*"`` for shared ones (stateless servers without credentials). A session is opened once (one handshake) and
reused for every call of that owner until it has been idle for ``limits.idle_seconds``; the SDK client gives every
outbound request its own JSON-RPC id and matches responses to callers, so concurrent calls on one session cannot
cross. Nothing keyed by one user is ever handed to another: the instance map is keyed by the user id from the
verified :class:`~hub.auth.base.Principal`.

Caps: ``limits.max_children_per_user`` per owner and ``limits.max_children_total`` overall; at a cap the least recently
used idle instance is stopped, and when none is idle the call fails with :class:`UpstreamUnavailable`.

Each instance runs in its own task (the SDK client is an async context manager that must be entered and left in one
task) inside the pool's task group, which lives for the app's lifespan.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskGroup
from mcp import Client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from hub.auth.base import Principal
from hub.logs import user_ref
from hub.seams import CredentialSource
from hub.settings import HubSettings
from hub.upstreams.http import http_client
from hub.upstreams.registry import Connector
from hub.upstreams.stdio import devnull, stdio_parameters
from mcpguard.errors import MCPGuardError

logger = logging.getLogger("hub.upstreams")

SHARED = "*"


class UpstreamUnavailable(MCPGuardError):
    """An upstream could not be started or reached (cap reached, spawn failure, handshake failure)."""

    reason = "upstream_unavailable"
    status = 503


class CredentialMissing(MCPGuardError):
    """The user has not stored a credential the connector requires."""

    reason = "credential_missing"
    status = 403


@dataclass(eq=False)
class Instance:
    """One running upstream session. ``secrets`` holds the injected credential strings (values and rendered header
    values) for exact-match redaction of anything the upstream sends back. ``lists`` caches ``tools/list`` etc.
    (method → list of items, all pages), cleared by the upstream's list-changed notifications."""

    owner: str
    connector: Connector
    secrets: tuple[str, ...] = ()
    client: Client | None = None
    last_used: float = field(default_factory=time.monotonic)
    inflight: int = 0
    ready: anyio.Event = field(default_factory=anyio.Event)
    stop: anyio.Event = field(default_factory=anyio.Event)
    done: anyio.Event = field(default_factory=anyio.Event)
    error: BaseException | None = None
    broken: bool = False
    #: SHA-256 over the injected credentials (never the values themselves) and when they were last re-checked.
    cred_fp: str = ""
    checked_at: float = 0.0
    lists: dict[str, list[Any]] = field(default_factory=dict)
    #: method → clock time the cached listing was fetched (listings also expire: a 2026-07-28 upstream announces
    #: changes only on ``subscriptions/listen``, which the hub does not open).
    listed_at: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """Pool key ``(owner, connector name)``; owner is a user id or ``*`` for shared instances."""
        return (self.owner, self.connector.name)


#: ``on_notification(instance, method)`` is called for upstream notifications the gateway cares about.
NotificationHook = Callable[[Instance, str, Any], Any]


class UpstreamPool:
    """The pool. Use ``async with pool.running():`` around the app's life and ``async with pool.session(principal,
    name) as inst:`` around each upstream call."""

    def __init__(
        self,
        settings: HubSettings,
        connectors: Mapping[str, Connector],
        credential_sources: Mapping[str, CredentialSource],
        *,
        metrics: Any = None,
        on_notification: NotificationHook | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.limits = settings.limits
        self.connectors = dict(connectors)
        self.sources = dict(credential_sources)
        self.metrics = metrics
        self.on_notification = on_notification
        self.clock = clock
        self.data_dir = Path(settings.storage.data_dir).expanduser()
        self._instances: dict[tuple[str, str], Instance] = {}
        #: (owner, connector) → clock time before which a failed start is not retried (listings stay fast when an
        #: upstream cannot start, e.g. ``npx`` without network).
        self._backoff: dict[tuple[str, str], float] = {}
        self._tg: TaskGroup | None = None
        self._lock = anyio.Lock()

    # -- lifecycle -----------------------------------------------------------------------------------------------
    @asynccontextmanager
    async def running(self) -> AsyncIterator[UpstreamPool]:
        """Async context: runs the idle reaper; on exit stops every instance and the reaper."""
        async with anyio.create_task_group() as tg:
            self._tg = tg
            tg.start_soon(self._reaper)
            try:
                yield self
            finally:
                await self.stop_all()
                tg.cancel_scope.cancel()
                self._tg = None

    async def stop_all(self) -> None:
        """Stop every instance and wait for them to exit (children are terminated by the SDK's stdio client)."""
        insts = list(self._instances.values())
        for inst in insts:
            inst.stop.set()
        with anyio.move_on_after(10):
            for inst in insts:
                await inst.done.wait()

    async def on_user_deleted(self, user_id: str) -> None:
        """:class:`hub.seams.OffboardingHooks`: stop the user's instances (their children exit)."""
        insts = [i for i in self._instances.values() if i.owner == user_id]
        for inst in insts:
            inst.stop.set()
        with anyio.move_on_after(10):
            for inst in insts:
                await inst.done.wait()

    def instances(self, owner: str | None = None) -> list[Instance]:
        """Running instances, all or only ``owner``'s."""
        return [i for i in self._instances.values() if owner is None or i.owner == owner]

    # -- credentials ---------------------------------------------------------------------------------------------
    async def _credentials(self, principal: Principal, connector: Connector) -> dict[str, str]:
        """Credential name → value for this user; raises :class:`CredentialMissing` for a required one."""
        out: dict[str, str] = {}
        for spec in connector.manifest.credentials:
            source = self.sources.get(spec.kind)
            value = await source.resolve(principal, connector.name, spec) if source is not None else None
            if value is None:
                if spec.required:
                    raise CredentialMissing(
                        f"connector {connector.name!r} needs your credential {spec.name!r}: store it with "
                        f"PUT /v1/me/credentials/{connector.name}/{spec.name}"
                    )
                continue
            out[spec.name] = value
        return out

    async def has_required_credentials(self, principal: Principal, connector: Connector) -> bool:
        """True if every required credential of ``connector`` resolves for ``principal``."""
        try:
            await self._credentials(principal, connector)
        except CredentialMissing:
            return False
        return True

    # -- acquiring -----------------------------------------------------------------------------------------------
    def owner_for(self, principal: Principal, connector: Connector) -> str:
        """Instance owner for this call: the user id for per-user connectors, else ``*`` (shared)."""
        return principal.user_id if connector.manifest.per_user else SHARED

    @asynccontextmanager
    async def session(self, principal: Principal, name: str) -> AsyncIterator[Instance]:
        """The ready instance for (user, connector), started if needed; counts as in flight while held."""
        connector = self.connectors[name]
        inst = await self._get(principal, connector)
        inst.inflight += 1
        inst.last_used = self.clock()
        try:
            yield inst
        finally:
            inst.inflight -= 1
            inst.last_used = self.clock()

    async def _get(self, principal: Principal, connector: Connector) -> Instance:
        key = (self.owner_for(principal, connector), connector.name)
        if self._backoff.get(key, 0.0) > self.clock():
            raise UpstreamUnavailable(f"connector {connector.name!r} failed to start recently; retrying shortly")
        inst = self._instances.get(key)
        if (inst is not None and not inst.broken and connector.manifest.credentials and key[0] != SHARED
                and self.clock() - inst.checked_at >= self.limits.credential_recheck_seconds):
            # The user may have replaced or deleted a credential since the child started: restart it if so.
            inst.checked_at = self.clock()
            try:
                fresh = await self._credentials(principal, connector)
            except CredentialMissing:
                inst.stop.set()
                raise
            if _fingerprint(fresh) != inst.cred_fp:
                logger.info("credentials changed: restarting upstream",
                            extra={"connector": connector.name, "owner": user_ref(key[0])})
                inst.broken = True
        if inst is None or inst.broken or inst.stop.is_set():
            creds = await self._credentials(principal, connector)
            async with self._lock:
                inst = self._instances.get(key)
                if inst is None or inst.broken or inst.stop.is_set():
                    if inst is not None:
                        inst.stop.set()
                    await self._make_room(key[0])
                    inst = self._start(key[0], connector, principal, creds)
        await inst.ready.wait()
        if inst.error is not None:
            self._backoff[key] = self.clock() + self.limits.start_backoff_seconds
            raise UpstreamUnavailable(f"connector {connector.name!r} could not be started") from None
        return inst

    async def _make_room(self, owner: str) -> None:
        live = [i for i in self._instances.values() if not i.stop.is_set()]
        mine = [i for i in live if i.owner == owner]
        for pool_, cap in ((mine, self.limits.max_children_per_user), (live, self.limits.max_children_total)):
            if len(pool_) >= cap:
                idle = sorted((i for i in pool_ if i.inflight == 0 and i.ready.is_set()), key=lambda i: i.last_used)
                if not idle:
                    raise UpstreamUnavailable("too many upstream instances are busy; try again shortly")
                idle[0].stop.set()
                self._instances.pop(idle[0].key, None)

    def _start(self, owner: str, connector: Connector, principal: Principal, creds: dict[str, str]) -> Instance:
        m = connector.manifest
        secrets: list[str] = []
        injected_env: dict[str, str] = {}
        headers: dict[str, str] = {}
        for spec in m.credentials:
            if spec.name not in creds:
                continue
            value = creds[spec.name]
            rendered = spec.inject.render(value)
            secrets += [value, rendered]
            if spec.inject.env:
                injected_env[spec.inject.env] = rendered
            else:
                headers[spec.inject.header or ""] = rendered
        inst = Instance(owner=owner, connector=connector, secrets=tuple(s for s in set(secrets) if s),
                        cred_fp=_fingerprint(creds), checked_at=self.clock())
        self._instances[inst.key] = inst
        assert self._tg is not None, "pool is not running"
        self._tg.start_soon(self._run, inst, injected_env, headers, principal.user_id if owner != SHARED else None)
        return inst

    async def _run(self, inst: Instance, env: dict[str, str], headers: dict[str, str], user_id: str | None) -> None:
        name = inst.connector.name
        m = inst.connector.manifest
        gauge = self.metrics.upstream_instances.labels(name) if self.metrics else None

        async def handler(message: Any) -> None:
            if isinstance(message, Exception):
                return
            root = getattr(message, "root", message)
            method = getattr(root, "method", None)
            if method and method.endswith("/list_changed"):
                inst.lists.pop(method.split("/")[1] + "/list", None)
                if method == "notifications/resources/list_changed":
                    inst.lists.pop("resources/templates/list", None)
            if method and self.on_notification is not None:
                await self.on_notification(inst, method, getattr(root, "params", None))

        if m.transport.type == "stdio":
            params = stdio_parameters(inst.connector, data_dir=self.data_dir, user_id=user_id, injected_env=env)
            target: Any = stdio_client(params, errlog=devnull())
        else:
            hc = http_client(
                inst.connector, headers=headers, timeout=self.limits.connect_timeout_seconds,
                on_deny=(lambda: self.metrics.egress_denied.labels(name).inc()) if self.metrics else None,
            )
            target = streamable_http_client(m.transport.url or "", http_client=hc)
        started = False
        try:
            # The deadline covers the spawn and handshake only; the scope then stays open (anyio scopes must nest
            # around the client's task groups) with no deadline while the instance serves.
            with anyio.CancelScope(deadline=anyio.current_time() + self.limits.connect_timeout_seconds) as scope:
                async with Client(target, mode=m.transport.protocol, message_handler=handler, cache=None) as client:
                    scope.deadline = float("inf")
                    started = True
                    inst.client = client
                    if self.metrics:
                        self.metrics.upstream_starts.labels(name, "ok").inc()
                        gauge.inc()
                    logger.info("upstream started", extra={"connector": name, "owner": user_ref(inst.owner)})
                    inst.ready.set()
                    await inst.stop.wait()
            if scope.cancelled_caught and not started:
                raise TimeoutError("upstream start timed out")
        except BaseException as exc:  # noqa: BLE001 - reported to the waiting caller, not raised in the group
            if not started:
                inst.error = exc
                if self.metrics:
                    self.metrics.upstream_starts.labels(name, "error").inc()
                logger.warning("upstream start failed", extra={
                    "connector": name, "error_type": type(exc).__name__, "owner": user_ref(inst.owner)})
            else:
                logger.info("upstream ended", extra={"connector": name, "error_type": type(exc).__name__,
                                                     "owner": user_ref(inst.owner)})
            if isinstance(exc, anyio.get_cancelled_exc_class()):
                raise
        finally:
            if self._instances.get(inst.key) is inst:
                self._instances.pop(inst.key, None)
            if started and gauge is not None:
                gauge.dec()
            inst.broken = True
            inst.ready.set()
            inst.done.set()
            if started:
                logger.info("upstream stopped", extra={"connector": name, "owner": user_ref(inst.owner)})

    async def _reaper(self) -> None:
        idle = self.limits.idle_seconds
        period = max(0.5, min(idle / 4, 30.0))
        while True:
            await anyio.sleep(period)
            now = self.clock()
            for inst in list(self._instances.values()):
                if inst.inflight == 0 and inst.ready.is_set() and now - inst.last_used >= idle:
                    inst.stop.set()

    def mark_broken(self, inst: Instance) -> None:
        """Called after a transport-level failure: the next call starts a fresh instance."""
        inst.broken = True
        if inst.inflight <= 1:
            inst.stop.set()


def _fingerprint(creds: dict[str, str]) -> str:
    import hashlib

    h = hashlib.sha256()
    for k in sorted(creds):
        h.update(k.encode() + b"\0" + creds[k].encode() + b"\0")
    return h.hexdigest()


__all__ = ["CredentialMissing", "Instance", "SHARED", "UpstreamPool", "UpstreamUnavailable"]
