"""HTTP toward the Entra authority, pinned to the authority's host.

Everything the hub fetches from Entra (OIDC discovery, JWKS, MSAL's token calls) goes through one host map:
``{"login.microsoftonline.com": "https://login.microsoftonline.com"}`` in production, or the same logical host mapped
to a loopback mock Entra in tests (``auth.entra.authority_transport_url``). Any other host is refused, which keeps the
hub from being turned into an SSRF proxy through a URL it did not choose (``jwks_uri`` in discovery, a ``jku`` header
— never followed anyway). Timeouts are explicit: ``(connect, read)`` seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from mcpguard.errors import MCPGuardError


class HostNotAllowed(MCPGuardError):
    """A request toward a host outside the authority allowlist."""

    reason = "host_not_allowed"
    status = 502


def rewrite_url(url: str, host_map: Mapping[str, str]) -> str:
    """Map ``https://<logical host>/path?q`` to ``<target base>/path?q``; raise :class:`HostNotAllowed` otherwise.

    Only ``https`` URLs are accepted (the logical authority is always https even when the target is a loopback
    mock over http)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or host not in host_map or parts.username or parts.password:
        raise HostNotAllowed(f"refusing request to host {host or '?'!r}: not the configured Entra authority")
    if parts.port not in (None, 443):
        raise HostNotAllowed(f"refusing request to {host}:{parts.port}: unexpected port")
    target = urlsplit(host_map[host])
    base_path = target.path.rstrip("/")
    return urlunsplit((target.scheme, target.netloc, base_path + parts.path, parts.query, ""))


class PinnedSession(requests.Session):
    """A ``requests.Session`` for MSAL's ``http_client``: rewrites the authority host, refuses all others, never
    follows redirects, and applies ``timeout`` when the caller gives none."""

    def __init__(self, host_map: Mapping[str, str], *, timeout: tuple[float, float] = (3.05, 10.0)) -> None:
        super().__init__()
        self.host_map = {k.lower(): v for k, v in host_map.items()}
        self.timeout = timeout
        self.trust_env = False  # no proxies or netrc from the environment

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """``requests`` request with the host rewritten via ``host_map``, a default timeout (s) and redirects off."""
        url = rewrite_url(url.decode() if isinstance(url, bytes) else url, self.host_map)
        kwargs.setdefault("timeout", self.timeout)
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


def host_map_for(authority: str, transport_url: str | None) -> dict[str, str]:
    """``{host of authority: transport_url or the authority origin}``."""
    host = (urlsplit(authority).hostname or "").lower()
    return {host: transport_url or f"https://{host}"}
