"""The MCP face of the hub: one low-level ``mcp.server.Server`` that aggregates the user's upstreams.

For each request the verified :class:`~hub.auth.base.Principal` is read from the HTTP request the SDK hands the handler
(``ctx.request.scope["hub.principal"]``, set by :mod:`hub.app` after authentication); nothing is taken from the
JSON-RPC body to decide who is calling.

- ``tools/list``, ``prompts/list``, ``resources/list``, ``resources/templates/list``: every connector the user may use
  (enabled, required credentials present), each upstream listing fetched once per instance and cached until the
  upstream says ``list_changed``; names namespaced ``{connector}__{name}`` (:mod:`hub.upstreams.naming`), filtered by
  the manifest's ``tools`` lists, credentials redacted, then the mcpguard pipeline (which scans descriptions for
  poisoning) per connector; the merged list is paginated with an opaque cursor.
- ``tools/call``, ``prompts/get``, ``resources/read``: rate limit → pipeline on the request (client→server) → the
  user's pooled upstream session → credentials redacted → pipeline on the result (server→client). Upstream failures
  become readable error results (``isError: true`` for tools, a JSON-RPC error naming the connector otherwise), never a
  bare 500. Progress from the upstream is relayed to the caller; a cancelled call cancels the upstream request.

The pipeline (``mcpguard.runtime.build_pipeline``) exposes ``protect(message, Context) -> Outcome``; reversible tokens
are scoped by ``Context(server=connector, user=principal.user_id)``. For a per-user connector the context also names
the user's own upstream instance (``Context.instance``, :func:`guard_instance`), which keys the tool guard's pins and
drift state, so one user's upstream cannot clear or impose another user's drift block.

``protect`` is synchronous and CPU-bound (a 1 MB result dense with e-mail addresses takes seconds), so every frame
above :data:`INLINE_BYTES` is protected in a worker thread (at most ``detect_threads`` at once, ``[server]
detect_threads``): one user's big result must not stall the event loop that serves everyone else's calls, health
checks, OAuth and admin requests. Tiny frames stay on the loop, where they cost less than the hop to a thread
(measured: ~40 µs to protect vs ~85 µs per hop).
"""

from __future__ import annotations

import base64
import inspect
import logging
import time
from collections.abc import Mapping
from typing import Any, Protocol

import anyio
import mcp_types as types
import orjson
from mcp.server import Server
from mcp.server.lowlevel.server import NotificationOptions
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from hub.auth.base import Principal
from hub.authn import current_user_id
from hub.logs import user_ref
from hub.upstreams.naming import NamingError, namespaced, split
from hub.upstreams.pool import SHARED, CredentialMissing, Instance, UpstreamPool, UpstreamUnavailable
from hub.upstreams.ratelimit import RateLimits
from hub.upstreams.redact import redact
from hub.upstreams.registry import Connector
from mcpguard.errors import MCPGuardError
from mcpguard.types import Context, Direction, Outcome

logger = logging.getLogger("hub.gateway")

PAGE_SIZE = 200
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
#: JSON-RPC error code for "refused by the hub" (pipeline block, rate limit, missing credential).
REFUSED = -32001
#: mcp_types.jsonrpc.CONNECTION_CLOSED: what the SDK client raises when the upstream went away.
CONNECTION_CLOSED = -32000
#: Frames whose strings (keys and values, characters; other scalars count 8) total at most this are protected on the
#: event loop: a worker-thread hop costs ~85 µs of CPU, more than protecting such a frame (~40-500 µs, the upper end
#: for text dense with PII). Anything bigger goes to a worker thread. See docs/hub.md, "Detection off the event loop".
INLINE_BYTES = 1024
#: Default number of worker threads for detection (``[server] detect_threads``).
DETECT_THREADS = 2

#: The list methods: (method, result key, name field or None for URI-keyed items, client method).
LISTS = {
    "tools/list": ("tools", "name"),
    "prompts/list": ("prompts", "name"),
    "resources/list": ("resources", "name"),
    "resources/templates/list": ("resourceTemplates", "name"),
}


class Pipeline(Protocol):
    """What the hub needs of :class:`mcpguard.pipeline.Pipeline` (sync or async ``protect``)."""

    def protect(self, message: dict[str, Any], context: Context) -> Outcome | Any:
        """Inspect/transform one JSON-RPC ``message`` in ``context``; returns an ``Outcome`` (or an awaitable of
        one)."""


#: Upstream notification → the method of the notification relayed downstream.
RELAYED = {
    "notifications/tools/list_changed": "send_tool_list_changed",
    "notifications/prompts/list_changed": "send_prompt_list_changed",
    "notifications/resources/list_changed": "send_resource_list_changed",
}
MAX_LISTENERS_PER_USER = 32
#: The text of the refusal when the pipeline fails with an unexpected exception (whose text is never passed on).
INTERNAL_REFUSAL = "mcpguard could not protect this frame; it was not forwarded"


def guard_instance(connector: Connector, owner: str) -> str | None:
    """The ``Context.instance`` of ``owner``'s upstream instance of ``connector``: ``"<connector>@<user ref>"`` for a
    per-user connector (the same pseudonym as the user's ``{user_dir}``; never the raw user id, since the name is
    written to the pin file and suggested in ``mcpguard pins approve`` commands), None for a shared instance (``"*"``,
    keyed by connector name). ``owner`` is a user id or ``"*"``."""
    if owner == SHARED or not connector.manifest.per_user:
        return None
    return f"{connector.name}@{user_ref(owner)}"


def principal_of(ctx: Any) -> Principal:
    """The verified principal for this request. Raises when absent: a handler must never run unauthenticated."""
    request = getattr(ctx, "request", None)
    principal = request.scope.get("hub.principal") if request is not None else None
    if not isinstance(principal, Principal):
        raise MCPError(REFUSED, "request is not authenticated")
    return principal


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"o": offset})).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = int(data["o"])
        if offset < 0:
            raise ValueError
        return offset
    except Exception:  # noqa: BLE001 - any garbage is the same client error
        raise MCPError(INVALID_PARAMS, "invalid cursor") from None


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


def _connection_lost(exc: MCPError) -> bool:
    """True for the SDK client's "Connection closed" (the upstream process or connection is gone), which arrives as
    an ``MCPError`` with code -32000 rather than a transport exception."""
    return exc.error.code == CONNECTION_CLOSED and exc.error.message == "Connection closed"


def _fits(message: Any, limit: int) -> bool:
    """True when ``message`` (a parsed JSON value) is at most ``limit`` units: each string its length in characters
    (object keys included), each other scalar 8, each container 8 plus one per member. Stops as soon as the budget is
    spent, so a huge frame costs O(limit), not O(frame), on the event loop."""
    budget = limit
    stack = [message]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            budget -= len(node)
        elif isinstance(node, dict):
            budget -= 8 + len(node)
            if budget < 0:
                return False
            for k, v in node.items():
                budget -= len(k) if isinstance(k, str) else 8
                stack.append(v)
        elif isinstance(node, (list, tuple)):
            budget -= 8 + len(node)
            if budget < 0:
                return False
            stack.extend(node)
        else:
            budget -= 8
        if budget < 0:
            return False
    return True


def _tool_error(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": True}


class Gateway:
    """Builds the hub's MCP :class:`Server` over a pool of upstreams and a pipeline.

    ``detect_threads`` (≥ 1) bounds how many frames are protected in worker threads at once; frames of at most
    ``inline_bytes`` (see :data:`INLINE_BYTES`) are protected on the event loop. Raises ``ValueError`` for
    ``detect_threads < 1``."""

    def __init__(
        self,
        connectors: Mapping[str, Connector],
        pool: UpstreamPool,
        pipeline: Pipeline,
        *,
        metrics: Any = None,
        call_timeout: float = 120.0,
        list_timeout: float = 10.0,
        access: Any = None,
        list_cache_seconds: float = 60.0,
        name: str = "mcpguard-hub",
        version: str = "0.1.0",
        detect_threads: int = DETECT_THREADS,
        inline_bytes: int = INLINE_BYTES,
    ) -> None:
        self.connectors = dict(connectors)
        self.pool = pool
        self.pipeline = pipeline
        self.metrics = metrics
        self.call_timeout = call_timeout
        self.list_timeout = list_timeout
        self.list_cache_seconds = list_cache_seconds
        #: ``await access(principal) -> set of connector names`` the user may use, or None for "all enabled".
        self.access = access
        self.rates = RateLimits(connectors)
        self.name = name
        self.version = version
        #: user id → uri → connector (from the last resources/list of that user).
        self._resource_routes: dict[str, dict[str, str]] = {}
        #: (user id, namespaced tool name) → input schema from that user's latest listing, for the SDK's 2026-07-28
        #: ``Mcp-Param-*`` header validation (without it the SDK re-runs the whole aggregated tools/list on every
        #: call). Keyed by user: per-user upstreams may list different schemas under the same name.
        self._input_schemas: dict[tuple[str, str], Any] = {}
        #: user id → legacy session id → the latest ServerSession seen on it (for list_changed relays).
        self._listeners: dict[str, dict[str, Any]] = {}
        if detect_threads < 1:
            raise ValueError("detect_threads must be at least 1")
        #: Frames up to this size (see :func:`_fits`) are protected on the event loop; bigger ones in a worker.
        self.inline_bytes = inline_bytes
        self.detect_threads = detect_threads
        # Created on first use, inside the event loop (anyio binds a limiter to the running backend).
        self._limiter: anyio.CapacityLimiter | None = None
        self._async_protect = inspect.iscoroutinefunction(getattr(pipeline, "protect", None))

    def input_schema_for(self, name: str) -> Any:
        """The input schema of tool ``name`` from the current user's latest ``tools/list`` (``None`` if unknown or
        outside an authenticated request: the SDK then skips ``Mcp-Param-*`` validation; routing uses the body)."""
        user = current_user_id.get()
        return None if user is None else self._input_schemas.get((user, name))

    # -- server --------------------------------------------------------------------------------------------------
    def server(self) -> Server[Any]:
        """The MCP low-level ``Server`` with the hub's handlers; advertises ``listChanged`` for tools, resources and
        prompts."""
        gw = self

        class _HubServer(Server[Any]):
            def create_initialization_options(self, notification_options=None, experimental_capabilities=None,
                                              extensions=None):
                # The hub relays upstream list_changed notifications on the legacy era's standalone stream.
                return super().create_initialization_options(
                    notification_options or NotificationOptions(True, True, True), experimental_capabilities,
                    extensions,
                )

        return _HubServer(
            self.name,
            version=self.version,
            instructions="mcpguard hub: tools of several MCP servers, named {connector}__{tool}.",
            get_tool_input_schema=self.input_schema_for,
            on_list_tools=lambda ctx, p: gw._list(ctx, p, "tools/list", types.ListToolsResult),
            on_call_tool=self.call_tool,
            on_list_prompts=lambda ctx, p: gw._list(ctx, p, "prompts/list", types.ListPromptsResult),
            on_get_prompt=self.get_prompt,
            on_list_resources=lambda ctx, p: gw._list(ctx, p, "resources/list", types.ListResourcesResult),
            on_list_resource_templates=lambda ctx, p: gw._list(
                ctx, p, "resources/templates/list", types.ListResourceTemplatesResult
            ),
            on_read_resource=self.read_resource,
        )

    # -- helpers -------------------------------------------------------------------------------------------------
    async def protect(
        self, message: dict[str, Any], *, direction: Direction, method: str, connector: str, principal: Principal,
        tool: str | None = None, request_id: Any = None,
    ) -> Outcome:
        """Run ``message`` through the pipeline for ``connector``/``principal`` and count the decisions.

        A synchronous pipeline runs in a worker thread (bounded by ``detect_threads``) unless the frame is tiny
        (:data:`INLINE_BYTES`), so the event loop keeps serving other requests meanwhile; the caller's task waits for
        the thread even when cancelled (the work cannot be interrupted, and the thread bound must hold).

        Fails closed: an ``MCPGuardError`` becomes a ``reject`` outcome carrying its JSON-RPC error (code, message,
        reason); any other exception, from the worker thread as from the loop, becomes a ``reject`` with a generic
        error (-32603, reason ``internal_error``) and is logged by type name only: its text may quote the frame.
        """
        conn = self.connectors.get(connector)
        instance = guard_instance(conn, principal.user_id) if conn is not None else None
        ctx = Context(direction=direction, method=method, server=connector, user=principal.user_id, tool=tool,
                      request_id=request_id, instance=instance)
        try:
            if self._async_protect or _fits(message, self.inline_bytes):
                out = self.pipeline.protect(message, ctx)
            else:
                out = await anyio.to_thread.run_sync(self.pipeline.protect, message, ctx, limiter=self._detectors())
            if inspect.isawaitable(out):
                out = await out
        except MCPGuardError as err:
            # Fail closed, readably: e.g. the audit log cannot be written, or a stored token fails to open.
            logger.error("pipeline refused a frame", extra={"connector": connector, "reason": err.reason,
                                                            "direction": direction.value})
            return Outcome("reject", None, error={"code": err.jsonrpc_code, "message": str(err),
                                                  "data": {"reason": err.reason}})
        except Exception as exc:  # noqa: BLE001 - fail closed; the exception text may quote the frame
            # Never str(exc) nor a traceback (it can quote local values): the type name only.
            logger.error("internal error while protecting a frame; refused",
                         extra={"connector": connector, "error_type": type(exc).__name__,
                                "direction": direction.value})
            generic = MCPGuardError(INTERNAL_REFUSAL)
            return Outcome("reject", None, error={"code": generic.jsonrpc_code, "message": INTERNAL_REFUSAL,
                                                  "data": {"reason": generic.reason}})
        if self.metrics is not None:
            for d in getattr(out, "decisions", ()) or ():
                action = getattr(getattr(d, "action", None), "value", "unknown")
                self.metrics.pipeline_actions.labels(connector, direction.value, action).inc()
        return out

    def _detectors(self) -> anyio.CapacityLimiter:
        """The limiter bounding concurrent off-loop protects to ``detect_threads``."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.detect_threads)
        return self._limiter

    def _remember(self, ctx: Any, principal: Principal) -> None:
        """Keep the caller's legacy session for list_changed relays (the modern era has no standalone stream)."""
        request = getattr(ctx, "request", None)
        sid = request.headers.get("mcp-session-id") if request is not None else None
        if not sid:
            return
        mine = self._listeners.setdefault(principal.user_id, {})
        mine.pop(sid, None)
        mine[sid] = ctx.session
        while len(mine) > MAX_LISTENERS_PER_USER:
            mine.pop(next(iter(mine)))

    async def on_user_deleted(self, user_id: str) -> None:
        """:class:`hub.seams.OffboardingHooks`: forget the user's gateway state and the tool guard's pins and drift
        state of their per-user instances (bounded pins: one record per user and per-user connector, and only while
        the user is not offboarded). Best effort per connector: a pin-file error is logged and the rest still run."""
        self._resource_routes.pop(user_id, None)
        self._listeners.pop(user_id, None)
        for key in [k for k in self._input_schemas if k[0] == user_id]:
            self._input_schemas.pop(key, None)
        forget = getattr(getattr(self.pipeline, "toolguard", None), "forget", None)
        if not callable(forget):
            return
        for c in self.connectors.values():
            instance = guard_instance(c, user_id)
            if instance is None:
                continue
            try:
                await anyio.to_thread.run_sync(forget, instance)
            except Exception as exc:  # noqa: BLE001 - one unreadable pin file must not stop offboarding
                logger.warning("tool pins of an offboarded user not removed",
                               extra={"connector": c.name, "user": user_ref(user_id),
                                      "error_type": type(exc).__name__})

    async def relay(self, inst: Instance, method: str, params: Any) -> None:
        """An upstream said its list changed: tell the affected users' open sessions (the owner's, or everyone's for
        a shared instance). Best effort: a closed session is forgotten."""
        call = RELAYED.get(method)
        if call is None:
            return
        users = list(self._listeners) if inst.owner == "*" else [inst.owner]
        for user in users:
            for sid, session in list(self._listeners.get(user, {}).items()):
                try:
                    with anyio.move_on_after(2):
                        await getattr(session, call)()
                except Exception:  # noqa: BLE001 - the session ended
                    self._listeners.get(user, {}).pop(sid, None)

    async def usable(self, principal: Principal) -> list[Connector]:
        """Connectors this user may use now: enabled and with every required credential stored."""
        granted = await self.access(principal) if self.access is not None else None
        out = []
        for c in self.connectors.values():
            if granted is not None and c.name not in granted:
                continue
            if not c.manifest.needs_credentials or await self.pool.has_required_credentials(principal, c):
                out.append(c)
        return out

    async def granted(self, principal: Principal, connector: str) -> bool:
        """True if ``principal`` may use ``connector`` (always True without an access policy)."""
        return self.access is None or connector in await self.access(principal)

    async def _fetch_all(self, inst: Instance, method: str) -> list[dict[str, Any]]:
        """Every page of one upstream listing (cached on the instance until list_changed)."""
        cached = inst.lists.get(method)
        now = self.pool.clock()
        if cached is not None and now - inst.listed_at.get(method, now) < self.list_cache_seconds:
            return cached
        key = LISTS[method][0]
        client = inst.client
        assert client is not None
        caps = client.server_capabilities
        area = method.split("/")[0]
        if getattr(caps, area, None) is None:
            inst.lists[method] = []
            inst.listed_at[method] = now
            return []
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(100):  # page cap: a looping cursor must not hang the hub
            params = types.PaginatedRequestParams(cursor=cursor)
            if method == "tools/list":
                page = await client.session.list_tools(params=params)
            elif method == "prompts/list":
                page = await client.session.list_prompts(params=params)
            elif method == "resources/list":
                page = await client.session.list_resources(params=params)
            else:
                page = await client.session.list_resource_templates(params=params)
            items.extend(_dump(page).get(key, []))
            cursor = page.next_cursor
            if not cursor:
                break
        inst.lists[method] = items
        inst.listed_at[method] = now
        return items

    async def _list_one(self, principal: Principal, c: Connector, method: str) -> list[dict[str, Any]]:
        key, field = LISTS[method]
        inst_ref: list[Instance] = []
        try:
            async with self.pool.session(principal, c.name) as inst:
                inst_ref.append(inst)
                raw = await self._fetch_all(inst, method)
                secrets = inst.secrets
        except (CredentialMissing, UpstreamUnavailable) as exc:
            logger.info("connector skipped in listing", extra={"connector": c.name, "reason": exc.reason})
            return []
        except Exception as exc:  # noqa: BLE001 - one broken upstream must not break the aggregated list
            if isinstance(exc, MCPError) and _connection_lost(exc) and inst_ref:
                self.pool.mark_broken(inst_ref[0])
            logger.warning("listing failed", extra={"connector": c.name, "method": method,
                                                    "error_type": type(exc).__name__})
            return []
        # The pipeline (and its tool guard: pins, poisoning scan) sees the upstream's own names, as in a tools/call;
        # namespacing happens after.
        allowed = [it for it in raw if isinstance(it.get(field), str)
                   and (method != "tools/list" or c.manifest.tools.permits(it[field]))]
        allowed, _ = redact(allowed, secrets)
        outcome = await self.protect(
            {"jsonrpc": "2.0", "id": 0, "result": {key: allowed}},
            direction=Direction.SERVER_TO_CLIENT, method=method, connector=c.name, principal=principal,
        )
        if outcome.kind != "forward" or outcome.message is None:
            logger.warning("listing blocked by policy", extra={"connector": c.name, "method": method})
            return []
        protected = (outcome.message.get("result") or {}).get(key, [])
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        for item in protected:
            name = item.get(field)
            if not isinstance(name, str):
                continue
            try:
                full = namespaced(c.name, name, strict=method == "tools/list")
            except NamingError:
                logger.warning("upstream name skipped: invalid once namespaced",
                               extra={"connector": c.name, "method": method})
                continue
            if full in seen:
                logger.warning("upstream name skipped: duplicate", extra={"connector": c.name, "method": method})
                continue
            seen.add(full)
            items.append({**item, field: full})
        return items

    async def _list(self, ctx: Any, params: Any, method: str, result_type: type) -> Any:
        principal = principal_of(ctx)
        self._remember(ctx, principal)
        offset = _decode_cursor(getattr(params, "cursor", None) if params is not None else None)
        connectors = await self.usable(principal)
        results: dict[str, list[dict[str, Any]]] = {}

        async def one(c: Connector) -> None:
            with anyio.move_on_after(self.list_timeout) as scope:
                results[c.name] = await self._list_one(principal, c, method)
            if scope.cancelled_caught:
                logger.warning("listing timed out", extra={"connector": c.name, "method": method})

        async with anyio.create_task_group() as tg:
            for c in connectors:
                tg.start_soon(one, c)
        merged: list[dict[str, Any]] = []
        owners: dict[str, str] = {}
        uri_field = {"resources/list": "uri", "resources/templates/list": "uriTemplate"}.get(method)
        for c in connectors:
            for item in results.get(c.name, []):
                if uri_field is not None:
                    # URIs are not namespaced: a URI two connectors both serve would be ambiguous to read, so the
                    # first connector (in configuration order) keeps it and the collision is logged.
                    uri = str(item.get(uri_field, ""))
                    if uri in owners:
                        logger.warning("resource URI collision: later connector's entry dropped",
                                       extra={"connector": c.name, "kept": owners[uri], "method": method})
                        continue
                    owners[uri] = c.name
                merged.append(item)
        if method == "tools/list":
            if len(self._input_schemas) > 50_000:
                self._input_schemas.clear()
            for item in merged:
                self._input_schemas[(principal.user_id, item["name"])] = item.get("inputSchema")
        if method == "resources/list":
            self._resource_routes[principal.user_id] = owners
        page = merged[offset: offset + PAGE_SIZE]
        body: dict[str, Any] = {LISTS[method][0]: page}
        if offset + PAGE_SIZE < len(merged):
            body["nextCursor"] = _encode_cursor(offset + PAGE_SIZE)
        self._count(method, "ok")
        return result_type.model_validate(body)

    def _count(self, method: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.mcp_requests.labels(method, outcome).inc()

    def _resolve(self, principal: Principal, full: str, what: str) -> tuple[Connector, str]:
        parts = split(full)
        if parts is None or parts[0] not in self.connectors:
            raise MCPError(INVALID_PARAMS, f"unknown {what} {full!r}")
        return self.connectors[parts[0]], parts[1]

    # -- tools/call ----------------------------------------------------------------------------------------------
    async def call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> Any:
        """``tools/call`` (MCP spec, Server Features / Tools): route ``connector__tool`` to its upstream through the
        pipeline.

        Raises ``MCPError`` ``INVALID_PARAMS`` for an unknown tool; records call count and latency (s) metrics.
        """
        principal = principal_of(ctx)
        self._remember(ctx, principal)
        started = time.perf_counter()
        connector, tool = self._resolve(principal, params.name, "tool")
        outcome_label = "ok"
        try:
            result = await self._call_tool(ctx, principal, connector, tool, params)
            if result.get("isError"):
                outcome_label = "error"
            return types.CallToolResult.model_validate(result)
        finally:
            if self.metrics is not None:
                self.metrics.tool_calls.labels(connector.name, outcome_label).inc()
                self.metrics.tool_call_seconds.labels(connector.name).observe(time.perf_counter() - started)
            self._count("tools/call", outcome_label)

    async def _call_tool(
        self, ctx: Any, principal: Principal, connector: Connector, tool: str, params: types.CallToolRequestParams
    ) -> dict[str, Any]:
        name = connector.name
        if not connector.manifest.tools.permits(tool):
            return _tool_error(f"tool {params.name!r} is not enabled on this hub")
        if not await self.granted(principal, name):
            return _tool_error(f"connector {name!r} is not granted to you; ask a hub admin")
        if not self.rates.allow(principal.user_id, name):
            if self.metrics is not None:
                self.metrics.rate_limited.labels(name).inc()
            return _tool_error(f"rate limit reached for connector {name!r}; try again shortly")
        request = {"jsonrpc": "2.0", "id": ctx.request_id, "method": "tools/call",
                   "params": {"name": tool, "arguments": params.arguments or {}}}
        out = await self.protect(request, direction=Direction.CLIENT_TO_SERVER, method="tools/call", connector=name,
                                 principal=principal, tool=tool, request_id=ctx.request_id)
        if out.kind != "forward" or out.message is None:
            return _tool_error(self._refusal_text(out, "the arguments"))
        arguments = (out.message.get("params") or {}).get("arguments") or {}

        async def progress(value: float, total: float | None, message: str | None) -> None:
            if message:
                message = redact(message, secrets)[0]
                # The upstream's progress text is server→client content: it goes through the pipeline like a result
                # (vault-secret redaction alone would let any other secret or PII through). Refused → no text.
                note = await self.protect(
                    {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"message": message}},
                    direction=Direction.SERVER_TO_CLIENT, method="notifications/progress", connector=name,
                    principal=principal, tool=tool)
                protected = (note.message or {}).get("params", {}).get("message") if note.kind == "forward" else None
                message = protected if isinstance(protected, str) else None
            try:
                await ctx.session.report_progress(value, total, message)
            except Exception:  # noqa: BLE001 - progress is best effort
                pass

        secrets: tuple[str, ...] = ()
        try:
            async with self.pool.session(principal, name) as inst:
                secrets = inst.secrets
                assert inst.client is not None
                try:
                    with anyio.fail_after(self.call_timeout):
                        upstream = await inst.client.call_tool(tool, arguments, progress_callback=progress)
                    result = _dump(upstream)
                except MCPError as exc:
                    if _connection_lost(exc):
                        self.pool.mark_broken(inst)
                        result = _tool_error(f"connector {name!r} stopped unexpectedly; it restarts on the next call")
                    else:
                        result = _tool_error(f"connector {name!r} returned an error: {exc.error.message}")
                except TimeoutError:
                    result = _tool_error(f"connector {name!r} did not answer within {self.call_timeout:g} s")
                except ValidationError:
                    result = _tool_error(f"connector {name!r} sent a malformed result")
                except anyio.get_cancelled_exc_class():
                    raise
                except Exception as exc:  # noqa: BLE001 - transport failure: restart the instance next time
                    self.pool.mark_broken(inst)
                    logger.warning("upstream call failed", extra={"connector": name, "error_type": type(exc).__name__,
                                                                   "user": user_ref(principal.user_id)})
                    result = _tool_error(f"connector {name!r} is unavailable ({type(exc).__name__}); try again")
        except (CredentialMissing, UpstreamUnavailable) as exc:
            return _tool_error(str(exc))
        result, n = redact(result, secrets)
        if n:
            logger.info("credential echo redacted", extra={"connector": name, "count": n})
        response = {"jsonrpc": "2.0", "id": ctx.request_id, "result": result}
        out = await self.protect(response, direction=Direction.SERVER_TO_CLIENT, method="tools/call", connector=name,
                                 principal=principal, tool=tool, request_id=ctx.request_id)
        if out.kind == "forward" and out.message is not None:
            return out.message.get("result", result)
        if out.message is not None and isinstance(out.message.get("result"), dict):
            return out.message["result"]
        return _tool_error(self._refusal_text(out, "the result"))

    @staticmethod
    def _refusal_text(out: Outcome, what: str) -> str:
        err = out.error or {}
        msg = err.get("message") if isinstance(err, dict) else None
        return f"mcpguard blocked {what}: {msg}" if msg else f"mcpguard blocked {what} by policy"

    # -- prompts/get and resources/read --------------------------------------------------------------------------
    async def _forward(
        self, ctx: Any, principal: Principal, connector: Connector, method: str, wire_params: dict[str, Any],
        call: Any, tool: str | None = None,
    ) -> dict[str, Any]:
        name = connector.name
        if not await self.granted(principal, name):
            raise MCPError(REFUSED, f"connector {name!r} is not granted to you")
        if not self.rates.allow(principal.user_id, name):
            raise MCPError(REFUSED, f"rate limit reached for connector {name!r}")
        out = await self.protect({"jsonrpc": "2.0", "id": ctx.request_id, "method": method, "params": wire_params},
                                 direction=Direction.CLIENT_TO_SERVER, method=method, connector=name,
                                 principal=principal, tool=tool, request_id=ctx.request_id)
        if out.kind != "forward" or out.message is None:
            raise MCPError(REFUSED, self._refusal_text(out, "the request"))
        wire_params = out.message.get("params") or {}
        try:
            async with self.pool.session(principal, name) as inst:
                assert inst.client is not None
                try:
                    with anyio.fail_after(self.call_timeout):
                        result = _dump(await call(inst.client, wire_params))
                except MCPError as exc:
                    if _connection_lost(exc):
                        self.pool.mark_broken(inst)
                    msg = redact(exc.error.message, inst.secrets)[0]
                    # The upstream's error text is server→client content: scan it (the tools/call path does, via
                    # the error result); a refused text is replaced, never forwarded.
                    err = await self.protect(
                        {"jsonrpc": "2.0", "id": ctx.request_id, "error": {"code": exc.error.code, "message": msg}},
                        direction=Direction.SERVER_TO_CLIENT, method=method, connector=name, principal=principal,
                        tool=tool, request_id=ctx.request_id)
                    safe = ((err.message or {}).get("error") or {}).get("message") if err.kind == "forward" else None
                    msg = safe if isinstance(safe, str) else "its error message was withheld by policy"
                    raise MCPError(exc.error.code, f"connector {name!r}: {msg}") from None
                except TimeoutError:
                    raise MCPError(INTERNAL_ERROR, f"connector {name!r} did not answer in time") from None
                except ValidationError:
                    raise MCPError(INTERNAL_ERROR, f"connector {name!r} sent a malformed result") from None
                except (MCPError, anyio.get_cancelled_exc_class()):
                    raise
                except Exception as exc:  # noqa: BLE001
                    self.pool.mark_broken(inst)
                    raise MCPError(INTERNAL_ERROR, f"connector {name!r} is unavailable ({type(exc).__name__})") from None
                result, _ = redact(result, inst.secrets)
        except (CredentialMissing, UpstreamUnavailable) as exc:
            raise MCPError(REFUSED, str(exc)) from None
        out = await self.protect({"jsonrpc": "2.0", "id": ctx.request_id, "result": result},
                                 direction=Direction.SERVER_TO_CLIENT, method=method, connector=name,
                                 principal=principal, tool=tool, request_id=ctx.request_id)
        if out.kind == "forward" and out.message is not None:
            return out.message.get("result", result)
        raise MCPError(REFUSED, self._refusal_text(out, "the result"))

    async def get_prompt(self, ctx: Any, params: types.GetPromptRequestParams) -> Any:
        """``prompts/get`` (MCP spec, Server Features / Prompts) routed to the prompt's connector; ``MCPError`` if
        unknown."""
        principal = principal_of(ctx)
        connector, prompt = self._resolve(principal, params.name, "prompt")
        result = await self._forward(
            ctx, principal, connector, "prompts/get", {"name": prompt, "arguments": params.arguments or {}},
            lambda client, p: client.get_prompt(p.get("name", prompt), p.get("arguments") or None),
        )
        self._count("prompts/get", "ok")
        return types.GetPromptResult.model_validate(result)

    async def read_resource(self, ctx: Any, params: types.ReadResourceRequestParams) -> Any:
        """``resources/read`` (MCP spec, Server Features / Resources): route ``uri`` via listed resources or templates;
        ``MCPError`` ``INVALID_PARAMS`` if unknown."""
        principal = principal_of(ctx)
        uri = str(params.uri)
        routes = self._resource_routes.get(principal.user_id)
        if routes is None or uri not in routes:
            await self._list(ctx, None, "resources/list", types.ListResourcesResult)
            routes = self._resource_routes.get(principal.user_id, {})
        name = routes.get(uri)
        if name is None:
            name = await self._match_template(principal, uri)
        if name is None:
            raise MCPError(INVALID_PARAMS, "unknown resource")
        result = await self._forward(
            ctx, principal, self.connectors[name], "resources/read", {"uri": uri},
            lambda client, p: client.read_resource(p.get("uri", uri)),
        )
        self._count("resources/read", "ok")
        return types.ReadResourceResult.model_validate(result)

    async def _match_template(self, principal: Principal, uri: str) -> str | None:
        """The connector whose resource template matches ``uri`` (literal prefix up to the first ``{``)."""
        best: tuple[int, str] | None = None
        for c in await self.usable(principal):
            try:
                async with self.pool.session(principal, c.name) as inst:
                    templates = await self._fetch_all(inst, "resources/templates/list")
            except Exception:  # noqa: BLE001
                continue
            for t in templates:
                prefix = str(t.get("uriTemplate", "")).split("{", 1)[0]
                if prefix and uri.startswith(prefix) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), c.name)
        return best[1] if best else None


__all__ = ["Gateway", "Pipeline", "guard_instance", "principal_of"]
