"""``hub.auth.facade.keys`` and the facade's route layout: key rotation keeps old tokens verifiable until they
expire, private keys are stored sealed, and an issuer with a path gets both RFC 8414 metadata locations."""

from __future__ import annotations

import time

import httpx2
import pytest
from sqlalchemy import create_engine
from starlette.applications import Starlette

from hub.auth.config import EntraSettings, FacadeSettings
from hub.auth.facade import build_facade, routes
from hub.auth.facade.keys import KeyRing
from hub.auth.facade.store import FacadeStore
from hub.auth.facade.tokens import FacadeAuthenticator, mint_access_token
from hub.auth.facade.store import FamilyRow
from mcpguard.crypto import generate_key

pytestmark = pytest.mark.anyio
ES = EntraSettings(tenant_ids=["t1"], client_id="c1")


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def test_rotation_and_retirement():
    store, key, clock = FacadeStore(create_engine("sqlite://")), generate_key(), Clock()
    ring = KeyRing(store, key, clock=clock, publish_retired_for=600)
    first = ring.active_kid
    assert b"PRIVATE" not in b"".join(r.private_sealed for r in store.keys())
    second = ring.rotate()
    assert second != first and {k["kid"] for k in ring.jwks()["keys"]} == {first, second}
    assert ring.public_key(first) is not None
    clock.t += 601
    ring.load()
    assert [k["kid"] for k in ring.jwks()["keys"]] == [second] and ring.public_key(first) is None
    # A second process with the same store and sealing key signs with the same active key.
    assert KeyRing(store, key, clock=clock).active_kid == second


def test_wrong_sealing_key_fails_closed():
    from mcpguard.errors import CryptoError

    store = FacadeStore(create_engine("sqlite://"))
    KeyRing(store, generate_key())
    with pytest.raises(CryptoError):
        KeyRing(store, generate_key())


def test_automatic_rotation_when_due():
    store, key, clock = FacadeStore(create_engine("sqlite://")), generate_key(), Clock()
    first = KeyRing(store, key, clock=clock, rotation_seconds=100).active_kid
    clock.t += 101
    assert KeyRing(store, key, clock=clock, rotation_seconds=100).active_kid != first


async def test_old_key_tokens_verify_after_rotation():
    store, key = FacadeStore(create_engine("sqlite://")), generate_key()
    ring = KeyRing(store, key, alg="RS256")
    store.put_family(FamilyRow(family_id="f1", client_id="c", user_id="t1:o1", email="a@x", tenant="t1",
                               roles="user", scopes="mcp.access", resource="https://hub/mcp", entra_tokens=None,
                               created_at=0, expires_at=9e12, revoked=False))
    token, _, _ = mint_access_token(ring, issuer="https://hub", resource="https://hub/mcp", user_id="t1:o1",
                                    email="a@x", tenant="t1", roles=["user"], scopes=["mcp.access"], client_id="c",
                                    family_id="f1", ttl=300)
    ring.rotate()
    auth = FacadeAuthenticator(ring, store, issuer="https://hub", resource="https://hub/mcp", tenants=["t1"])
    assert (await auth.authenticate(token)).user_id == "t1:o1"


async def test_issuer_with_path_serves_both_metadata_locations():
    fs = FacadeSettings(issuer="https://hub.example/team-a")
    facade = build_facade(fs, ES, engine=create_engine("sqlite://"), seal_key=generate_key(),
                          issuer="https://hub.example/team-a", resource="https://hub.example/team-a/mcp")
    app = Starlette(routes=routes(facade))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="https://hub.example") as c:
        inserted = await c.get("/.well-known/oauth-authorization-server/team-a")
        appended = await c.get("/team-a/.well-known/oauth-authorization-server")
        root = await c.get("/.well-known/oauth-authorization-server")
    assert inserted.status_code == appended.status_code == 200 and root.status_code == 404
    meta = inserted.json()
    assert meta["issuer"] == "https://hub.example/team-a"
    assert meta["token_endpoint"] == "https://hub.example/team-a/token"
    assert meta["authorization_endpoint"] == "https://hub.example/team-a/authorize"


def test_http_issuer_refused_off_loopback():
    from mcpguard.errors import ConfigError

    with pytest.raises(ConfigError):
        build_facade(FacadeSettings(), ES, engine=create_engine("sqlite://"), seal_key=generate_key(),
                     issuer="http://hub.example", resource="http://hub.example/mcp")


def test_purge_drops_expired_rows():
    from hub.auth.facade.store import CodeRow, PendingRow, RefreshRow

    store = FacadeStore(create_engine("sqlite://"))
    store.put_family(FamilyRow(family_id="old", client_id="c", user_id="t:o", email="", tenant="t", roles="user",
                               scopes="", resource="r", entra_tokens=None, created_at=0, expires_at=10, revoked=False))
    store.put_family(FamilyRow(family_id="new", client_id="c", user_id="t:o", email="", tenant="t", roles="user",
                               scopes="", resource="r", entra_tokens=None, created_at=0, expires_at=9e12,
                               revoked=False))
    store.put_refresh("old", "h-old", 0)
    store.put_refresh("new", "h-new", 0)
    store.put_code(CodeRow(code_hash="c1", client_id="c", redirect_uri="r", code_challenge="x", resource="r",
                           scopes="", family_id="old", expires_at=10, used=False))
    store.put_pending(PendingRow(id="p1", client_id="c", request="{}", csrf_hash="x", expires_at=10))
    store.purge(1_000_000)
    assert store.get_family("old") is None and store.get_family("new") is not None
    assert store.refresh_row("h-old") is None and isinstance(store.refresh_row("h-new"), RefreshRow)
    assert store.take_code("c1") == (None, False)


async def test_replicas_converge_after_rotation():
    store, key, clock = FacadeStore(create_engine("sqlite://")), generate_key(), Clock()
    clock.t = time.time()  # the token's exp is checked against real time
    a = KeyRing(store, key, clock=clock)
    b = KeyRing(store, key, clock=clock)
    store.put_family(FamilyRow(family_id="f", client_id="c", user_id="t1:o", email="", tenant="t1", roles="user",
                               scopes="", resource="https://hub/mcp", entra_tokens=None, created_at=0,
                               expires_at=9e12, revoked=False))
    new = a.rotate()
    token, _, _ = mint_access_token(a, issuer="https://hub", resource="https://hub/mcp", user_id="t1:o", email="",
                                    tenant="t1", roles=["user"], scopes=[], client_id="c", family_id="f", ttl=300,
                                    now=clock())
    clock.t += 31
    auth_b = FacadeAuthenticator(b, store, issuer="https://hub", resource="https://hub/mcp", tenants=["t1"])
    assert (await auth_b.authenticate(token)).user_id == "t1:o"  # b learned the new kid on demand
    assert b.active_kid == new
