"""A JWKS cache for verifying JWT signatures (RFC 7517; OpenID Connect Discovery §3 ``jwks_uri``).

Keys are fetched from one configured URL — never from a token's ``jku``/``x5u``/``jwk`` header — and kept ``ttl``
seconds (~1 h: Microsoft publishes rotations well ahead). An unknown ``kid`` forces one refetch (a key rotated in
since the last fetch), but at most once per ``refetch_interval`` seconds so a flood of made-up kids cannot turn the
hub into an amplifier. After a failed fetch the cache cools down ``cooldown`` seconds before trying again and keeps
serving the keys it has. The fetcher is injected: ``async fetch(url) -> dict`` with its own explicit timeouts.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx2
import jwt
from jwt.algorithms import RSAAlgorithm, ECAlgorithm

Fetch = Callable[[str], Awaitable[dict[str, Any]]]


class JwksUnavailable(Exception):
    """No key set could be fetched and none is cached."""


class UnknownKid(Exception):
    """The token names a ``kid`` the key set does not hold, even after a refetch."""


def httpx_fetcher(*, timeout: float = 5.0, rewrite: Callable[[str], str] | None = None, max_bytes: int = 512_000) -> Fetch:
    """A fetcher over ``httpx2`` with explicit timeouts, no redirects, a size cap, and an optional URL rewrite
    (``hub.auth.entra_http.rewrite_url`` bound to the authority host map)."""

    async def fetch(url: str) -> dict[str, Any]:
        target = rewrite(url) if rewrite else url
        async with httpx2.AsyncClient(timeout=httpx2.Timeout(timeout), follow_redirects=False, trust_env=False) as c:
            resp = await c.get(target, headers={"Accept": "application/json"})
        if resp.status_code != 200:
            raise JwksUnavailable(f"JWKS fetch answered HTTP {resp.status_code}")
        if len(resp.content) > max_bytes:
            raise JwksUnavailable("JWKS document too large")
        data = resp.json()
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise JwksUnavailable("JWKS document has no keys array")
        return data

    return fetch


def _load_key(jwk: dict[str, Any]) -> Any | None:
    kty = jwk.get("kty")
    try:
        if kty == "RSA":
            return RSAAlgorithm.from_jwk(jwk)
        if kty == "EC":
            return ECAlgorithm.from_jwk(jwk)
    except (ValueError, KeyError, jwt.InvalidKeyError):
        return None
    return None  # oct (symmetric) keys are never accepted from a JWKS


class JwksCache:
    """``await get_key(kid)`` → a public key object for PyJWT. Raises :class:`UnknownKid` or :class:`JwksUnavailable`.

    ``clock`` is injectable (seconds, monotonic) for tests."""

    def __init__(
        self,
        url: str,
        fetch: Fetch,
        *,
        ttl: float = 3600.0,
        cooldown: float = 30.0,
        refetch_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.fetch = fetch
        self.ttl = ttl
        self.cooldown = cooldown
        self.refetch_interval = refetch_interval
        self.clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._lock = anyio.Lock()
        self.fetch_count = 0

    def _fresh(self) -> bool:
        return self._fetched_at is not None and self.clock() - self._fetched_at < self.ttl

    def _may_fetch(self) -> bool:
        now = self.clock()
        if self._failed_at is not None and now - self._failed_at < self.cooldown:
            return False
        return True

    async def _refresh(self) -> None:
        self.fetch_count += 1
        try:
            data = await self.fetch(self.url)
        except Exception as exc:  # any transport or parse failure: cool down, keep old keys
            self._failed_at = self.clock()
            raise JwksUnavailable(f"JWKS fetch failed: {type(exc).__name__}") from None
        keys: dict[str, Any] = {}
        for jwk in data.get("keys", []):
            if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
                continue
            if jwk.get("use") not in (None, "sig"):
                continue
            key = _load_key(jwk)
            if key is not None:
                keys[jwk["kid"]] = key
        self._keys = keys
        self._fetched_at = self.clock()
        self._failed_at = None

    async def get_key(self, kid: str) -> Any:
        """Public key for ``kid`` from the cached JWK Set (RFC 7517), refreshing when stale and, rate-limited,
        on an unknown kid. Raises ``UnknownKid``, or ``JwksUnavailable`` when no keys could be loaded.
        """
        async with self._lock:
            if not self._fresh() and self._may_fetch():
                try:
                    await self._refresh()
                except JwksUnavailable:
                    if not self._keys:
                        raise
            if kid in self._keys:
                return self._keys[kid]
            # Unknown kid: one forced refetch, rate-limited, and not during a failure cooldown.
            recently = self._fetched_at is not None and self.clock() - self._fetched_at < self.refetch_interval
            if not recently and self._may_fetch():
                try:
                    await self._refresh()
                except JwksUnavailable:
                    if not self._keys:
                        raise
            if kid in self._keys:
                return self._keys[kid]
            if not self._keys:
                raise JwksUnavailable("no signing keys available")
            raise UnknownKid("signing key id not in the authority's key set")
