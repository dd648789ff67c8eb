"""hub.upstreams.http: the per-instance client refuses URLs outside egress, follows no redirects, ignores proxies,
and carries only this instance's headers."""

from __future__ import annotations

import httpx2
import pytest

from hub.upstreams.http import EgressDenied, http_client
from hub.upstreams.manifest import Manifest
from hub.upstreams.registry import Connector

pytestmark = pytest.mark.anyio


def _connector():
    m = Manifest.model_validate({"name": "remote", "transport": {"type": "http", "url": "https://api.example.com/mcp"},
                                 "egress": ["https://api.example.com/"]})
    return Connector(manifest=m)


async def test_egress_refused_before_any_connection():
    denied = []
    c = http_client(_connector(), headers={"X-Api-Key": "k-123456"}, timeout=5, on_deny=lambda: denied.append(1))
    with pytest.raises(EgressDenied):
        await c.get("https://api.example.com.evil.net/mcp")
    with pytest.raises(EgressDenied):
        await c.get("http://169.254.169.254/latest/meta-data")
    assert len(denied) == 2
    assert c.follow_redirects is False and c.trust_env is False
    assert c.headers["x-api-key"] == "k-123456"
    other = http_client(_connector(), headers={}, timeout=5)
    assert "x-api-key" not in other.headers  # nothing shared between instances
    await c.aclose()
    await other.aclose()


def test_egress_denied_is_an_httpx_request_error():
    assert issubclass(EgressDenied, httpx2.RequestError)
