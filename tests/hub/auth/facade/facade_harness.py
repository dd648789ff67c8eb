"""A scripted browser for the facade's login: follows /authorize → consent page → POST /consent → mock Entra
authorize (auto-approved by ``login_hint``) → form_post to the hub's callback → the client's redirect URI."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx2
import jwt

ENTRA_HOST = "https://login.microsoftonline.com"
CIMD_HOST = "cimd.test"
CIMD_URL = f"https://{CIMD_HOST}/clients/e2e.json"
REDIRECT = "http://127.0.0.1:33418/callback"


def form_fields(page: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}


def form_action(page: str) -> str:
    m = re.search(r'<form method="post" action="([^"]+)"', page)
    assert m, "no form on the page"
    return html.unescape(m.group(1))


@dataclass
class Browser:
    """``entra_url``: where the mock Entra really listens. ``login_hint``: who signs in at the mock."""

    entra_url: str
    login_hint: str
    decision: str = "approve"
    pages: list[httpx2.Response] = field(default_factory=list)
    consent_cookie_header: str = ""

    async def authorize(self, authorize_url: str) -> dict[str, str]:
        """Run the whole login; returns the query the client's redirect URI received."""
        sep = "&" if "?" in authorize_url else "?"
        url = authorize_url + sep + urlencode({"login_hint": self.login_hint})
        async with httpx2.AsyncClient(follow_redirects=False, timeout=20) as c:
            consent = await c.get(url)
            self.pages.append(consent)
            assert consent.status_code == 200, consent.text
            self.consent_cookie_header = consent.headers["set-cookie"]
            cookie = self.consent_cookie_header.split(";", 1)[0]
            fields = form_fields(consent.text)
            # The cookie is Secure; over loopback http the browser stand-in sends it by hand.
            hub_origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
            r = await c.post(form_action(consent.text), data={**fields, "decision": self.decision},
                             headers={"Cookie": cookie, "Origin": hub_origin})
            self.pages.append(r)
            assert r.status_code == 302, r.text
            location = r.headers["location"]
            if not location.startswith(ENTRA_HOST):
                return dict(parse_qsl(urlsplit(location).query))
            r = await c.get(self.entra_url + location[len(ENTRA_HOST):])
            self.pages.append(r)
            assert r.status_code == 200, r.text
            # Entra's form_post is a cross-site POST: real browsers send Entra's Origin with it.
            r = await c.post(form_action(r.text), data=form_fields(r.text), headers={"Origin": ENTRA_HOST})
            self.pages.append(r)
            if r.status_code != 302:
                return {"page_status": str(r.status_code), "page": r.text}
            return dict(parse_qsl(urlsplit(r.headers["location"]).query))


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def dcr(hub, redirect_uris: list[str], **extra) -> httpx2.Response:
    async with httpx2.AsyncClient() as c:
        return await c.post(hub.url + "/register", json={"redirect_uris": redirect_uris, "client_name": "t", **extra})


def authorize_url(hub, client_id: str, challenge: str, **over) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "st-1",
              "code_challenge": challenge, "code_challenge_method": "S256", "resource": hub.mcp_url,
              "scope": "mcp.access", **over}
    return hub.url + "/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


async def token(hub, **data) -> httpx2.Response:
    async with httpx2.AsyncClient() as c:
        return await c.post(hub.url + "/token", data=data)


def hub_token(facade_hub, roles: list[str]) -> str:
    """A hub access token for a fresh grant family with ``roles`` (signed with the running facade's key)."""
    from hub.auth.facade.store import FamilyRow
    from tests.mock_entra import TENANT

    now = time.time()
    fid = "fam-" + secrets.token_hex(6)
    user = f"{TENANT}:admin-{fid}"
    facade_hub.facade.store.put_family(FamilyRow(
        family_id=fid, client_id="admin-test", user_id=user, email="root@example.com", tenant=TENANT,
        roles=" ".join(roles), scopes="mcp.access", resource=facade_hub.mcp_url, entra_tokens=None, created_at=now,
        expires_at=now + 600, revoked=False))
    keys = facade_hub.facade.keys
    claims = {"iss": facade_hub.facade.issuer, "aud": facade_hub.mcp_url, "sub": user, "jti": fid, "iat": int(now),
              "exp": int(now) + 300, "tid": TENANT, "roles": roles, "fid": fid, "scope": "mcp.access"}
    return jwt.encode(claims, keys._private[keys.active_kid], algorithm=keys.alg, headers={"kid": keys.active_kid})
