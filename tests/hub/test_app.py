"""hub.app in process (no upstreams): 401 bodies and challenges, prefix routing, RFC 9728 metadata, Host/Origin
checks, health/ready/metrics and the start-up probe."""

from __future__ import annotations

import httpx2
import pytest

from hub.app import create_app
from hub.auth.dev import DevAuthenticator
from hub.seams import Component, ResourceMetadata
from tests.hub.harness import PassPipeline, settings

pytestmark = pytest.mark.anyio
PREFIX = "/team-a"
BASE = "http://127.0.0.1:8080"


class Probe:
    def __init__(self, name: str, ok: bool) -> None:
        self.name, self.ok = name, ok

    async def check(self) -> None:
        if not self.ok:
            raise RuntimeError("storage unreachable at postgres://user:pw@db")


def _app(tmp, *, probes=(), **server):
    s = settings(tmp, server={"prefix": PREFIX, **server})
    auth = DevAuthenticator(s)
    app = create_app(
        s, authenticator=auth, connectors={}, pipeline_factory=lambda _s: PassPipeline(),
        protected_resource_metadata=ResourceMetadata(authorization_servers=(auth.issuer,), scopes_supported=("mcp.access",)),
        components=[Component(name="probes", probes=list(probes))],
    )
    return app, auth


@pytest.fixture(scope="module")
async def hub(tmp_path_factory):
    app, auth = _app(tmp_path_factory.mktemp("app"), allowed_hosts=["hub.example.com"],
                     allowed_origins=["https://claude.ai"])
    async with app.router.lifespan_context(app):
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE) as client:
            yield client, auth


INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


async def test_missing_token_401_body_and_challenge(hub):
    client, _ = hub
    r = await client.post(f"{PREFIX}/mcp", json=INIT, headers={**MCP_HEADERS, "x-request-id": "req-12345678"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{BASE}/.well-known/oauth-protected-resource{PREFIX}/mcp"')
    err = r.json()["error"]
    assert err["code"] == "MISSING_TOKEN"
    assert err["context"] == {"request_id": "req-12345678", "reason": "missing_token"}
    assert r.headers["x-request-id"] == "req-12345678"


@pytest.mark.parametrize(
    ("headers", "query", "code", "reason"),
    [
        ({"authorization": "Bearer garbage"}, "", "INVALID_TOKEN", "malformed_token"),
        ({"authorization": "Basic dXNlcjpwdw=="}, "", "INVALID_TOKEN", "malformed_header"),
        ({}, "?access_token=abc", "INVALID_TOKEN", "token_in_query"),
    ],
)
async def test_bad_token_reasons(hub, headers, query, code, reason):
    client, _ = hub
    r = await client.post(f"{PREFIX}/mcp{query}", json=INIT, headers={**MCP_HEADERS, **headers})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == code and r.json()["error"]["context"]["reason"] == reason
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


async def test_expired_and_wrong_audience_reasons(hub):
    client, auth = hub
    for tok, reason in ((auth.mint("a@example.com", ttl=-3600), "expired"),
                        (auth.mint("a@example.com", extra={"aud": "http://other/mcp"}), "wrong_audience")):
        r = await client.post(f"{PREFIX}/mcp", json=INIT, headers={**MCP_HEADERS, "authorization": f"Bearer {tok}"})
        assert r.status_code == 401 and r.json()["error"]["context"]["reason"] == reason
        assert tok not in r.text


async def test_every_mcp_method_needs_auth(hub):
    client, _ = hub
    for method in ("GET", "DELETE"):
        r = await client.request(method, f"{PREFIX}/mcp", headers={"accept": "text/event-stream"})
        assert r.status_code == 401


async def test_valid_token_initializes(hub):
    client, auth = hub
    r = await client.post(f"{PREFIX}/mcp", json=INIT,
                          headers={**MCP_HEADERS, "authorization": f"Bearer {auth.mint('a@example.com')}"})
    assert r.status_code == 200 and r.headers.get("mcp-session-id")


async def test_session_of_another_user_is_not_found(hub):
    client, auth = hub
    alice = {**MCP_HEADERS, "authorization": f"Bearer {auth.mint('alice@example.com')}"}
    r = await client.post(f"{PREFIX}/mcp", json=INIT, headers=alice)
    sid = r.headers["mcp-session-id"]
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    mallory = {**MCP_HEADERS, "authorization": f"Bearer {auth.mint('mallory@example.com')}",
               "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
    r = await client.post(f"{PREFIX}/mcp", json=ping, headers=mallory)
    assert r.status_code == 404
    r = await client.post(f"{PREFIX}/mcp", json=ping, headers={**alice, "mcp-session-id": sid,
                                                               "mcp-protocol-version": "2025-11-25"})
    assert r.status_code == 200


@pytest.mark.parametrize("path", [
    "/.well-known/oauth-protected-resource",
    f"/.well-known/oauth-protected-resource{PREFIX}/mcp",
    f"{PREFIX}/mcp/.well-known/oauth-protected-resource",
    f"{PREFIX}/.well-known/oauth-protected-resource",
])
async def test_protected_resource_metadata_unauthenticated(hub, path):
    client, auth = hub
    r = await client.get(path)
    assert r.status_code == 200
    body = r.json()
    assert body["resource"] == f"{BASE}{PREFIX}/mcp"
    assert body["authorization_servers"] == [auth.issuer]
    assert body["scopes_supported"] == ["mcp.access"] and body["bearer_methods_supported"] == ["header"]


async def test_routes_live_under_the_prefix(hub):
    client, _ = hub
    assert (await client.post("/mcp", json=INIT, headers=MCP_HEADERS)).status_code == 404
    assert (await client.get(f"{PREFIX}/health")).json() == {"status": "ok"}
    assert (await client.get("/health")).status_code == 200
    r = await client.get(f"{PREFIX}/ready")
    assert r.status_code == 200 and r.json()["status"] == "ready"


async def test_metrics_have_no_user_values(hub):
    client, auth = hub
    await client.post(f"{PREFIX}/mcp", json=INIT, headers={**MCP_HEADERS, "authorization": "Bearer nope"})
    text = (await client.get(f"{PREFIX}/metrics")).text
    assert 'hub_auth_failures_total{reason="malformed_token"}' in text
    assert "example.com" not in text and "nope" not in text


@pytest.mark.parametrize(("headers", "status", "reason"), [
    ({"host": "evil.example"}, 421, "host_not_allowed"),
    ({"host": "hub.example.com"}, 401, None),
    ({"origin": "https://evil.example"}, 403, "origin_not_allowed"),
    ({"origin": "https://claude.ai"}, 401, None),
    ({"origin": "http://localhost:5173"}, 401, None),
])
async def test_host_and_origin(hub, headers, status, reason):
    client, _ = hub
    r = await client.post(f"{PREFIX}/mcp", json=INIT, headers={**MCP_HEADERS, **headers})
    assert r.status_code == status
    if reason:
        assert r.json()["error"]["context"]["reason"] == reason


async def test_health_is_exempt_from_host_check(hub):
    client, _ = hub
    assert (await client.get(f"{PREFIX}/health", headers={"host": "10.0.0.7:8080"})).status_code == 200


async def test_failed_startup_probe_never_turns_ready(tmp_path):
    probe = Probe("storage", ok=False)
    app, _ = _app(tmp_path, probes=[probe])
    async with app.router.lifespan_context(app):
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE) as client:
            r = await client.get(f"{PREFIX}/ready")
            assert r.status_code == 503
            body = r.json()["error"]
            assert body["code"] == "NOT_READY" and body["context"]["checks"]["storage"] == "failed: RuntimeError"
            assert "postgres" not in r.text  # probe messages are not echoed
            probe.ok = True  # storage comes back, but the start-up probe failed: still not ready
            assert (await client.get(f"{PREFIX}/ready")).status_code == 503
            assert (await client.get(f"{PREFIX}/health")).status_code == 200


async def test_offboarding_revokes_a_cached_token(tmp_path):
    app, auth = _app(tmp_path)
    app_auth_component_hooks = app.state.hub.offboarding.hooks
    app.state.hub.offboarding.hooks = [*app_auth_component_hooks, auth]  # the dev mode's revocation hook
    tok = auth.mint("erin@example.com")
    headers = {**MCP_HEADERS, "authorization": f"Bearer {tok}"}
    async with app.router.lifespan_context(app):
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE) as client:
            assert (await client.post(f"{PREFIX}/mcp", json=INIT, headers=headers)).status_code == 200
            await app.state.hub.offboarding.on_user_deleted("erin@example.com")
            r = await client.post(f"{PREFIX}/mcp", json=INIT, headers=headers)
            assert r.status_code == 401 and r.json()["error"]["context"]["reason"] == "revoked"


class _RevocableAuth:
    """Dev tokens plus a deny list of jtis, announced on a :class:`Revocations` like a real auth mode does."""

    def __init__(self, dev: DevAuthenticator) -> None:
        from hub.auth.revocations import Revocations

        self.dev, self.denied, self.revocations = dev, set(), Revocations()

    async def authenticate(self, token: str):
        from hub.auth.base import InvalidToken

        principal = await self.dev.authenticate(token)
        if principal.token_id in self.denied:
            raise InvalidToken("token was revoked", reason="revoked")
        return principal

    def revoke(self, jti: str, *, announce: bool) -> None:
        self.denied.add(jti)
        if announce:
            self.revocations.publish(token_id=jti)


@pytest.mark.parametrize("announce", [True, False])
async def test_revocation_reaches_the_token_cache(tmp_path, announce):
    """A token already verified (so cached) and then revoked is refused on its next request once the auth mode
    announces it; unannounced, the cache would keep serving it (the control case shows the cache is in play)."""
    import jwt

    s = settings(tmp_path, server={"prefix": PREFIX})
    auth = _RevocableAuth(DevAuthenticator(s))
    app = create_app(s, authenticator=auth, connectors={}, pipeline_factory=lambda _s: PassPipeline(),
                     components=[Component(name="auth.test", revocations=auth.revocations)])
    tok = auth.dev.mint("frank@example.com")
    headers = {**MCP_HEADERS, "authorization": f"Bearer {tok}"}
    async with app.router.lifespan_context(app):
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE) as client:
            assert (await client.post(f"{PREFIX}/mcp", json=INIT, headers=headers)).status_code == 200
            auth.revoke(jwt.decode(tok, options={"verify_signature": False})["jti"], announce=announce)
            r = await client.post(f"{PREFIX}/mcp", json=INIT, headers=headers)
    if announce:
        assert r.status_code == 401 and r.json()["error"]["context"]["reason"] == "revoked"
        assert tok not in r.text
    else:
        assert r.status_code == 200


async def test_modern_headers_must_match_the_body(hub):
    """2026-07-28: Mcp-Method / Mcp-Name must match the body; the hub routes on the body's params.name only, and a
    mismatch is refused before any handler runs (no header/body routing bypass)."""
    client, auth = hub
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
    body = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "everything__get-env", "arguments": {}, "_meta": meta}}
    headers = {**MCP_HEADERS, "authorization": f"Bearer {auth.mint('a@example.com')}",
               "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "time__get_current_time"}
    r = await client.post(f"{PREFIX}/mcp", json=body, headers=headers)
    assert r.status_code == 400
    assert r.json()["error"]["code"] != 0 and "result" not in r.json()


async def test_access_log_has_request_id_and_user_pseudonym(hub, caplog):
    import logging

    from hub.logs import JsonFormatter, user_ref

    client, auth = hub
    with caplog.at_level(logging.INFO, logger="hub.access"):
        await client.post(f"{PREFIX}/mcp", json=INIT, headers={
            **MCP_HEADERS, "authorization": f"Bearer {auth.mint('grace@example.com')}", "x-request-id": "rid-abcdef12"})
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "hub.access"]
    assert any('"request_id":"rid-abcdef12"' in x and user_ref("grace@example.com") in x for x in lines)
    assert not any("grace@example.com" in x for x in lines)
