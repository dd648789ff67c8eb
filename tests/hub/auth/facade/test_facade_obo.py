"""OBO in facade mode: the Entra token obtained at sign-in (sealed in the grant) is the user assertion; the client's
hub token never reaches Entra or the upstream. The end-to-end test puts an Entra-protected MCP server (which accepts
only tokens issued for itself) behind the hub."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import httpx2
import jwt
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from facade_harness import REDIRECT, Browser, authorize_url, dcr, pkce, token as _token
from hub.auth.config import EntraSettings
from hub.auth.entra import EntraAuthenticator
from hub.auth.facade import assertion_source
from hub.auth.obo import OboCredentialSource
from hub.seams import CredentialSpec
from tests.hub.harness import PassPipeline, free_port, serve_in_thread, settings as hub_settings
from tests.mock_entra import DOWNSTREAM_CLIENT_ID

pytestmark = pytest.mark.anyio
SPEC = CredentialSpec(name="token", kind="entra_obo", scopes=("api://downstream-mcp/read",),
                      inject={"header": "Authorization", "template": "Bearer {value}"})


async def test_obo_uses_sealed_entra_token(facade_hub, mock_entra):
    client_id = (await dcr(facade_hub, [REDIRECT])).json()["client_id"]
    verifier, challenge = pkce()
    q = await Browser(facade_hub.entra_url, "carol@example.com").authorize(
        authorize_url(facade_hub, client_id, challenge))
    tokens = (await _token(facade_hub, grant_type="authorization_code", code=q["code"], client_id=client_id,
                           redirect_uri=REDIRECT, code_verifier=verifier)).json()
    principal = await facade_hub.facade_auth.authenticate(tokens["access_token"])
    source = OboCredentialSource(facade_hub.facade.entra, assertion_source(facade_hub.facade))
    token = await source.resolve(principal, "downstream", SPEC)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == DOWNSTREAM_CLIENT_ID and principal.user_id == f"{claims['tid']}:{claims['oid']}"
    assert token != tokens["access_token"]


# --- end to end: an Entra-protected upstream MCP server behind the hub -------------------------------------------
class EntraProtected:
    """ASGI wrapper: the upstream accepts only Entra tokens issued for itself (it is the seed platform's kind of MCP
    server); records who called and refuses everything else with 401."""

    def __init__(self, app, auth: EntraAuthenticator) -> None:
        self.app, self.auth = app, auth
        self.seen: list[str] = []
        self.refused: list[str] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            header = dict(scope["headers"]).get(b"authorization", b"").decode()
            try:
                principal = await self.auth.authenticate(header.removeprefix("Bearer "))
                self.seen.append(principal.user_id)
            except Exception as exc:  # noqa: BLE001
                self.refused.append(getattr(exc, "reason", type(exc).__name__))
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def obo_hub(mock_entra, mock_entra_url, entra_settings, tmp_path_factory) -> Iterator[tuple[str, EntraProtected]]:
    from mcp.server import MCPServer

    from hub.app import build_app
    from hub.auth.facade import build_auth
    from hub.auth.msal_app import EntraApp
    from tests.mock_entra import HUB_CLIENT_ID, HUB_CLIENT_SECRET, serve

    upstream = MCPServer("finance")

    @upstream.tool()
    def balance() -> str:
        """The caller's balance."""
        return "balance ok"

    downstream = EntraSettings(tenant_ids=entra_settings.tenant_ids, client_id=DOWNSTREAM_CLIENT_ID,
                               app_id_uri="api://downstream-mcp", required_scopes=["read"],
                               authority_transport_url=mock_entra_url)
    guard = EntraProtected(upstream.streamable_http_app(stateless_http=True, json_response=True),
                           EntraAuthenticator(downstream))
    tmp = tmp_path_factory.mktemp("obo-hub")
    with serve(guard) as up_url:
        cdir = tmp / "connectors" / "finance"
        cdir.mkdir(parents=True)
        (cdir / "manifest.yaml").write_text(textwrap.dedent(f"""\
            name: finance
            version: 1.0.0
            description: An Entra-protected MCP server reached with on-behalf-of tokens.
            transport: {{type: http, url: "{up_url}/mcp", protocol: legacy}}
            isolation: user
            network: false
            credentials:
              - name: entra
                kind: entra_obo
                scopes: ["api://downstream-mcp/read"]
                inject: {{header: Authorization, template: "Bearer {{value}}"}}
            egress: ["{up_url}/"]
            """))
        port = free_port()
        s = hub_settings(tmp, server={"port": port},
                         connectors={"bundled": False, "dirs": [str(tmp / "connectors")], "enabled": ["finance"]},
                         auth={"mode": "facade", "entra": entra_settings.model_dump(mode="json")})
        bundle = build_auth(s, entra=EntraApp(entra_settings, client_secret=HUB_CLIENT_SECRET))
        mock_entra.register_redirect(HUB_CLIENT_ID, bundle.component.extras["facade"].callback_url)
        app = build_app(s, auth_bundle=bundle, pipeline_factory=lambda _s: PassPipeline())
        with serve_in_thread(app, port) as url:
            yield url, guard


async def test_obo_upstream_end_to_end(obo_hub, mock_entra, mock_entra_url):
    """A user signs in through the facade; the hub calls the Entra-protected upstream with an OBO token for that
    user. The upstream never sees the hub token, only a token issued for itself, for the same tid:oid."""
    url, guard = obo_hub
    client_id = (await dcr(_Hub(url), [REDIRECT])).json()["client_id"]
    verifier, challenge = pkce()
    q = await Browser(mock_entra_url, "carol@example.com").authorize(authorize_url(_Hub(url), client_id, challenge))
    tokens = (await _token(_Hub(url), grant_type="authorization_code", code=q["code"], client_id=client_id,
                           redirect_uri=REDIRECT, code_verifier=verifier)).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with Client(streamable_http_client(url + "/mcp", http_client=http)) as client:
            result = await client.call_tool("finance__balance", {})
    assert not result.is_error, result
    assert result.content[0].text == "balance ok"
    carol = mock_entra.users["carol@example.com"]
    assert guard.seen and set(guard.seen) == {f"{carol.tid}:{carol.oid}"}
    assert guard.refused == []  # the hub never sent its own token (it would be refused as wrong audience/alg)


class _Hub:
    """The few attributes the harness helpers read."""

    def __init__(self, url: str) -> None:
        self.url, self.mcp_url = url, url + "/mcp"
