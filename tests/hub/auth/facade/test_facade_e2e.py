"""End to end: the mcp SDK's ``OAuthClientProvider`` (standing in for claude.ai) against the hub in facade mode.

PRM discovery → AS metadata → DCR | CIMD | pre-registered client → consent → Entra login (mock, via MSAL) → code →
token → ``tools/call``, then refresh (re-checked with Entra) and revoke."""

from __future__ import annotations

import httpx2
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from facade_harness import CIMD_URL, REDIRECT, Browser
from hub.auth.facade.clients import register_confidential

pytestmark = pytest.mark.anyio


class Memory:
    def __init__(self, client_info: OAuthClientInformationFull | None = None) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info = client_info

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, info):
        self.client_info = info


def provider(hub, browser: Browser, storage: Memory, **kw) -> OAuthClientProvider:
    result: dict[str, str] = {}

    async def redirect_handler(url: str) -> None:
        result.clear()
        result.update(await browser.authorize(url))

    async def callback_handler() -> AuthorizationCodeResult:
        assert "code" in result, result
        return AuthorizationCodeResult(code=result["code"], state=result.get("state"), iss=result.get("iss"))

    meta = OAuthClientMetadata(client_name="e2e client", redirect_uris=[REDIRECT],
                               grant_types=["authorization_code", "refresh_token"])
    return OAuthClientProvider(hub.mcp_url, meta, storage, redirect_handler, callback_handler, **kw)


async def call_time(hub, auth: OAuthClientProvider) -> str:
    async with httpx2.AsyncClient(auth=auth, timeout=60) as http:
        async with Client(streamable_http_client(hub.mcp_url, http_client=http)) as client:
            tools = await client.list_tools()
            names = [t.name for t in tools.tools]
            assert "time__get_current_time" in names, names
            result = await client.call_tool("time__get_current_time", {"timezone": "UTC"})
            assert not result.is_error, result
            return result.content[0].text


async def token_post(hub, data: dict[str, str]) -> httpx2.Response:
    async with httpx2.AsyncClient(timeout=20) as c:
        return await c.post(hub.url + "/token", data=data)


async def test_dcr_login_call_refresh_revoke(facade_hub, mock_entra):
    storage = Memory()
    browser = Browser(facade_hub.entra_url, "alice@example.com")
    auth = provider(facade_hub, browser, storage)
    assert "datetime" in await call_time(facade_hub, auth)
    info, tokens = storage.client_info, storage.tokens
    assert info is not None and info.client_id.startswith("dyn-") and tokens is not None and tokens.refresh_token
    # The access token is the hub's own: aud = MCP URL, sub = tid:oid, never an Entra token.
    principal = await facade_hub.facade_auth.authenticate(tokens.access_token)
    assert principal.user_id.endswith(mock_entra.users["alice@example.com"].oid) and principal.roles == {"admin"}

    # Refresh: rotates, and re-checks the user with Entra (the mock counts the refresh grant).
    before = mock_entra.counts["refresh"]
    r = await token_post(facade_hub, {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token,
                                      "client_id": info.client_id})
    assert r.status_code == 200, r.text
    fresh = r.json()
    assert fresh["refresh_token"] != tokens.refresh_token and mock_entra.counts["refresh"] == before + 1

    # Reuse of the rotated refresh token revokes the family: the fresh tokens die too.
    r = await token_post(facade_hub, {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token,
                                      "client_id": info.client_id})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = await token_post(facade_hub, {"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"],
                                      "client_id": info.client_id})
    assert r.status_code == 400
    async with httpx2.AsyncClient() as c:
        r = await c.post(facade_hub.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                         headers={"Authorization": f"Bearer {fresh['access_token']}",
                                  "Accept": "application/json, text/event-stream"})
    assert r.status_code == 401 and r.json()["error"]["context"]["reason"] == "revoked"


async def test_revoke_kills_the_grant(facade_hub):
    """RFC 7009: revoking the refresh token ends the grant: the refresh token and every access token of the family
    stop working (this one was never presented, so it was never cached; the cached case is below)."""
    storage = Memory()
    auth = provider(facade_hub, Browser(facade_hub.entra_url, "bob@example.com"), storage)
    await call_time(facade_hub, auth)
    tokens, info = storage.tokens, storage.client_info
    fresh = (await token_post(facade_hub, {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token,
                                           "client_id": info.client_id})).json()
    async with httpx2.AsyncClient() as c:
        r = await c.post(facade_hub.url + "/revoke", data={"token": fresh["refresh_token"], "client_id": info.client_id})
        assert r.status_code == 200 and r.content == b""
        r = await c.post(facade_hub.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                         headers={"Authorization": f"Bearer {fresh['access_token']}",
                                  "Accept": "application/json, text/event-stream"})
    assert r.status_code == 401, r.text
    assert r.json()["error"]["context"]["reason"] == "revoked"
    assert 'resource_metadata="' in r.headers["www-authenticate"]
    r = await token_post(facade_hub, {"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"],
                                      "client_id": info.client_id})
    assert r.json()["error"] == "invalid_grant"


async def mcp_status(hub, access_token: str) -> httpx2.Response:
    async with httpx2.AsyncClient() as c:
        return await c.post(hub.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
                            headers={"Authorization": f"Bearer {access_token}",
                                     "Accept": "application/json, text/event-stream"})


async def test_revoke_and_reuse_reach_cached_access_tokens(facade_hub):
    """An access token the hub has already verified (and cached) dies at once when its grant is revoked, by
    ``/revoke`` or by refresh-token reuse detection: the store announces the revocation to the app's cache."""
    storage = Memory()
    auth = provider(facade_hub, Browser(facade_hub.entra_url, "bob@example.com"), storage)
    await call_time(facade_hub, auth)  # the first access token is now in the verified-token cache
    tokens, info = storage.tokens, storage.client_info
    async with httpx2.AsyncClient() as c:
        r = await c.post(facade_hub.url + "/revoke", data={"token": tokens.refresh_token, "client_id": info.client_id})
    assert r.status_code == 200
    r = await mcp_status(facade_hub, tokens.access_token)
    assert r.status_code == 401 and r.json()["error"]["context"]["reason"] == "revoked"

    storage = Memory()
    auth = provider(facade_hub, Browser(facade_hub.entra_url, "bob@example.com"), storage)
    await call_time(facade_hub, auth)
    tokens, info = storage.tokens, storage.client_info
    fresh = (await token_post(facade_hub, {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token,
                                           "client_id": info.client_id})).json()
    assert (await mcp_status(facade_hub, fresh["access_token"])).status_code == 200  # verified and cached
    r = await token_post(facade_hub, {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token,
                                      "client_id": info.client_id})  # reuse of the rotated token
    assert r.json()["error"] == "invalid_grant"
    r = await mcp_status(facade_hub, fresh["access_token"])
    assert r.status_code == 401 and r.json()["error"]["context"]["reason"] == "revoked"


async def test_revoke_by_another_client_is_ignored(facade_hub):
    storage = Memory()
    await call_time(facade_hub, provider(facade_hub, Browser(facade_hub.entra_url, "bob@example.com"), storage))
    async with httpx2.AsyncClient() as c:
        other = (await c.post(facade_hub.url + "/register", json={"redirect_uris": [REDIRECT]})).json()["client_id"]
        r = await c.post(facade_hub.url + "/revoke", data={"token": storage.tokens.refresh_token, "client_id": other})
    assert r.status_code == 200  # RFC 7009 §2.2: same answer, nothing revoked
    r = await token_post(facade_hub, {"grant_type": "refresh_token", "refresh_token": storage.tokens.refresh_token,
                                      "client_id": storage.client_info.client_id})
    assert r.status_code == 200


async def test_cimd_client(facade_hub):
    facade_hub.cimd_docs["/clients/e2e.json"] = {
        "client_id": CIMD_URL, "client_name": "CIMD e2e", "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"],
    }
    storage = Memory()
    browser = Browser(facade_hub.entra_url, "carol@example.com")
    auth = provider(facade_hub, browser, storage, client_metadata_url=CIMD_URL)
    await call_time(facade_hub, auth)
    assert storage.client_info.client_id == CIMD_URL
    assert "CIMD e2e" in browser.pages[0].text and "cimd.test" in browser.pages[0].text


async def test_preregistered_confidential_client(facade_hub):
    client_id, secret = register_confidential(facade_hub.facade.store, "claude.ai (admin)", [REDIRECT])
    info = OAuthClientInformationFull(client_id=client_id, client_secret=secret, redirect_uris=[REDIRECT],
                                      token_endpoint_auth_method="client_secret_post",
                                      grant_types=["authorization_code", "refresh_token"])
    storage = Memory(info)
    await call_time(facade_hub, provider(facade_hub, Browser(facade_hub.entra_url, "alice@example.com"), storage))
    r = await token_post(facade_hub, {"grant_type": "refresh_token", "refresh_token": storage.tokens.refresh_token,
                                      "client_id": client_id, "client_secret": "wrong"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


async def test_disabled_in_entra_loses_access_on_refresh(facade_hub, mock_entra):
    mock_entra.add_user("dave@example.com", roles=["Hub.User"])
    storage = Memory()
    await call_time(facade_hub, provider(facade_hub, Browser(facade_hub.entra_url, "dave@example.com"), storage))
    mock_entra.disable_user("dave@example.com")
    r = await token_post(facade_hub, {"grant_type": "refresh_token", "refresh_token": storage.tokens.refresh_token,
                                      "client_id": storage.client_info.client_id})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


async def test_entra_outage_keeps_the_grant(facade_hub, mock_entra):
    """An unreachable Entra at refresh time answers 503 and neither rotates nor revokes: the retry succeeds."""
    storage = Memory()
    await call_time(facade_hub, provider(facade_hub, Browser(facade_hub.entra_url, "carol@example.com"), storage))
    data = {"grant_type": "refresh_token", "refresh_token": storage.tokens.refresh_token,
            "client_id": storage.client_info.client_id}
    entra = facade_hub.facade.entra

    async def down(_rt):
        return {"error": "entra_unreachable", "error_description": "ConnectError"}

    real, entra.refresh = entra.refresh, down
    try:
        r = await token_post(facade_hub, data)
    finally:
        entra.refresh = real
    assert r.status_code == 503 and r.json()["error"] == "temporarily_unavailable"
    r = await token_post(facade_hub, data)
    assert r.status_code == 200, r.text


async def test_sdk_refreshes_by_itself(facade_hub, mock_entra):
    """The SDK's own refresh path: once its access token is stale it uses the refresh token (rotated by the hub,
    re-checked with Entra) and the next tools/call works without a new login."""
    import time

    storage = Memory()
    browser = Browser(facade_hub.entra_url, "alice@example.com")
    auth = provider(facade_hub, browser, storage)
    await call_time(facade_hub, auth)
    first = storage.tokens
    logins, refreshes = len(browser.pages), mock_entra.counts["refresh"]
    auth.context.token_expiry_time = time.time() - 1
    await call_time(facade_hub, auth)
    assert storage.tokens.refresh_token != first.refresh_token and storage.tokens.access_token != first.access_token
    assert len(browser.pages) == logins and mock_entra.counts["refresh"] == refreshes + 1
