"""Rate limits on the facade's unauthenticated endpoints, ``POST /register`` and ``POST /token``
(``auth.facade.rate_limits``, :class:`hub.auth.config.FacadeRateLimitSettings`).

The ``limits`` library's moving window over in-process memory, as in :mod:`hub.upstreams.ratelimit`. A refused
request gets ``429`` with the hub's JSON error body (code ``RATE_LIMITED``, reason ``rate_limited``) and
``Retry-After`` in whole seconds (RFC 9110 §10.2.3; RFC 6585 §4). The check runs before client authentication, so a
flood costs neither secret hashing nor CIMD fetches nor Entra round trips. Client addresses are not logged.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Callable, Sequence

import limits
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request
from starlette.responses import Response

from hub.auth.config import FacadeRateLimitSettings
from hub.errors import error_response

logger = logging.getLogger("hub.auth.facade.ratelimit")
#: A claimed client_id longer than this is cut for the counter key (RFC 7591 sets no limit; ours are ~20 chars).
MAX_CLIENT_ID = 256


def client_address(request: Request, trusted_proxy_hops: int) -> str:
    """The caller's address: the TCP peer, or with ``trusted_proxy_hops`` = N > 0 the N-th entry from the right of
    ``X-Forwarded-For`` (entries further left are written by the client and not trusted). Falls back to the peer when
    the header has fewer entries or the entry is not an IP address; ``"unknown"`` without a peer."""
    peer = request.client.host if request.client else "unknown"
    if trusted_proxy_hops <= 0:
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    if len(hops) < trusted_proxy_hops:
        return peer
    candidate = hops[-trusted_proxy_hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer


class FacadeLimiter:
    """``check_register(request)`` / ``check_token(request, client_id)`` → None (go on) or the 429 response."""

    def __init__(self, settings: FacadeRateLimitSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

        def items(spec: str) -> list[limits.RateLimitItem]:
            return list(limits.parse_many(spec)) if settings.enabled and spec.strip() else []

        self._register = items(settings.register_per_ip)
        self._token_ip = items(settings.token_per_ip)
        self._token_client = items(settings.token_per_ip_client)

    def check_register(self, request: Request) -> Response | None:
        """Count a registration (RFC 7591) per client IP; a 429 response if over a limit, else None."""
        ip = client_address(request, self.settings.trusted_proxy_hops)
        return self._take("register", [(self._register, ("register", ip))])

    def check_token(self, request: Request, client_id: str | None) -> Response | None:
        """Count a token request per IP and per (IP, claimed client_id); a 429 response if over a limit, else None."""
        ip = client_address(request, self.settings.trusted_proxy_hops)
        claimed = (client_id or "")[:MAX_CLIENT_ID]
        return self._take("token", [(self._token_ip, ("token", ip)),
                                    (self._token_client, ("token-client", ip, claimed))])

    def _take(self, endpoint: str, buckets: Sequence[tuple[list[limits.RateLimitItem], tuple[str, ...]]]
              ) -> Response | None:
        # Test every window first, so a refused request spends no budget in the others.
        for items, key in buckets:
            for item in items:
                if not self._limiter.test(item, *key):
                    return self._refuse(endpoint, item, key)
        for items, key in buckets:
            for item in items:
                self._limiter.hit(item, *key)
        return None

    def _refuse(self, endpoint: str, item: limits.RateLimitItem, key: tuple[str, ...]) -> Response:
        reset = self._limiter.get_window_stats(item, *key).reset_time
        retry = max(1, math.ceil(reset - self.clock()))
        logger.info("facade rate limit reached", extra={"endpoint": endpoint, "limit": str(item)})
        return error_response(429, "RATE_LIMITED", f"too many {endpoint} requests; retry later", "rate_limited",
                              headers={"retry-after": str(retry)})


__all__ = ["FacadeLimiter", "client_address"]
