"""Connecting to an HTTP (Streamable HTTP) upstream with one user's credentials on its own client.

Each instance gets its own ``httpx2.AsyncClient``: the user's injected headers live only there, so no request of
another user can carry them, and the caller's own bearer token is never copied (token passthrough is forbidden).
Every request the client makes is checked against the manifest's ``egress`` prefixes (a request hook), redirects
are not followed, and the environment's proxy settings are ignored.
"""

from __future__ import annotations

import httpx2

from hub.upstreams.manifest import egress_allows
from hub.upstreams.registry import Connector


class EgressDenied(httpx2.RequestError):
    """A request to a URL outside the connector's ``egress`` list."""


def http_client(connector: Connector, *, headers: dict[str, str], timeout: float, on_deny=None) -> httpx2.AsyncClient:
    """A client for one upstream instance. ``on_deny()`` is called (for metrics) before a refused request raises."""
    prefixes = list(connector.manifest.egress)

    async def check(request: httpx2.Request) -> None:
        if not egress_allows(prefixes, str(request.url)):
            if on_deny is not None:
                on_deny()
            raise EgressDenied("upstream URL is outside the connector's egress list", request=request)

    return httpx2.AsyncClient(
        headers=headers,
        timeout=httpx2.Timeout(timeout, read=None),
        follow_redirects=False,
        trust_env=False,
        event_hooks={"request": [check]},
    )


__all__ = ["EgressDenied", "http_client"]
