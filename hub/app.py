"""The hub's ASGI application: routes, lifespan, readiness, and the composition root.

Authentication lives in :mod:`hub.authn`, the outer request layer (request id, Host/Origin, access log) in
:mod:`hub.middleware`, the allowlists in :mod:`hub.hosts`.

Routes (``P`` = ``server.prefix``; reverse proxies do not strip it)::

    P/mcp                                           MCP Streamable HTTP, both eras (authenticated)
    P/v1/...                                        admin API from hub.admin.routes (authenticated there)
    P/health  P/ready  P/metrics                    liveness, readiness (start-up probe + live probes), Prometheus
    /.well-known/oauth-protected-resource           RFC 9728 metadata (unauthenticated), also at
    /.well-known/oauth-protected-resource P/mcp     the path-inserted form (RFC 9728 §3.1) and
    P/mcp/.well-known/oauth-protected-resource      the suffixed form the seed platform's clients use,
    P/.well-known/oauth-protected-resource          and under the prefix
    + routes contributed by components (the auth mode's OAuth endpoints and JWKS)

Every request gets a request id (``X-Request-Id``, echoed, generated when absent or malformed), one JSON access log
line and a metrics count. Host and Origin are checked on every route but ``/health`` and ``/ready`` (DNS rebinding;
allowed: loopback names, ``public_url``'s host, ``allowed_hosts``/``allowed_origins``). A refused token gets 401 with
``WWW-Authenticate: Bearer resource_metadata="…"`` and the JSON body of :mod:`hub.errors`; a token in the query string
is refused (RFC 6750 §2.3 "SHOULD NOT", RFC 9700 §4.3.2 — it leaks into logs).

:func:`create_app` takes every collaborator as a parameter (tests inject them); :func:`build_app` is the composition
root that picks them from the settings, importing the auth mode, the vault and the admin API lazily.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from hub.auth.base import AuthError, Authenticator
from hub.authn import Admission, Grants, McpEndpoint, TokenCache, make_authenticate
from hub.errors import auth_error_response, error_response
from hub.hosts import allowed_hosts, allowed_origins
from hub.logs import user_ref
from hub.metrics import HubMetrics
from hub.middleware import HubMiddleware
from hub.seams import Component, CredentialSource, OffboardingHooks, ReadinessProbe, ResourceMetadata
from hub.settings import HubSettings
from mcpguard.errors import ConfigError

logger = logging.getLogger("hub.app")


# -- state ----------------------------------------------------------------------------------------------------------
@dataclass
class HubState:
    """What the running app holds (``app.state.hub``)."""

    settings: HubSettings
    metrics: HubMetrics
    probes: list[ReadinessProbe] = field(default_factory=list)
    started: bool = False
    startup_error: str | None = None
    draining: bool = False
    #: MCP POSTs being answered (GET streams excluded: they never end on their own); the drain waits for 0.
    inflight: int = 0
    pool: Any = None
    gateway: Any = None
    offboarding: Any = None
    #: The user directory (hub.users.UserDirectory) when the vault component provides one.
    users: Any = None
    #: The hash-chained audit log admin actions go to (``record_event(kind, fields)``): the admin API's and the auth
    #: mode's admin routes (e.g. the facade's ``/v1/facade/clients``). None only when no admin surface is mounted.
    audit: Any = None


class _Offboarding:
    """Runs every :class:`OffboardingHooks` (pool first: stop their processes; then token revocation etc.). Errors
    are logged and re-raised after all hooks ran, so one failing hook does not skip the others."""

    def __init__(self, hooks: Sequence[OffboardingHooks]) -> None:
        self.hooks = list(hooks)

    async def on_user_deleted(self, user_id: str) -> None:
        failed: BaseException | None = None
        for h in self.hooks:
            try:
                await h.on_user_deleted(user_id)
            except Exception as exc:  # noqa: BLE001
                logger.error("offboarding hook failed", extra={"hook": type(h).__name__, "user": user_ref(user_id),
                                                                "error_type": type(exc).__name__})
                failed = exc
        if failed is not None:
            raise failed


def default_pipeline(settings: HubSettings) -> Any:
    """The mcpguard pipeline for the hub's ``[policy]``: ``path`` (an mcpguard.toml) or ``inline`` tables, else the
    defaults; keys, tokens, tool pins and audit default to the hub's data directory unless the policy sets them. The
    tool guard (pinning, poisoning scan, control-character neutralization) is attached as in ``mcpguard wrap``, keyed
    by the upstream instance: the connector name (``Context.server``) for a shared instance, ``"<connector>@<user
    ref>"`` (``Context.instance``, :func:`hub.gateway.guard_instance`) for a per-user one."""
    from mcpguard.config import load_config, parse_config
    from mcpguard.runtime import build_pipeline
    from mcpguard.toolguard.guard import build_toolguard

    pol = settings.policy
    if pol.path:
        config = load_config(pol.path)
    else:
        raw = dict(pol.inline or {})
        data = settings.storage.data_path
        raw.setdefault("keys", {}).setdefault("dir", str(data / "keys"))
        raw.setdefault("tokens", {}).setdefault("path", str(data / "tokens.sqlite3"))
        raw.setdefault("tools", {}).setdefault("pins_path", str(data / "pins.json"))
        audit_path = settings.audit_path
        raw.setdefault("audit", {}).setdefault("path", str(audit_path) if audit_path else "")
        config = parse_config(raw, source="[policy]")
    pipeline = build_pipeline(config)
    from hub.upstreams.redact import MARK_TYPE

    # The hub's exact-match credential marker is ours: a detector must not re-mark it (mcpguard.markers).
    pipeline.marker_types = pipeline.marker_types | {MARK_TYPE}
    if getattr(pipeline, "toolguard", None) is None:
        pipeline.toolguard = build_toolguard(config, scan_text=pipeline.engine.scan_text,
                                             audit=pipeline.record_event)
    return pipeline


def create_app(
    settings: HubSettings,
    *,
    authenticator: Authenticator,
    credential_sources: Mapping[str, CredentialSource] | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    protected_resource_metadata: ResourceMetadata | None = None,
    pipeline_factory: Callable[[HubSettings], Any] | None = None,
    components: Sequence[Component] = (),
    admin_routes: Callable[..., Sequence[BaseRoute]] | None = None,
    connectors: Mapping[str, Any] | None = None,
    metrics: HubMetrics | None = None,
    audit: Any = None,
) -> Starlette:
    """The hub app.

    - ``authenticator``: verifies bearer tokens (:mod:`hub.auth.base`).
    - ``credential_sources``: kind → :class:`CredentialSource` (merged with the components').
    - ``extra_routes``: mounted as given (paths include the prefix where needed).
    - ``protected_resource_metadata``: ``authorization_servers`` etc. for RFC 9728 (``resource`` is filled in).
    - ``pipeline_factory(settings)`` → pipeline; default :func:`default_pipeline`.
    - ``components``: the vault, the auth mode's extras (routes, probes, offboarding, lifespan).
    - ``admin_routes(authenticate=..., hooks=...)`` → routes mounted under ``{prefix}/v1``.
    - ``connectors``: name → :class:`hub.upstreams.registry.Connector`; default from the settings.
    - ``audit``: the audit log for admin actions (``app.state.hub.audit``); default the pipeline's ``audit``.
    """
    from hub.gateway import Gateway
    from hub.upstreams.pool import UpstreamPool
    from hub.upstreams.registry import load_registry

    metrics = metrics or HubMetrics()
    prefix = settings.server.prefix
    sources: dict[str, CredentialSource] = {}
    for comp in components:
        sources.update(comp.credential_sources)
    sources.update(credential_sources or {})
    if connectors is None:
        connectors = load_registry(settings)
    pipeline = (pipeline_factory or default_pipeline)(settings)
    state = HubState(settings=settings, metrics=metrics, audit=audit if audit is not None else
                     getattr(pipeline, "audit", None))
    pool = UpstreamPool(settings, connectors, sources, metrics=metrics)
    users = next((c.extras["users"] for c in components if "users" in c.extras), None)
    access = None
    if settings.connectors.require_grants:
        if users is None or not hasattr(users, "granted_connectors"):
            raise ConfigError("connectors.require_grants needs the user directory (hub.vault) installed")
        access = Grants(users.granted_connectors)
    gateway = Gateway(connectors, pool, pipeline, metrics=metrics, call_timeout=settings.limits.call_timeout_seconds,
                      list_timeout=settings.limits.list_timeout_seconds, access=access,
                      list_cache_seconds=settings.limits.list_cache_seconds,
                      detect_threads=settings.server.detect_threads)
    pool.on_notification = gateway.relay
    state.pool, state.gateway, state.users = pool, gateway, users
    admission = Admission(getattr(users, "admit", None))
    token_cache = TokenCache()
    for comp in components:
        if comp.revocations is not None:
            comp.revocations.subscribe(token_cache.invalidate)
    # Pool first (stop their children), then the components (vault credentials, auth-side token revocation), then
    # the caches, so no request can re-admit the user from a cache filled in between.
    # The gateway after the pool: it forgets the user's per-instance tool pins once their instances are stopped.
    offboarding = _Offboarding([pool, gateway, *(h for c in components for h in c.offboarding), admission,
                                token_cache, *([access] if access is not None else [])])
    state.offboarding = offboarding
    state.probes = [p for c in components for p in c.probes]

    server = gateway.server()
    # Builds the session manager (our routes wrap its ASGI handler; the Starlette app it returns is not used).
    from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
    from mcp.server.transport_security import TransportSecuritySettings

    server.streamable_http_app(
        streamable_http_path=f"{prefix}/mcp",
        max_request_body_size=settings.server.max_request_bytes,
        session_idle_timeout=settings.server.session_idle_seconds,
        max_sessions=settings.server.max_sessions,
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=settings.server.dns_rebinding_protection,
            allowed_hosts=allowed_hosts(settings), allowed_origins=allowed_origins(settings),
        ),
    )
    session_manager = server.session_manager
    mcp_asgi = StreamableHTTPASGIApp(session_manager)

    resource_metadata_url = f"{settings.server.base_url}/.well-known/oauth-protected-resource{prefix}/mcp"
    authenticate = make_authenticate(authenticator, admission if admission.admit is not None else None, token_cache)

    def on_auth_error(_request: Request, err: AuthError) -> Response:
        metrics.auth_failures.labels(err.reason).inc()
        logger.info("authentication refused", extra={"reason": err.reason, "code": err.code})
        return auth_error_response(err, resource_metadata_url)

    async def auth_exception_handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AuthError)
        return on_auth_error(request, exc)

    meta = protected_resource_metadata or ResourceMetadata()

    async def prm(_request: Request) -> Response:
        body: dict[str, Any] = {
            "resource": settings.server.mcp_url,
            "authorization_servers": list(meta.authorization_servers),
            "bearer_methods_supported": ["header"],
            "resource_name": "mcpguard hub",
        }
        if meta.scopes_supported:
            body["scopes_supported"] = list(meta.scopes_supported)
        body.update(meta.extra)
        return JSONResponse(body, headers={"cache-control": "public, max-age=300"})

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(_request: Request) -> Response:
        checks, ok = await run_probes(state.probes)
        if not state.started or state.draining:
            ok = False
            checks["startup"] = "draining" if state.draining else (state.startup_error or "not started")
        if not ok:
            return error_response(503, "NOT_READY", "hub is not ready", "not_ready", checks=checks)
        return JSONResponse({"status": "ready", "checks": checks})

    async def metrics_route(_request: Request) -> Response:
        body, ctype = metrics.render()
        return Response(body, media_type=ctype)

    well_known = "/.well-known/oauth-protected-resource"
    prm_paths = dict.fromkeys([well_known, f"{well_known}{prefix}/mcp", f"{prefix}/mcp{well_known}",
                               f"{prefix}{well_known}"])
    routes: list[BaseRoute] = [
        Route(f"{prefix}/mcp", McpEndpoint(mcp_asgi, authenticate, on_auth_error, state),
              methods=["GET", "POST", "DELETE"]),
        *(Route(p, prm, methods=["GET"]) for p in prm_paths),
        *(Route(p, health, methods=["GET"]) for p in dict.fromkeys([f"{prefix}/health", "/health"])),
        *(Route(p, ready, methods=["GET"]) for p in dict.fromkeys([f"{prefix}/ready", "/ready"])),
        *(Route(p, metrics_route, methods=["GET"]) for p in dict.fromkeys([f"{prefix}/metrics", "/metrics"])),
    ]
    for comp in components:
        routes.extend(comp.routes)
    routes.extend(extra_routes)
    if admin_routes is not None:
        routes.append(Mount(f"{prefix}/v1", routes=list(admin_routes(
            authenticate=authenticate, hooks=offboarding, connectors=connectors))))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for comp in components:
                if comp.lifespan is not None:
                    await stack.enter_async_context(comp.lifespan())
            await stack.enter_async_context(pool.running())
            await stack.enter_async_context(session_manager.run())
            # Start-up probe: a broken instance (storage unreachable, keys missing) never turns ready.
            checks, ok = await run_probes(state.probes)
            if ok:
                state.started = True
                metrics.ready.set(1)
                logger.info("hub ready", extra={"connectors": sorted(connectors), "mcp_url": settings.server.mcp_url})
            else:
                state.startup_error = "start-up probe failed"
                logger.error("start-up probe failed; the hub stays not ready", extra={"checks": checks})
            try:
                yield
            finally:
                state.draining = True
                metrics.ready.set(0)
                logger.info("hub shutting down")

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={AuthError: auth_exception_handler})
    app.state.hub = state
    app.add_middleware(HubMiddleware, settings=settings, metrics=metrics)
    return app


async def run_probes(probes: Sequence[ReadinessProbe], timeout: float = 5.0) -> tuple[dict[str, str], bool]:
    """Run each probe with a timeout; ``({name: "ok" | error type}, all ok)``. Error messages are not echoed."""
    checks: dict[str, str] = {}
    ok = True
    for p in probes:
        try:
            with anyio.fail_after(timeout):
                await p.check()
            checks[p.name] = "ok"
        except Exception as exc:  # noqa: BLE001
            ok = False
            checks[p.name] = f"failed: {type(exc).__name__}"
    return checks, ok


def load_auth(settings: HubSettings) -> Any:
    """The :class:`hub.seams.AuthBundle` for ``auth.mode``, importing only that mode's module."""
    import importlib

    mode = settings.auth.mode
    try:
        module = importlib.import_module(f"hub.auth.{mode}")
    except ModuleNotFoundError as exc:
        raise ConfigError(f"auth.mode {mode!r} is not available in this installation") from exc
    build = getattr(module, "build_auth", None)
    if build is None:
        raise ConfigError(f"auth.mode {mode!r} has no build_auth()")
    return build(settings)


def build_app(settings: HubSettings, **overrides: Any) -> Starlette:
    """The composition root: auth by mode, the vault (when installed), the pipeline and its hash-chained audit log
    (shared with the admin API, so admin actions and frames sit on one chain), the admin API.

    Admin actions are never unaudited: when the pipeline has no audit log, the vault's (:func:`hub.vault.
    admin_audit_log`) is used; when there is none either and an admin surface exists (the admin API, or a component
    with ``admin_actions``), raises :class:`~mcpguard.errors.ConfigError` instead of starting."""
    bundle = overrides.pop("auth_bundle", None) or load_auth(settings)
    components: list[Component] = [bundle.component]
    pipeline = overrides.pop("pipeline", None)
    if pipeline is None:
        pipeline = (overrides.pop("pipeline_factory", None) or default_pipeline)(settings)
    audit = getattr(pipeline, "audit", None)
    vault_component = None
    try:
        from hub.vault import build_vault
    except ImportError:
        build_vault = None  # type: ignore[assignment]
        logger.warning("vault not installed: no stored credentials")
    if build_vault is not None:
        vault_component = build_vault(settings, audit=audit)
        components.insert(0, vault_component)
        if audit is None:  # e.g. an injected pipeline without a log: the vault opened the hub's own
            audit = vault_component.extras.get("audit")
    admin_surface = vault_component is not None or any(c.admin_actions for c in components)
    if audit is None and admin_surface:
        raise ConfigError("admin actions must be audited, but no audit log is configured ([audit] path is empty "
                          "and the policy sets none): set [audit] path (default {data_dir}/audit.jsonl)")
    admin = None
    try:
        from hub.admin.routes import admin_routes as _admin_routes
    except ImportError:
        _admin_routes = None
    if _admin_routes is not None and vault_component is not None:
        vault = vault_component.extras.get("vault")

        def admin(*, authenticate: Any, hooks: Any, connectors: Any = None) -> Sequence[BaseRoute]:
            kw = {"connectors": connectors} if connectors is not None else {}
            return _admin_routes(vault=vault, audit=audit, authenticate=authenticate, hooks=hooks, settings=settings,
                                 **kw)

    return create_app(
        settings,
        authenticator=bundle.authenticator,
        protected_resource_metadata=bundle.resource_metadata,
        components=components,
        admin_routes=admin,
        pipeline_factory=lambda _s: pipeline,
        audit=audit,
        **overrides,
    )


__all__ = [
    "HubState", "TokenCache", "build_app", "create_app", "default_pipeline", "load_auth", "make_authenticate",
    "run_probes",
]
