"""hub.authn: the verified-token cache (the request-level behaviour is in test_app.py)."""

from __future__ import annotations

import pytest

from hub.auth.base import Principal
from hub.authn import TokenCache

pytestmark = pytest.mark.anyio


async def test_token_cache_bounds():
    now = [1000.0]
    cache = TokenCache(ttl=60, clock=lambda: now[0])
    short = Principal(user_id="a", email="a", tenant="dev", expires_at=1010.0)
    cache.put("tok-a", short)
    cache.put("tok-b", Principal(user_id="b", email="b", tenant="dev", expires_at=5000.0))
    assert cache.get("tok-a") is short and cache.get("nope") is None
    now[0] = 1011  # never past the token's own exp
    assert cache.get("tok-a") is None and cache.get("tok-b") is not None
    await cache.on_user_deleted("b")
    assert cache.get("tok-b") is None
    assert all(len(k) == 32 for k in cache._d)  # keys are SHA-256 digests, never the tokens



def test_token_cache_invalidate_by_user_or_jti():
    cache = TokenCache(ttl=60, clock=lambda: 1000.0)
    a1 = Principal(user_id="a", email="a", tenant="dev", token_id="j1")
    a2 = Principal(user_id="a", email="a", tenant="dev", token_id="j2")
    b = Principal(user_id="b", email="b", tenant="dev", token_id="j3")
    for tok, p in (("t1", a1), ("t2", a2), ("t3", b)):
        cache.put(tok, p)
    assert cache.invalidate() == 0
    assert cache.invalidate(token_id="j2") == 1
    assert cache.get("t2") is None and cache.get("t1") is a1
    assert cache.invalidate(user_id="a") == 1
    assert cache.get("t1") is None and cache.get("t3") is b


def test_revocations_reach_every_listener_and_reraise():
    from hub.auth.revocations import Revocations

    bus, seen = Revocations(), []

    def broken(**_kw):
        raise RuntimeError("boom")

    bus.subscribe(broken)
    bus.subscribe(lambda **kw: seen.append(kw))
    with pytest.raises(RuntimeError):
        bus.publish(user_id="u1")
    assert seen == [{"user_id": "u1", "token_id": None}]  # the listener after the broken one still ran
    with pytest.raises(ValueError):
        bus.publish()
