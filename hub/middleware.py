"""The outermost ASGI layer: request id, Host/Origin check, access log line and HTTP metrics for every request."""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from hub.auth.base import Principal
from hub.errors import error_response
from hub.hosts import allowed_hosts, allowed_origins, matches
from hub.logs import request_id_var, user_ref
from hub.metrics import HubMetrics
from hub.settings import HubSettings

logger = logging.getLogger("hub.app")
access_log = logging.getLogger("hub.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class HubMiddleware:
    """Request id, Host/Origin check, access log and HTTP metrics, around everything."""

    def __init__(self, app: ASGIApp, settings: HubSettings, metrics: HubMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self.hosts = allowed_hosts(settings)
        self.origins = allowed_origins(settings)
        self.check = settings.server.dns_rebinding_protection
        p = settings.server.prefix
        self.exempt = {"/health", "/ready", f"{p}/health", f"{p}/ready"}
        self.routes = {f"{p}/mcp": "mcp", f"{p}/health": "health", "/health": "health", f"{p}/ready": "ready",
                       "/ready": "ready", f"{p}/metrics": "metrics", "/metrics": "metrics"}
        self.prefix = p

    def _route_name(self, path: str) -> str:
        if path in self.routes:
            return self.routes[path]
        if "/.well-known/" in path:
            return "well_known"
        if path.startswith(f"{self.prefix}/v1/"):
            return "admin"
        return "other"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
        rid = headers.get("x-request-id", "")
        if not _REQUEST_ID.match(rid):
            rid = secrets.token_hex(8)
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status_holder = [500]
        path = scope["path"]

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            if self.check and path not in self.exempt:
                host = headers.get("host", "")
                origin = headers.get("origin")
                if not matches(host, self.hosts):
                    logger.warning("refused Host header", extra={"reason": "host_not_allowed"})
                    await error_response(421, "BAD_REQUEST", "Host header is not allowed", "host_not_allowed")(
                        scope, receive, send_wrapper)
                    return
                if origin is not None and not matches(origin, self.origins):
                    logger.warning("refused Origin header", extra={"reason": "origin_not_allowed"})
                    await error_response(403, "FORBIDDEN", "Origin is not allowed", "origin_not_allowed")(
                        scope, receive, send_wrapper)
                    return
            await self.app(scope, receive, send_wrapper)
        finally:
            route = self._route_name(path)
            self.metrics.http_requests.labels(route, str(status_holder[0])).inc()
            fields = {"request_id": rid, "method": scope.get("method"), "route": route, "status": status_holder[0],
                      "ms": round((time.perf_counter() - started) * 1000, 2)}
            principal = scope.get("hub.principal")
            if isinstance(principal, Principal):
                fields["user"] = user_ref(principal.user_id)  # a pseudonym: user ids are e-mails
            access_log.info("request", extra=fields)
            request_id_var.reset(token)


__all__ = ["HubMiddleware"]
