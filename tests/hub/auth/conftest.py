"""Fixtures for the Entra modes: one mock Entra per session (state plus a loopback uvicorn server), shared by the
direct resource server, facade, OBO and doctor tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mock_entra import HUB_APP_ID_URI, HUB_CLIENT_ID, TENANT, MockEntra, serve
from hub.auth.config import EntraSettings
from hub.auth.roles import RoleMapping


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def mock_entra() -> MockEntra:
    entra = MockEntra()
    entra.add_user("alice@example.com", roles=["Hub.Admin"])
    entra.add_user("bob@example.com", claim_style="preferred_username")
    entra.add_user("carol@example.com", claim_style="upn", groups=["AAAAAAAA-0000-0000-0000-000000000001"])
    entra.add_user("mallory@other.example", tid="22222222-2222-4222-8222-222222222222")
    return entra


@pytest.fixture(scope="session")
def mock_entra_url(mock_entra: MockEntra) -> Iterator[str]:
    with serve(mock_entra.app()) as url:
        yield url


@pytest.fixture(scope="session")
def entra_settings(mock_entra_url: str) -> EntraSettings:
    return EntraSettings(
        tenant_ids=[TENANT],
        client_id=HUB_CLIENT_ID,
        app_id_uri=HUB_APP_ID_URI,
        authority_transport_url=mock_entra_url,
        roles=RoleMapping(groups={"aaaaaaaa-0000-0000-0000-000000000001": "manager"}),
    )
