"""``hub.auth.jwks``: TTL, forced refetch on unknown kid (rate-limited), cooldown after failures."""

from __future__ import annotations

import pytest

from hub.auth.jwks import JwksCache, JwksUnavailable, UnknownKid
from tests.mock_entra import MockEntra

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def entra() -> MockEntra:
    return MockEntra()


def cache_for(entra: MockEntra, clock: Clock, fail: list[bool]) -> JwksCache:
    async def fetch(url: str) -> dict:
        if fail[0]:
            raise OSError("down")
        return entra.jwks()

    return JwksCache("https://login.microsoftonline.com/k", fetch, ttl=3600, cooldown=30, refetch_interval=60, clock=clock)


async def test_ttl_and_forced_refetch(entra):
    clock, fail = Clock(), [False]
    cache = cache_for(entra, clock, fail)
    await cache.get_key(entra.active_kid)
    await cache.get_key(entra.active_kid)
    assert cache.fetch_count == 1
    new = entra.add_key()
    with pytest.raises(UnknownKid):  # fetched < refetch_interval ago: no amplification
        await cache.get_key(new)
    assert cache.fetch_count == 1
    clock.t += 61
    await cache.get_key(new)
    assert cache.fetch_count == 2
    clock.t += 3600
    await cache.get_key(new)
    assert cache.fetch_count == 3


async def test_cooldown_after_failure_keeps_old_keys(entra):
    clock, fail = Clock(), [False]
    cache = cache_for(entra, clock, fail)
    await cache.get_key(entra.active_kid)
    fail[0] = True
    clock.t += 3601
    assert await cache.get_key(entra.active_kid)  # stale keys still serve
    n = cache.fetch_count
    clock.t += 10
    await cache.get_key(entra.active_kid)
    assert cache.fetch_count == n  # cooling down
    clock.t += 31
    fail[0] = False
    await cache.get_key(entra.active_kid)
    assert cache.fetch_count == n + 1


async def test_unavailable_without_keys(entra):
    clock, fail = Clock(), [True]
    with pytest.raises(JwksUnavailable):
        await cache_for(entra, clock, fail).get_key("any")


async def test_symmetric_keys_never_loaded():
    async def fetch(url):
        return {"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0"}]}

    with pytest.raises(JwksUnavailable):
        await JwksCache("https://x/k", fetch).get_key("k")
