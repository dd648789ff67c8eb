"""``hub.auth.entra``: the direct resource server's acceptance rules and its negative matrix."""

from __future__ import annotations

import time

import pytest

from entra_forge import entra_matrix
from hub.auth.base import Forbidden, InvalidToken, UserNotProvisioned
from hub.auth.entra import EntraAuthenticator, email_from_claims
from hub.auth.jwks import JwksCache
from tests.mock_entra import HUB_APP_ID_URI, HUB_CLIENT_ID, TENANT, MockEntra

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def unpublished_kid(mock_entra: MockEntra) -> str:
    return mock_entra.add_key(publish=False)


@pytest.fixture
def auth(entra_settings, mock_entra: MockEntra) -> EntraAuthenticator:
    async def fetch(url: str) -> dict:
        return mock_entra.jwks()

    return EntraAuthenticator(entra_settings, jwks=JwksCache("https://login.microsoftonline.com/k", fetch))


async def test_accepts_v2_token(auth, mock_entra):
    p = await auth.authenticate(mock_entra.access_token("alice@example.com"))
    user = mock_entra.users["alice@example.com"]
    assert p.user_id == f"{TENANT}:{user.oid}"
    assert p.email == "alice@example.com" and p.tenant == TENANT
    assert p.roles == {"admin"} and "mcp.access" in p.scopes


async def test_accepts_v1_token_with_app_id_uri_audience(auth, mock_entra):
    p = await auth.authenticate(mock_entra.access_token("alice@example.com", aud=HUB_APP_ID_URI, version=1))
    assert p.roles == {"admin"}


async def test_groups_map_to_roles_and_upn_gives_email(auth, mock_entra):
    p = await auth.authenticate(mock_entra.access_token("carol@example.com"))
    assert p.roles == {"manager"} and p.email == "carol@example.com"


async def test_default_role_for_unmapped_user(auth, mock_entra):
    p = await auth.authenticate(mock_entra.access_token("bob@example.com"))
    assert p.roles == {"user"}


async def test_leeway_accepts_just_expired(auth, mock_entra):
    user = mock_entra.users["alice@example.com"]
    now = int(time.time())
    claims = mock_entra.claims_for(user, aud=HUB_CLIENT_ID, now=now - 3630)  # expired 30 s ago
    assert (await auth.authenticate(mock_entra.sign(claims))).roles == {"admin"}


def test_email_precedence():
    assert email_from_claims({"upn": "U@X", "preferred_username": " P@X "}) == "p@x"
    assert email_from_claims({"email": "E@X", "upn": "u@x"}) == "e@x"
    assert email_from_claims({}) == ""


async def test_negative_matrix(auth, mock_entra, unpublished_kid):
    for case, token, reason in entra_matrix(mock_entra, unpublished_kid):
        with pytest.raises(InvalidToken) as info:
            await auth.authenticate(token)
        assert info.value.reason == reason, case
        assert token not in str(info.value), case


async def test_no_delegated_scope_is_forbidden(auth, mock_entra):
    with pytest.raises(Forbidden) as info:
        await auth.authenticate(mock_entra.access_token("alice@example.com", scp="other.scope"))
    assert info.value.reason == "insufficient_scope"


async def test_unmapped_user_refused_when_no_default(entra_settings, mock_entra):
    from hub.auth.roles import RoleMapping

    async def fetch(url):
        return mock_entra.jwks()

    strict = entra_settings.model_copy(update={"roles": RoleMapping(default=None)})
    auth = EntraAuthenticator(strict, jwks=JwksCache("https://login.microsoftonline.com/k", fetch))
    with pytest.raises(UserNotProvisioned) as info:
        await auth.authenticate(mock_entra.access_token("bob@example.com"))
    assert info.value.reason == "unknown_user"


async def test_offboarded_user_refused(entra_settings, mock_entra):
    async def fetch(url):
        return mock_entra.jwks()

    async def revoked(user_id: str) -> bool:
        return user_id.endswith(mock_entra.users["alice@example.com"].oid)

    auth = EntraAuthenticator(entra_settings, jwks=JwksCache("https://x/k", fetch), is_revoked=revoked)
    with pytest.raises(UserNotProvisioned) as info:
        await auth.authenticate(mock_entra.access_token("alice@example.com"))
    assert info.value.reason == "revoked"


async def test_keys_fetched_over_loopback_through_host_map(entra_settings, mock_entra):
    """Default JWKS wiring: the logical login.microsoftonline.com URL is rewritten to the mock; a rotated-in key is
    picked up by the forced refetch on an unknown kid."""
    auth = EntraAuthenticator(entra_settings)
    assert (await auth.authenticate(mock_entra.access_token("alice@example.com"))).roles == {"admin"}
    new_kid = mock_entra.add_key()
    auth.jwks.refetch_interval = 0
    token = mock_entra.sign(mock_entra.claims_for(mock_entra.users["alice@example.com"], aud=HUB_CLIENT_ID), kid=new_kid)
    assert (await auth.authenticate(token)).email == "alice@example.com"


async def test_obo_assertion_remembered_per_user(auth, mock_entra):
    token = mock_entra.access_token("alice@example.com")
    p = await auth.authenticate(token)
    assert await auth.assertion_for(p) == token
    auth.forget(p.user_id)
    assert await auth.assertion_for(p) is None
