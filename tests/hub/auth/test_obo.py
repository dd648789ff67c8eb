"""``hub.auth.obo``: on-behalf-of tokens for Entra-protected upstreams, against the mock Entra through MSAL."""

from __future__ import annotations

import jwt
import pytest

from hub.auth.entra import EntraAuthenticator
from hub.auth.jwks import JwksCache
from hub.auth.msal_app import EntraApp
from hub.auth.obo import OboCredentialSource, OboUnavailable
from hub.seams import CredentialSpec
from tests.mock_entra import DOWNSTREAM_CLIENT_ID, HUB_CLIENT_SECRET

pytestmark = pytest.mark.anyio
SPEC = CredentialSpec(name="token", kind="entra_obo", scopes=("api://downstream-mcp/read",),
                      inject={"header": "Authorization", "template": "Bearer {value}"})


@pytest.fixture(scope="module")
def entra_app(entra_settings) -> EntraApp:
    return EntraApp(entra_settings, client_secret=HUB_CLIENT_SECRET)


@pytest.fixture
def auth(entra_settings, mock_entra) -> EntraAuthenticator:
    async def fetch(url):
        return mock_entra.jwks()

    return EntraAuthenticator(entra_settings, jwks=JwksCache("https://login.microsoftonline.com/k", fetch))


async def test_obo_in_entra_mode_cached_per_user(auth, entra_app, mock_entra):
    source = OboCredentialSource(entra_app, auth.assertion_for)
    alice = await auth.authenticate(mock_entra.access_token("alice@example.com"))
    carol = await auth.authenticate(mock_entra.access_token("carol@example.com"))
    before = mock_entra.counts["obo"]
    a1 = await source.resolve(alice, "downstream", SPEC)
    a2 = await source.resolve(alice, "downstream", SPEC)
    c1 = await source.resolve(carol, "downstream", SPEC)
    assert a1 == a2 and a1 != c1 and mock_entra.counts["obo"] == before + 2
    claims = jwt.decode(a1, options={"verify_signature": False})
    assert claims["aud"] == DOWNSTREAM_CLIENT_ID and claims["oid"] == mock_entra.users["alice@example.com"].oid
    assert claims["scp"] == "read"
    await source.on_user_deleted(alice.user_id)
    await auth.on_user_deleted(alice.user_id)
    assert await source.resolve(alice, "downstream", SPEC) is None  # no assertion held any more


async def test_obo_refused_for_disabled_user(auth, entra_app, mock_entra):
    mock_entra.add_user("erin@example.com")
    source = OboCredentialSource(entra_app, auth.assertion_for)
    erin = await auth.authenticate(mock_entra.access_token("erin@example.com"))
    mock_entra.disable_user("erin@example.com")
    with pytest.raises(OboUnavailable) as info:
        await source.resolve(erin, "downstream", SPEC)
    assert "eyJ" not in str(info.value)
