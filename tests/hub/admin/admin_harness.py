"""Harness for the admin API tests: an in-process Starlette app around ``admin_routes`` with a fake authenticator,
a real vault (SQLite in a temp dir) and recording audit/hooks; driven with ``httpx2.AsyncClient(transport=ASGITransport(app))``.

Tokens for the fake authenticator are ``"<user>|<role>[,<role>…]"``; ``"bad"`` is an invalid token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount

from hub.admin.routes import admin_routes
from hub.auth.base import AuthError, InvalidToken, MissingToken, Principal
from hub.errors import auth_error_response
from hub.upstreams.manifest import Manifest
from hub.users import UserDirectory
from hub.vault import make_engine
from hub.vault.kek import FileKEKProvider
from hub.vault.service import VaultService
from hub.vault.store import Vault

SECRET = "ghp_AdminApiSecretValue_0123456789abcdef"


async def fake_authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    if not header:
        raise MissingToken("no bearer token")
    if not header.startswith("Bearer ") or "|" not in header:
        raise InvalidToken("token does not verify", reason="bad_signature")
    user, roles = header[7:].split("|", 1)
    return Principal(user_id=user, email=user, tenant="dev",
                     roles=frozenset(r for r in roles.split(",") if r))  # type: ignore[arg-type]


@dataclass
class RecordingAudit:
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail: bool = False

    def record_event(self, kind: str, fields: dict[str, Any]) -> None:
        if self.fail:
            raise OSError("disk full")
        self.events.append((kind, dict(fields)))

    def kinds(self) -> list[str]:
        return [k for k, _ in self.events]


@dataclass
class RecordingHooks:
    calls: list[str] = field(default_factory=list)
    fail: bool = False

    async def on_user_deleted(self, user_id: str) -> None:
        self.calls.append(user_id)
        if self.fail:
            raise RuntimeError("child did not stop")


def manifests() -> dict[str, Manifest]:
    github = Manifest.model_validate({
        "name": "github", "version": "1.0", "description": "GitHub",
        "transport": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"},
        "egress": ["https://api.githubcopilot.com/"], "network": True, "scopes": ["repo:read"],
        "credentials": [
            {"name": "GITHUB_TOKEN", "description": "PAT", "inject": {"header": "Authorization",
                                                                      "template": "Bearer {value}"}},
            {"name": "GRAPH", "kind": "entra_obo", "scopes": ["User.Read"],
             "inject": {"header": "X-Graph", "template": "Bearer {value}"}},
        ],
    })
    time = Manifest.model_validate({"name": "time", "transport": {"type": "stdio", "command": "mcp-server-time"}})
    return {"github": github, "time": time}


@dataclass
class Hub:
    client: httpx2.AsyncClient
    service: VaultService
    audit: RecordingAudit
    hooks: RecordingHooks

    @staticmethod
    def auth(user: str, *roles: str) -> dict[str, str]:
        return {"authorization": f"Bearer {user}|{','.join(roles)}"}


def build_app(service: VaultService, audit: Any, hooks: Any) -> Starlette:
    async def on_auth_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, AuthError)
        return auth_error_response(exc, "http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp")

    routes = admin_routes(vault=service, audit=audit, authenticate=fake_authenticate, hooks=hooks,
                          settings=None, connectors=manifests())
    return Starlette(routes=[Mount("/team/v1", routes=list(routes))], exception_handlers={AuthError: on_auth_error})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def service(tmp_path: Path) -> VaultService:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    store = Vault.open(engine, FileKEKProvider(tmp_path / "keys"), bytes(32))
    return VaultService(store=store, users=UserDirectory(engine))


@pytest.fixture
async def hub(service: VaultService) -> AsyncIterator[Hub]:
    audit, hooks = RecordingAudit(), RecordingHooks()
    app = build_app(service, audit, hooks)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app),
                                  base_url="http://127.0.0.1:8000/team/v1") as client:
        yield Hub(client, service, audit, hooks)
