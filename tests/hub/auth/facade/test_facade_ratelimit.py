"""``auth.facade.rate_limits``: ``/register`` per address and ``/token`` per address and (address, client_id) answer
429 with the hub's JSON error body and ``Retry-After``; the address comes from ``X-Forwarded-For`` only through
the configured number of trusted proxies."""

from __future__ import annotations

import httpx2
import pytest
from pydantic import ValidationError
from starlette.requests import Request

from facade_harness import REDIRECT
from hub.auth.config import FacadeRateLimitSettings, FacadeSettings
from hub.auth.facade.ratelimit import FacadeLimiter, client_address

pytestmark = pytest.mark.anyio


def _request(peer: str = "10.0.0.9", xff: list[str] | None = None) -> Request:
    headers = [(b"x-forwarded-for", v.encode()) for v in xff or []]
    return Request({"type": "http", "method": "POST", "path": "/token", "headers": headers, "client": (peer, 1234)})


@pytest.mark.parametrize(("xff", "hops", "expected"), [
    (["203.0.113.7"], 0, "10.0.0.9"),                       # no trusted proxy: the header is ignored
    (["198.51.100.1, 203.0.113.7"], 1, "203.0.113.7"),      # the proxy's own entry, not the client's forgery
    (["198.51.100.1", "203.0.113.7"], 1, "203.0.113.7"),    # several header lines read as one list
    (["198.51.100.1, 203.0.113.7"], 2, "198.51.100.1"),
    (["203.0.113.7"], 2, "10.0.0.9"),                       # fewer entries than proxies: the peer
    (["not-an-ip"], 1, "10.0.0.9"),
])
def test_client_address(xff, hops, expected):
    assert client_address(_request(xff=xff), hops) == expected


def test_token_budget_is_per_address_and_client():
    limiter = FacadeLimiter(FacadeRateLimitSettings(token_per_ip="5/minute", token_per_ip_client="2/minute"))
    assert limiter.check_token(_request(), "client-a") is None
    assert limiter.check_token(_request(), "client-a") is None
    refused = limiter.check_token(_request(), "client-a")
    assert refused is not None and refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert limiter.check_token(_request(), "client-b") is None          # another client from the same address
    assert limiter.check_token(_request("10.0.0.10"), "client-a") is None  # the same client from elsewhere
    assert limiter.check_token(_request(), "client-c") is None
    assert limiter.check_token(_request(), "client-d") is None          # 5th counted (the refusal spent nothing)
    assert limiter.check_token(_request(), "client-e") is not None      # the address's own budget (5) is spent


def test_disabled_or_empty_limits_allow_everything():
    off = FacadeLimiter(FacadeRateLimitSettings(enabled=False, register_per_ip="1/hour"))
    empty = FacadeLimiter(FacadeRateLimitSettings(register_per_ip=""))
    assert all(lim.check_register(_request()) is None for lim in (off, empty) for _ in range(5))


def test_bad_limit_strings_are_refused_at_load():
    with pytest.raises(ValidationError):
        FacadeSettings.model_validate({"rate_limits": {"token_per_ip": "lots"}})
    with pytest.raises(ValidationError):
        FacadeSettings.model_validate({"rate_limits": {"trusted_proxy_hops": -1}})


async def test_endpoints_answer_429_with_json_body(facade_hub, monkeypatch):
    monkeypatch.setattr(facade_hub.facade, "limiter", FacadeLimiter(FacadeRateLimitSettings(
        register_per_ip="2/minute", token_per_ip="100/minute", token_per_ip_client="1/minute")))
    async with httpx2.AsyncClient() as c:
        for _ in range(2):
            ok = await c.post(facade_hub.url + "/register", json={"redirect_uris": [REDIRECT]})
            assert ok.status_code == 201, ok.text
        r = await c.post(facade_hub.url + "/register", json={"redirect_uris": [REDIRECT]})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        err = r.json()["error"]
        assert err["code"] == "RATE_LIMITED" and err["context"]["reason"] == "rate_limited"
        assert err["context"]["request_id"]
        form = {"grant_type": "refresh_token", "refresh_token": "nope", "client_id": "hub-unknown"}
        assert (await c.post(facade_hub.url + "/token", data=form)).status_code == 401  # invalid_client, counted
        r = await c.post(facade_hub.url + "/token", data=form)
        assert r.status_code == 429 and r.headers["retry-after"]
        # The same budget whether the client id comes in the form or in Basic credentials.
        r = await c.post(facade_hub.url + "/token", data={"grant_type": "refresh_token", "refresh_token": "nope"},
                         auth=("hub-unknown", "x"))
        assert r.status_code == 429
