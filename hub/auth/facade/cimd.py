"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP authorization spec 2025-11-25
"Client ID Metadata Documents"): the client id is an https URL whose JSON document describes the client.

Fetching a URL chosen by whoever calls ``/authorize`` is an SSRF vector, so (threats note "SSRF"):

* ``https`` only, a non-root path, no userinfo, no fragment, default or explicit port;
* the host is resolved once and **every** address must be public (not private, loopback, link-local, multicast,
  reserved, CGNAT, ULA or unspecified); the connection then goes to the checked address (SNI and ``Host`` keep the
  name), so a second DNS answer cannot swap in an internal address;
* no redirects, a byte cap (``cimd.max_bytes``, streamed), a total time limit (``cimd.timeout_seconds``);
* the document must be a JSON object whose ``client_id`` equals the URL exactly, with ``redirect_uris``, and no
  ``client_secret`` (CIMD clients are public: ``token_endpoint_auth_method`` ``none``);
* results (and failures, briefly) are cached ``cimd.cache_seconds``.

``test_allow_hosts`` (empty by default) exempts listed ``host`` or ``host:port`` from the address rules so tests can
serve a document from loopback; the resolver and fetcher are injectable for the same reason.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2

from hub.auth.config import CimdSettings

Resolver = Callable[[str, int], Awaitable[list[str]]]
#: ``fetch(url, address, max_bytes, timeout) -> (status, body)``; must not follow redirects.
Fetcher = Callable[[str, str, int, float], Awaitable[tuple[int, bytes]]]


class CimdError(Exception):
    """The client id URL or its document is not acceptable; the message is safe to show on the error page."""


def is_cimd_client_id(client_id: str) -> bool:
    """True if ``client_id`` is an https URL, i.e. a Client ID Metadata Document (CIMD draft)."""
    return client_id.startswith("https://")


def _public(addr: str) -> bool:
    ip = ipaddress.ip_address(addr)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in ipaddress.ip_network("100.64.0.0/10"):  # CGNAT: not "private" to the stdlib, still internal
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local)


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host``:``port`` via getaddrinfo; sorted unique IP address strings."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def make_pinned_fetch(*, verify: Any = True) -> Fetcher:
    """The production fetcher: GET ``url`` connecting to the already-checked ``address``, with TLS SNI, certificate
    name check and ``Host`` all using the URL's host name, no redirects, at most ``max_bytes`` streamed, and
    ``timeout`` seconds overall. ``verify`` is httpx's (a CA bundle path or an ``ssl.SSLContext`` in tests)."""

    async def pinned_fetch(url: str, address: str, max_bytes: int, timeout: float) -> tuple[int, bytes]:
        parts = urlsplit(url)
        host = parts.hostname or ""
        ip_host = f"[{address}]" if ":" in address else address
        target = parts._replace(netloc=f"{ip_host}:{parts.port or 443}").geturl()
        with anyio.fail_after(timeout):
            async with httpx2.AsyncClient(timeout=httpx2.Timeout(timeout), follow_redirects=False, trust_env=False,
                                          verify=verify) as c:
                req = c.build_request("GET", target, headers={"Host": parts.netloc, "Accept": "application/json"},
                                      extensions={"sni_hostname": host})
                resp = await c.send(req, stream=True)
                try:
                    body = b""
                    async for chunk in resp.aiter_bytes():
                        body += chunk
                        if len(body) > max_bytes:
                            raise CimdError("client metadata document is too large")
                    return resp.status_code, body
                finally:
                    await resp.aclose()

    return pinned_fetch


pinned_fetch = make_pinned_fetch()


@dataclass(frozen=True)
class CimdDocument:
    """The validated fields of a client metadata document (CIMD draft; field names from RFC 7591 §2)."""
    client_id: str
    client_name: str
    redirect_uris: tuple[str, ...]
    client_uri: str | None
    scope: str | None


class CimdResolver:
    """``await get(client_id)`` → :class:`CimdDocument` or raises :class:`CimdError`."""

    def __init__(self, settings: CimdSettings, *, resolver: Resolver = system_resolver,
                 fetch: Fetcher = pinned_fetch, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.resolver = resolver
        self.fetch = fetch
        self.clock = clock
        self._cache: dict[str, tuple[float, CimdDocument | CimdError]] = {}

    def check_url(self, url: str) -> tuple[str, int]:
        """Validate a CIMD ``client_id`` URL (https, host, path, no credentials/fragment/``..``, <= 2048 chars);
        ``(host, port)``. Raises ``CimdError``."""
        parts = urlsplit(url)
        if parts.scheme != "https":
            raise CimdError("client_id URL must use https")
        if not parts.hostname or parts.username or parts.password:
            raise CimdError("client_id URL must name a host and carry no credentials")
        if parts.fragment or parts.path in ("", "/") or ".." in parts.path.split("/"):
            raise CimdError("client_id URL must have a path and no fragment")
        if len(url) > 2048:
            raise CimdError("client_id URL is too long")
        return parts.hostname.lower(), parts.port or 443

    def _test_allowed(self, host: str, port: int) -> bool:
        allowed = self.settings.test_allow_hosts
        return host in allowed or f"{host}:{port}" in allowed

    async def get(self, client_id: str) -> CimdDocument:
        """The metadata document for ``client_id``, fetched or cached (failures cached <= 30 s). Raises
        ``CimdError``."""
        if not self.settings.enabled:
            raise CimdError("client id metadata documents are not accepted here")
        hit = self._cache.get(client_id)
        if hit is not None and hit[0] > self.clock():
            if isinstance(hit[1], CimdError):
                raise hit[1]
            return hit[1]
        try:
            doc = await self._load(client_id)
        except CimdError as exc:
            self._cache[client_id] = (self.clock() + min(30.0, self.settings.cache_seconds), exc)
            raise
        self._cache[client_id] = (self.clock() + self.settings.cache_seconds, doc)
        return doc

    async def _load(self, url: str) -> CimdDocument:
        host, port = self.check_url(url)
        try:
            ipaddress.ip_address(host)
            addresses = [host]
        except ValueError:
            try:
                addresses = await self.resolver(host, port)
            except OSError:
                raise CimdError("client_id host does not resolve") from None
        if not addresses:
            raise CimdError("client_id host does not resolve")
        if not self._test_allowed(host, port) and not all(_public(a) for a in addresses):
            raise CimdError("client_id host resolves to a non-public address")
        try:
            status, body = await self.fetch(url, addresses[0], self.settings.max_bytes, self.settings.timeout_seconds)
        except CimdError:
            raise
        except TimeoutError:
            raise CimdError("client metadata document fetch timed out") from None
        except Exception as exc:
            raise CimdError(f"client metadata document fetch failed ({type(exc).__name__})") from None
        if 300 <= status < 400:
            raise CimdError("client metadata document URL redirects; redirects are not followed")
        if status != 200:
            raise CimdError(f"client metadata document answered HTTP {status}")
        if len(body) > self.settings.max_bytes:
            raise CimdError("client metadata document is too large")
        return self.parse(url, body)

    def parse(self, url: str, body: bytes) -> CimdDocument:
        """Validate a fetched document ``body`` for ``url`` (CIMD draft): JSON object, ``client_id`` equal to the URL,
        public client only, allowed ``redirect_uris``. Raises ``CimdError``.
        """
        try:
            data: Any = json.loads(body)
        except ValueError:
            raise CimdError("client metadata document is not JSON") from None
        if not isinstance(data, dict):
            raise CimdError("client metadata document is not a JSON object")
        if data.get("client_id") != url:
            raise CimdError("client metadata document's client_id does not equal its URL")
        if "client_secret" in data or data.get("token_endpoint_auth_method", "none") != "none":
            raise CimdError("client metadata documents describe public clients only (token_endpoint_auth_method none)")
        uris = data.get("redirect_uris")
        if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
            raise CimdError("client metadata document needs redirect_uris")
        allowed = self.settings.allowed_redirect_uris
        if allowed is not None and not all(u in allowed for u in uris):
            raise CimdError("client metadata document lists a redirect URI this hub does not allow")
        name = data.get("client_name")
        return CimdDocument(
            client_id=url,
            client_name=name[:100] if isinstance(name, str) and name.strip() else urlsplit(url).hostname or url,
            redirect_uris=tuple(uris),
            client_uri=data.get("client_uri") if isinstance(data.get("client_uri"), str) else None,
            scope=data.get("scope") if isinstance(data.get("scope"), str) else None,
        )
