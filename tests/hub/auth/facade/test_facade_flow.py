"""The facade's endpoints one by one against the running hub: metadata, consent page and its CSRF/state rules,
redirect URI matching, code and PKCE rules, DCR restrictions, the Entra callback's user checks."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx2
import pytest

from facade_harness import ENTRA_HOST, REDIRECT, Browser, authorize_url, dcr, form_action, form_fields, pkce, token as _token

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
async def client_id(facade_hub) -> str:
    r = await dcr(facade_hub, [REDIRECT])
    assert r.status_code == 201, r.text
    return r.json()["client_id"]


async def test_metadata(facade_hub):
    async with httpx2.AsyncClient() as c:
        meta = (await c.get(facade_hub.url + "/.well-known/oauth-authorization-server")).json()
        jwks = (await c.get(meta["jwks_uri"])).json()
        prm = (await c.get(facade_hub.url + "/.well-known/oauth-protected-resource/mcp")).json()
    assert meta["issuer"] == facade_hub.facade.issuer == facade_hub.url
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["client_id_metadata_document_supported"] is True
    assert meta["registration_endpoint"] == facade_hub.url + "/register"
    assert meta["revocation_endpoint"] == facade_hub.url + "/revoke"
    assert [k["kid"] for k in jwks["keys"]] == [facade_hub.facade.keys.active_kid]
    assert all("d" not in k for k in jwks["keys"])
    assert prm["authorization_servers"] == [facade_hub.facade.issuer] and prm["resource"] == facade_hub.mcp_url


async def test_consent_page_headers_and_cookie(facade_hub, client_id):
    _, challenge = pkce()
    async with httpx2.AsyncClient() as c:
        r = await c.get(authorize_url(facade_hub, client_id, challenge))
    assert r.status_code == 200
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    cookie = r.headers["set-cookie"]
    name, _, rest = cookie.partition("=")
    attrs = {a.strip().split("=")[0].lower() for a in rest.split(";")[1:]}
    assert name == "__Host-mcpguard-consent"
    assert {"secure", "httponly", "samesite", "path"} <= attrs and "domain" not in attrs
    assert "samesite=lax" in cookie.lower() and "path=/;" in cookie.lower().replace(" ", "") + ";"
    assert "t" in r.text and REDIRECT in r.text and "mcp.access" in r.text  # names client, redirect, scopes
    assert form_fields(r.text)["csrf"] == cookie.split(";")[0].split("=", 1)[1]


async def _consent(hub, client_id, *, cookie: str | None = "same", csrf: str | None = None, **over):
    _, challenge = pkce()
    async with httpx2.AsyncClient() as c:
        page = await c.get(authorize_url(hub, client_id, challenge, **over))
        fields = form_fields(page.text)
        real_cookie = page.headers["set-cookie"].split(";")[0]
        headers = {"Cookie": real_cookie} if cookie == "same" else ({"Cookie": cookie} if cookie else {})
        data = {**fields, "decision": "approve"}
        if csrf is not None:
            data["csrf"] = csrf
        first = await c.post(form_action(page.text), data=data, headers=headers)
        again = await c.post(form_action(page.text), data=data, headers=headers)
    return first, again


async def test_consent_csrf_refused(facade_hub, client_id):
    first, _ = await _consent(facade_hub, client_id, cookie=None)
    assert first.status_code == 403
    first, _ = await _consent(facade_hub, client_id, cookie="__Host-mcpguard-consent=forged")
    assert first.status_code == 403
    first, _ = await _consent(facade_hub, client_id, csrf="forged")
    assert first.status_code == 403


async def test_consent_single_use_and_entra_state_single_use(facade_hub, client_id, mock_entra):
    first, again = await _consent(facade_hub, client_id)
    assert first.status_code == 302 and first.headers["location"].startswith(ENTRA_HOST)
    assert "resource=" not in first.headers["location"]  # the MCP resource never reaches Entra
    assert again.status_code == 400  # consent transaction already used
    # Entra leg: replaying the callback (same state) is refused.
    async with httpx2.AsyncClient() as c:
        page = await c.get(facade_hub.entra_url + first.headers["location"][len(ENTRA_HOST):] + "&login_hint=alice%40example.com")
        fields = form_fields(page.text)
        ok = await c.post(form_action(page.text), data=fields)
        replay = await c.post(form_action(page.text), data=fields)
    assert ok.status_code == 302 and "code=" in ok.headers["location"]
    assert replay.status_code == 400 and "code=" not in replay.headers.get("location", "")
    q = dict(parse_qsl(urlsplit(ok.headers["location"]).query))
    assert q["state"] == "st-1" and q["iss"] == facade_hub.facade.issuer


async def test_deny_returns_access_denied(facade_hub, client_id):
    _, challenge = pkce()
    browser = Browser(facade_hub.entra_url, "alice@example.com", decision="deny")
    q = await browser.authorize(authorize_url(facade_hub, client_id, challenge))
    assert q["error"] == "access_denied" and q["state"] == "st-1" and q["iss"] == facade_hub.facade.issuer


@pytest.mark.parametrize("variant", [
    REDIRECT + "/", REDIRECT.replace("33418", "33419"), REDIRECT.upper().replace("HTTP", "http"),
    REDIRECT + "?x=1", REDIRECT + "#f", REDIRECT.replace("http://", "https://"), REDIRECT[:-1],
    "https://evil.example/callback", REDIRECT.replace("127.0.0.1", "localhost"),
])
async def test_redirect_uri_variants_refused_without_redirect(facade_hub, client_id, variant):
    _, challenge = pkce()
    async with httpx2.AsyncClient() as c:
        r = await c.get(authorize_url(facade_hub, client_id, challenge, redirect_uri=variant))
    assert r.status_code == 400 and "location" not in r.headers


@pytest.mark.parametrize("over,error", [
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),
    ({"resource": "https://other.example/mcp"}, "invalid_target"),
    ({"scope": "mcp.access admin:everything"}, "invalid_scope"),
    ({"response_type": "token"}, "unsupported_response_type"),
])
async def test_authorize_errors_redirect_with_state(facade_hub, client_id, over, error):
    _, challenge = pkce()
    async with httpx2.AsyncClient() as c:
        r = await c.get(authorize_url(facade_hub, client_id, challenge, **over))
    assert r.status_code == 302
    q = dict(parse_qsl(urlsplit(r.headers["location"]).query))
    assert q["error"] == error and q["state"] == "st-1" and q["iss"] == facade_hub.facade.issuer


async def _code(hub, client_id, email="alice@example.com") -> tuple[str, str]:
    verifier, challenge = pkce()
    q = await Browser(hub.entra_url, email).authorize(authorize_url(hub, client_id, challenge))
    assert "code" in q, q
    return q["code"], verifier


async def test_code_rules(facade_hub, client_id):
    code, verifier = await _code(facade_hub, client_id)
    base = {"grant_type": "authorization_code", "code": code, "client_id": client_id, "redirect_uri": REDIRECT,
            "code_verifier": verifier}
    assert (await _token(facade_hub, **{**base, "redirect_uri": REDIRECT + "/"})).json()["error"] == "invalid_grant"
    # The failed attempt consumed the code (single use): even the correct request now fails.
    assert (await _token(facade_hub, **base)).json()["error"] == "invalid_grant"

    code, verifier = await _code(facade_hub, client_id)
    base.update(code=code, code_verifier=verifier)
    assert (await _token(facade_hub, **{**base, "code_verifier": "x" * 50})).json()["error"] == "invalid_grant"

    code, verifier = await _code(facade_hub, client_id)
    base.update(code=code, code_verifier=verifier)
    other = (await dcr(facade_hub, [REDIRECT])).json()["client_id"]
    assert (await _token(facade_hub, **{**base, "client_id": other})).json()["error"] == "invalid_grant"

    code, verifier = await _code(facade_hub, client_id)
    base.update(code=code, code_verifier=verifier)
    ok = await _token(facade_hub, **base)
    assert ok.status_code == 200 and ok.headers["cache-control"] == "no-store"
    tokens = ok.json()
    replay = await _token(facade_hub, **base)
    assert replay.json()["error"] == "invalid_grant"
    # Code replay revoked what the first exchange issued.
    assert (await _token(facade_hub, grant_type="refresh_token", refresh_token=tokens["refresh_token"],
                         client_id=client_id)).json()["error"] == "invalid_grant"


async def test_unknown_role_user_gets_clear_page(facade_hub, client_id, mock_entra):
    from hub.auth.roles import RoleMapping

    facade = facade_hub.facade
    saved = facade.entra_settings
    facade.entra_settings = saved.model_copy(update={"roles": RoleMapping(default=None)})
    try:
        _, challenge = pkce()
        q = await Browser(facade_hub.entra_url, "bob@example.com").authorize(
            authorize_url(facade_hub, client_id, challenge))
    finally:
        facade.entra_settings = saved
    assert q.get("page_status") == "403" and "no role on this hub" in q["page"] and "code" not in q


async def test_other_tenant_user_refused(facade_hub, client_id):
    _, challenge = pkce()
    q = await Browser(facade_hub.entra_url, "mallory@other.example").authorize(
        authorize_url(facade_hub, client_id, challenge))
    assert q.get("page_status") == "403" and "organisation" in q["page"]


@pytest.mark.parametrize("uris,ok", [
    (["https://claude.ai/api/mcp/auth_callback"], True),
    (["https://claude.com/api/mcp/auth_callback"], True),
    (["http://localhost:7777/cb", "http://127.0.0.1:1/x"], True),
    (["https://claude.ai/api/mcp/auth_callback/"], False),
    (["https://evil.example/callback"], False),
    (["http://evil.example/cb"], False),
    (["https://claude.ai/api/mcp/auth_callback", "https://evil.example/cb"], False),
    ([], False),
])
async def test_dcr_redirect_allowlist(facade_hub, uris, ok):
    r = await dcr(facade_hub, uris)
    assert (r.status_code == 201) is ok, r.text
    if not ok:
        assert r.json()["error"] in ("invalid_redirect_uri", "invalid_client_metadata")


async def test_dcr_confidential_gets_secret_once(facade_hub):
    r = await dcr(facade_hub, [REDIRECT], token_endpoint_auth_method="client_secret_basic")
    body = r.json()
    assert r.status_code == 201 and body["client_secret"]
    row = facade_hub.facade.store.get_client(body["client_id"])
    assert row.secret_hash != body["client_secret"] and body["client_secret"] not in row.secret_hash
