"""The facade under test: a real hub (``hub.app.build_app``, ``auth.mode = "facade"``) under uvicorn on loopback,
with MSAL talking to the session's mock Entra through the pinned HTTP client, and a loopback CIMD document server
allowed through the test-only ``cimd.test_allow_hosts``. One hub per session: start-up is the expensive part."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.auth.config import CimdSettings
from hub.auth.facade import build_auth
from hub.auth.facade.cimd import CimdResolver
from hub.auth.facade.server import Facade
from hub.auth.msal_app import EntraApp
from tests.hub.harness import PassPipeline, free_port, serve_in_thread, settings as hub_settings
from facade_harness import CIMD_HOST
from tests.mock_entra import HUB_CLIENT_ID, HUB_CLIENT_SECRET, MockEntra, serve



@dataclass
class FacadeHub:
    url: str
    mcp_url: str
    facade: Facade
    entra_url: str
    cimd_docs: dict[str, Any]
    facade_auth: Any
    app: Any = None


def _cimd_app(docs: dict[str, Any]) -> Starlette:
    async def doc(request):  # type: ignore[no-untyped-def]
        body = docs.get(request.url.path)
        if body is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        if isinstance(body, tuple):  # (status, headers) for redirect tests
            return JSONResponse({}, status_code=body[0], headers=body[1])
        return JSONResponse(body)

    return Starlette(routes=[Route("/{path:path}", doc)])


@pytest.fixture(scope="session")
def facade_hub(mock_entra: MockEntra, mock_entra_url: str, entra_settings, tmp_path_factory) -> Iterator[FacadeHub]:
    tmp: Path = tmp_path_factory.mktemp("facade-hub")
    docs: dict[str, Any] = {}
    with serve(_cimd_app(docs)) as cimd_url:
        cimd_port = int(cimd_url.rsplit(":", 1)[1])

        async def resolver(host: str, port: int) -> list[str]:
            return ["127.0.0.1"] if host == CIMD_HOST else []

        async def fetch(url: str, address: str, max_bytes: int, timeout: float) -> tuple[int, bytes]:
            path = url.split(CIMD_HOST, 1)[1]
            async with httpx2.AsyncClient(timeout=timeout, follow_redirects=False) as c:
                r = await c.get(f"http://{address}:{cimd_port}{path}")
            return r.status_code, r.content

        cimd_settings = CimdSettings(test_allow_hosts=[CIMD_HOST])
        port = free_port()
        s = hub_settings(
            tmp,
            server={"port": port},
            connectors={"enabled": ["time"]},
            auth={"mode": "facade", "entra": entra_settings.model_dump(mode="json"),
                  # Every test shares one loopback address: budgets well above the session's own traffic (the
                  # limits themselves are tested with a strict limiter swapped in, test_facade_ratelimit.py).
                  "facade": {"cimd": cimd_settings.model_dump(),
                             "rate_limits": {"register_per_ip": "10000/minute", "token_per_ip": "10000/minute",
                                             "token_per_ip_client": "10000/minute"}}},
        )
        bundle = build_auth(s, entra=EntraApp(entra_settings, client_secret=HUB_CLIENT_SECRET),
                            cimd=CimdResolver(cimd_settings, resolver=resolver, fetch=fetch))
        facade: Facade = bundle.component.extras["facade"]
        mock_entra.register_redirect(HUB_CLIENT_ID, facade.callback_url)
        from hub.app import build_app

        app = build_app(s, auth_bundle=bundle, pipeline_factory=lambda _s: PassPipeline())
        with serve_in_thread(app, port) as url:
            yield FacadeHub(url=url, mcp_url=s.server.mcp_url, facade=facade, entra_url=mock_entra_url,
                            cimd_docs=docs, facade_auth=bundle.authenticator, app=app)
