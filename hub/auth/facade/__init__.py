"""``auth.mode = "facade"``: the hub as an OAuth 2.1 authorization server in front of Microsoft Entra ID.

claude.ai (or any MCP client) talks OAuth to the hub; the hub talks OIDC to Entra as one confidential client::

    client ──401 + resource_metadata──▶ PRM (RFC 9728) ──▶ AS metadata (RFC 8414, this package)
       │  DCR (RFC 7591, allowlisted redirects) │ CIMD (https client id) │ pre-registered client
       ▼
    GET  /authorize ─▶ consent page (per client, CSRF, __Host- cookie) ─▶ POST /consent
                                                          │  MSAL initiate_auth_code_flow (PKCE, state, nonce)
                                                          ▼
                                  Entra /authorize ──form_post──▶ /oauth/callback (tenant + role checks)
                                                          │  hub code bound to client, PKCE, redirect, resource
       ◀──────────────── redirect_uri?code&state&iss ─────┘
    POST /token ─▶ hub access JWT (aud = MCP URL, sub = tid:oid) + rotating refresh token
    POST /revoke (RFC 7009)        GET /.well-known/jwks.json

Entra tokens stay sealed in the hub's store; the client's token is never passed upstream.
Modules: ``metadata``, ``authorize``, ``consent``, ``callback``, ``token``, ``register``, ``revoke`` (one endpoint
each), ``clients`` and ``cimd`` (who may ask), ``keys`` and ``tokens`` (what is issued), ``store`` (tables),
``migrate`` and ``migrations/`` (Alembic, run at start).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from hub.auth.base import Principal
from hub.auth.config import EntraSettings, FacadeSettings
from hub.auth.facade.cimd import CimdResolver
from hub.auth.facade.clients import ClientDirectory
from hub.auth.facade.keys import KeyRing
from hub.auth.facade.ratelimit import FacadeLimiter
from hub.auth.facade.server import Facade
from hub.auth.facade.store import FacadeStore
from hub.auth.facade.tokens import FacadeAuthenticator
from hub.auth.msal_app import UNREACHABLE, EntraApp
from mcpguard.errors import ConfigError

if TYPE_CHECKING:
    from starlette.routing import BaseRoute
    from sqlalchemy.engine import Engine

    from hub.settings import HubSettings


def parse_entra(raw: EntraSettings | dict[str, Any] | None) -> EntraSettings:
    """``[auth.entra]`` table (or ready settings) as ``EntraSettings``; raises ``ConfigError`` listing the problems."""
    if isinstance(raw, EntraSettings):
        return raw
    try:
        return EntraSettings.model_validate(raw or {})
    except ValidationError as exc:
        raise ConfigError(f"invalid [auth.entra]: {_problems(exc)}") from None


def parse_facade(raw: FacadeSettings | dict[str, Any] | None) -> FacadeSettings:
    """``[auth.facade]`` table (or ready settings) as ``FacadeSettings``; raises ``ConfigError`` listing the
    problems."""
    if isinstance(raw, FacadeSettings):
        return raw
    try:
        return FacadeSettings.model_validate(raw or {})
    except ValidationError as exc:
        raise ConfigError(f"invalid [auth.facade]: {_problems(exc)}") from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_input=False))


def build_facade(
    fs: FacadeSettings,
    es: EntraSettings,
    *,
    engine: Engine,
    seal_key: bytes,
    issuer: str,
    resource: str,
    entra: EntraApp | None = None,
    cimd: CimdResolver | None = None,
) -> Facade:
    """Assemble the facade from its parts (each injectable for tests)."""
    es.check_complete()
    if not issuer.startswith(("https://", "http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise ConfigError("auth.facade.issuer must be https (loopback http only for local use)")
    store = FacadeStore(engine)
    keys = KeyRing(store, seal_key, alg=fs.signing_alg, rotation_seconds=fs.key_rotation_days * 86400,
                   publish_retired_for=fs.access_token_ttl + 300)
    return Facade(
        settings=fs, entra_settings=es, store=store, keys=keys,
        clients=ClientDirectory(store, cimd or CimdResolver(fs.cimd)),
        entra=entra or EntraApp(es), seal_key=seal_key, issuer=issuer, resource=resource,
        limiter=FacadeLimiter(fs.rate_limits),
    )


def routes(facade: Facade) -> list[BaseRoute]:
    """The facade's Starlette routes, placed under the issuer's path."""
    from starlette.routing import Route

    from hub.auth.facade.authorize import handle_authorize
    from hub.auth.facade.callback import handle_callback
    from hub.auth.facade.consent import handle_consent
    from hub.auth.facade.metadata import handle_jwks, handle_metadata
    from hub.auth.facade.register import handle_register
    from hub.auth.facade.revoke import handle_revoke
    from hub.auth.facade.token import handle_token

    def bind(fn: Callable[[Facade, Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
        async def endpoint(request: Any) -> Any:
            return await fn(facade, request)

        endpoint.__name__ = fn.__name__
        return endpoint

    path = urlsplit(facade.issuer).path.rstrip("/")
    out = [Route(f"/.well-known/oauth-authorization-server{path}", bind(handle_metadata), methods=["GET"])]
    if path:
        out.append(Route(f"{path}/.well-known/oauth-authorization-server", bind(handle_metadata), methods=["GET"]))
    out += [
        Route(f"{path}/.well-known/jwks.json", bind(handle_jwks), methods=["GET"]),
        Route(f"{path}/authorize", bind(handle_authorize), methods=["GET"]),
        Route(f"{path}/consent", bind(handle_consent), methods=["POST"]),
        Route(f"{path}/oauth/callback", bind(handle_callback), methods=["GET", "POST"]),
        Route(f"{path}/token", bind(handle_token), methods=["POST"]),
        Route(f"{path}/register", bind(handle_register), methods=["POST"]),
        Route(f"{path}/revoke", bind(handle_revoke), methods=["POST"]),
    ]
    return out


def assertion_source(facade: Facade) -> Callable[[Principal], Awaitable[str | None]]:
    """OBO user assertion in facade mode: the Entra access token held (sealed) for the user's newest live grant,
    refreshed with Entra when it is about to expire."""

    async def assertion_for(principal: Principal) -> str | None:
        now = time.time()
        for family in facade.store.active_families_for(principal.user_id, now):
            if not family.entra_tokens:
                continue
            context = f"entra-tokens:{family.family_id}"
            held = facade.open_json(family.entra_tokens, context)
            if held.get("access_token") and float(held.get("expires_at", 0)) > now + 120:
                return str(held["access_token"])
            if held.get("refresh_token"):
                result = await facade.entra.refresh(held["refresh_token"])
                if result.get("error") == UNREACHABLE:
                    return None  # outage: no OBO token now, the grant stays
                if "error" in result or not result.get("access_token"):
                    facade.store.revoke_family(family.family_id, "entra_refused")
                    continue
                from hub.auth.facade.callback import entra_tokens

                new = entra_tokens(result, now)
                new["refresh_token"] = new["refresh_token"] or held["refresh_token"]
                facade.store.set_family_entra(family.family_id, facade.seal_json(new, context))
                return str(new["access_token"])
        return None

    return assertion_for


class _KeysLoaded:
    name = "auth.facade.keys"

    def __init__(self, facade: Facade) -> None:
        self.facade = facade

    async def check(self) -> None:
        if not self.facade.keys.active_kid:
            raise RuntimeError("no active signing key")
        self.facade.store.get_family("readiness-probe")  # storage reachable


def seal_key_for(settings: HubSettings) -> bytes:
    """The AES key sealing the facade's signing keys and Entra tokens: ``facade-seal`` from the vault's key provider
    (env ``{kek_env_prefix}FACADE_SEAL`` or a ``0600`` file beside the KEKs)."""
    from mcpguard.crypto import EnvKeyProvider, FileKeyProvider

    from hub.vault.settings import parse_vault_settings

    vs = parse_vault_settings(settings.vault)
    if vs.kek_provider == "env":
        return EnvKeyProvider(vs.kek_env_prefix).get("facade-seal")
    return FileKeyProvider(vs.kek_path(settings.storage.data_path), create=True).get("facade-seal")


def build_auth(settings: HubSettings, **inject: Any) -> Any:
    """The ``facade`` mode's :class:`hub.seams.AuthBundle`. ``inject`` may carry ``entra`` (an :class:`EntraApp`)
    and ``cimd`` (a :class:`CimdResolver`) for tests."""
    from hub.auth.facade.admin import admin_routes
    from hub.auth.obo import OboCredentialSource
    from hub.seams import AuthBundle, Component, ResourceMetadata
    from hub.vault import make_engine

    es = parse_entra(settings.auth.entra)
    fs = parse_facade(settings.auth.facade)
    issuer = fs.issuer or f"{settings.server.base_url}{settings.server.prefix}"
    resource = fs.resource or settings.server.mcp_url
    if settings.storage.database_url is None:
        settings.storage.data_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    facade = build_facade(fs, es, engine=make_engine(settings.storage.url), seal_key=seal_key_for(settings),
                          issuer=issuer, resource=resource, entra=inject.get("entra"), cimd=inject.get("cimd"))
    obo = OboCredentialSource(facade.entra, assertion_source(facade))
    auth = FacadeAuthenticator(facade.keys, facade.store, issuer=issuer, resource=resource, tenants=es.tenant_ids,
                               leeway=es.leeway_seconds)

    @asynccontextmanager
    async def lifespan() -> Any:
        await facade.entra.start()
        yield

    return AuthBundle(
        authenticator=auth,
        resource_metadata=ResourceMetadata(authorization_servers=(issuer,), scopes_supported=tuple(fs.scopes)),
        component=Component(
            name="auth.facade",
            routes=[*routes(facade), *admin_routes(facade, auth, settings.server.prefix)],
            credential_sources={"entra_obo": obo},
            probes=[_KeysLoaded(facade)],
            offboarding=[auth, obo],
            lifespan=lifespan,
            extras={"facade": facade},
            revocations=facade.store.revocations,
            admin_actions=True,
        ),
    )


__all__ = ["Facade", "FacadeAuthenticator", "assertion_source", "build_auth", "build_facade", "routes"]
