"""hub.app.build_app, the composition root, in process: dev auth + the real vault + the admin API + the real
pipeline. A credential stored through the admin API reaches only its owner's child and never comes back."""

from __future__ import annotations

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from hub.app import build_app
from tests.hub.harness import settings

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]
BASE = "http://127.0.0.1:8080"


@pytest.fixture(scope="module")
async def hub(tmp_path_factory):
    s = settings(tmp_path_factory.mktemp("build"), connectors={"enabled": ["everything"]})
    app = build_app(s)
    async with app.router.lifespan_context(app):
        yield app


def _http(app, token):
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE,
                              headers={"Authorization": f"Bearer {token}"}, timeout=30)


async def test_vault_credential_reaches_only_its_owner(hub):
    from hub.auth.dev import DevAuthenticator

    dev = DevAuthenticator(hub.state.hub.settings)
    values = {"alice@example.com": "alice-vault-value-0001", "bob@example.com": "bob-vault-value-0002"}
    for user, value in values.items():
        async with _http(hub, dev.mint(user)) as h:
            r = await h.put("/v1/me/credentials/everything/EVERYTHING_API_KEY", json={"value": value})
            assert r.status_code in (200, 201, 204), r.text
            assert value not in r.text  # write-only
    for user in values:
        async with _http(hub, dev.mint(user)) as h:
            async with Client(streamable_http_client(f"{BASE}/mcp", http_client=h), mode="2026-07-28") as c:
                text = (await c.call_tool("everything__get-env", {})).content[0].text
        # The hub's exact-match marker, kept as is: the pipeline does not re-mark its own markers.
        assert '"EVERYTHING_API_KEY": "[REDACTED:credential]"' in text
        assert all(v not in text for v in values.values())
    owners = {i.owner for i in hub.state.hub.pool.instances()}
    assert owners == set(values)


async def test_admin_api_requires_auth_with_the_same_401_body(hub):
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=hub), base_url=BASE) as h:
        r = await h.get("/v1/me/credentials")
    assert r.status_code == 401
    assert r.json()["error"]["context"]["reason"] == "missing_token"
    assert r.headers["www-authenticate"].startswith('Bearer resource_metadata="')


async def test_offboarding_stops_the_users_children(hub):
    from hub.auth.dev import DevAuthenticator

    dev = DevAuthenticator(hub.state.hub.settings)
    async with _http(hub, dev.mint("root@example.com", roles=("admin",))) as h:
        r = await h.delete("/v1/users/bob@example.com")
        assert r.status_code in (200, 204), r.text
    assert [i.owner for i in hub.state.hub.pool.instances()] == ["alice@example.com"]
    async with _http(hub, dev.mint("bob@example.com")) as h:
        r = await h.get("/v1/me/credentials")
        assert r.status_code == 401


async def test_require_grants_limits_connectors_per_user_or_role(tmp_path):
    from hub.auth.dev import DevAuthenticator

    s = settings(tmp_path, connectors={"enabled": ["everything", "time"], "require_grants": True})
    app = build_app(s)
    directory = app.state.hub.users
    directory.grant("time", role="user")
    directory.grant("everything", user="alice@example.com")
    dev = DevAuthenticator(s)
    async with app.router.lifespan_context(app):
        seen = {}
        for user in ("alice@example.com", "bob@example.com"):
            async with _http(app, dev.mint(user)) as h:
                async with Client(streamable_http_client(f"{BASE}/mcp", http_client=h), mode="2026-07-28") as c:
                    seen[user] = {t.name.split("__")[0] for t in (await c.list_tools()).tools}
                    if user == "bob@example.com":
                        r = await c.call_tool("everything__echo", {"message": "x"})
                        assert r.is_error and "not granted" in r.content[0].text
        assert seen == {"alice@example.com": {"everything", "time"}, "bob@example.com": {"time"}}


def test_admin_actions_never_unaudited(tmp_path):
    """No pipeline audit log and none for the vault either ([audit] path = ""): the hub refuses to start rather than
    run its admin API unaudited; with the default path, a pipeline without a log falls back to the vault's."""
    from mcpguard.errors import ConfigError
    from tests.hub.harness import PassPipeline

    off = settings(tmp_path / "off", connectors={"enabled": []}, audit={"path": ""})
    with pytest.raises(ConfigError, match="admin actions must be audited"):
        build_app(off, pipeline=PassPipeline())
    on = settings(tmp_path / "on", connectors={"enabled": []})
    app = build_app(on, pipeline=PassPipeline())
    assert app.state.hub.audit is not None and str(app.state.hub.audit.path).endswith("audit.jsonl")
