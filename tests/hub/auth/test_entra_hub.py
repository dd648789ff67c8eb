"""The hub in ``auth.mode = "entra"`` (direct resource server) over HTTP: RFC 9728 metadata points at the Entra
tenant, and every bad token of the matrix gets 401 with its reason and the challenge."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from entra_forge import entra_matrix
from hub.auth.entra import build_auth
from hub.auth.msal_app import EntraApp
from tests.hub.harness import PassPipeline, free_port, serve_in_thread, settings as hub_settings
from tests.mock_entra import HUB_CLIENT_SECRET, TENANT

pytestmark = pytest.mark.anyio
ACCEPT = "application/json, text/event-stream"


@pytest.fixture(scope="module")
def entra_hub(entra_settings, tmp_path_factory) -> Iterator[str]:
    from hub.app import build_app

    port = free_port()
    s = hub_settings(tmp_path_factory.mktemp("entra-hub"), server={"port": port}, connectors={"enabled": []},
                     auth={"mode": "entra", "entra": entra_settings.model_dump(mode="json")})
    bundle = build_auth(s, entra=EntraApp(entra_settings, client_secret=HUB_CLIENT_SECRET))
    app = build_app(s, auth_bundle=bundle, pipeline_factory=lambda _s: PassPipeline())
    with serve_in_thread(app, port) as url:
        yield url


async def post(url: str, token: str | None, query: str = "") -> httpx2.Response:
    headers = {"Accept": ACCEPT, **({"Authorization": f"Bearer {token}"} if token else {})}
    async with httpx2.AsyncClient(timeout=10) as c:
        return await c.post(f"{url}/mcp{query}", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                            headers=headers)


async def test_prm_points_at_entra(entra_hub):
    async with httpx2.AsyncClient() as c:
        for path in ("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp",
                     "/mcp/.well-known/oauth-protected-resource"):
            prm = (await c.get(entra_hub + path)).json()
            assert prm["authorization_servers"] == [f"https://login.microsoftonline.com/{TENANT}/v2.0"], path
            assert prm["scopes_supported"] == ["api://mcpguard-hub/mcp.access"]


async def test_good_token(entra_hub, mock_entra):
    r = await post(entra_hub, mock_entra.access_token("alice@example.com"))
    assert r.status_code != 401, r.text  # authenticated; the MCP layer answers (400: no session yet)


async def test_matrix_over_http(entra_hub, mock_entra):
    unpublished = mock_entra.add_key(publish=False)
    for case, token, reason in entra_matrix(mock_entra, unpublished):
        r = await post(entra_hub, token)
        assert r.status_code == 401, (case, r.text)
        assert r.json()["error"]["context"]["reason"] == reason, case
        assert "resource_metadata=" in r.headers["www-authenticate"], case
        assert token not in r.text


async def test_token_in_query(entra_hub, mock_entra):
    r = await post(entra_hub, None, query="?access_token=" + mock_entra.access_token("alice@example.com"))
    assert r.status_code == 401 and r.json()["error"]["context"]["reason"] == "token_in_query"


class _RewriteTransport(httpx2.AsyncBaseTransport):
    """Sends https://login.microsoftonline.com/... to the mock; everything else goes out unchanged."""

    def __init__(self, mock_url: str) -> None:
        self.mock = httpx2.URL(mock_url)
        self.inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.host == "login.microsoftonline.com":
            request.url = request.url.copy_with(scheme=self.mock.scheme, host=self.mock.host, port=self.mock.port)
            request.headers["Host"] = f"{self.mock.host}:{self.mock.port}"
        return await self.inner.handle_async_request(request)


async def test_doctor_on_entra_hub(entra_hub, mock_entra_url):
    from hub.doctor import run_doctor

    async with httpx2.AsyncClient(transport=_RewriteTransport(mock_entra_url), timeout=10) as client:
        report = await run_doctor(entra_hub + "/mcp", client=client)
    status = {c.name: c.status for c in report.checks}
    assert not report.failed, report.render()
    assert status["authorization server"] == "OK" and status["jwks"] == "OK"
    assert status["claude.ai compatibility"] == "WARN"  # Entra direct cannot serve claude.ai
