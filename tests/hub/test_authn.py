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

