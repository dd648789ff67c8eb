"""``hub.doctor`` against the running facade hub (all green), and against deliberately broken apps (each problem
is named and the exit code is 1)."""

from __future__ import annotations

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from hub.doctor import run_doctor

pytestmark = pytest.mark.anyio


async def test_doctor_passes_on_facade_hub(facade_hub):
    report = await run_doctor(facade_hub.mcp_url)
    bad = [c for c in report.checks if c.status != "OK"]
    assert not bad, report.render()
    names = {c.name for c in report.checks}
    assert {"health", "prm path-inserted", "prm suffixed", "prm root", "authorization server", "jwks",
            "401 challenge", "401 body (no token)", "401 body (fake token)", "host allowlist"} <= names


def test_doctor_cli_exit_codes(facade_hub):
    from typer.testing import CliRunner

    from hub.cli import app

    ok = CliRunner().invoke(app, ["doctor", facade_hub.mcp_url])
    assert ok.exit_code == 0 and "PASSED" in ok.output, ok.output
    bad = CliRunner().invoke(app, ["doctor", "--json", facade_hub.url + "/nowhere/mcp"])
    assert bad.exit_code == 1 and '"ok": false' in bad.output


def broken_app() -> Starlette:
    """A hub with the classic mistakes: PRM only at the root with the wrong resource, the suffixed path behind
    auth, a 500 instead of 401, no Host check."""

    async def health(_r):
        return PlainTextResponse("ok")

    async def prm(_r):
        return JSONResponse({"resource": "http://hub.example/mcp/", "authorization_servers": []})

    async def protected(_r):
        return JSONResponse({"error": "nope"}, status_code=401)

    async def mcp(_r):
        return PlainTextResponse("boom", status_code=500)

    return Starlette(routes=[
        Route("/health", health), Route("/.well-known/oauth-protected-resource", prm),
        Route("/mcp/.well-known/oauth-protected-resource", protected), Route("/mcp", mcp, methods=["POST"]),
    ])


async def test_doctor_names_each_problem():
    transport = httpx2.ASGITransport(app=broken_app())
    async with httpx2.AsyncClient(transport=transport, base_url="http://hub.example") as client:
        report = await run_doctor("http://hub.example/mcp", client=client)
    status = {c.name: c.status for c in report.checks}
    assert report.failed
    assert status["https"] == "FAIL"  # plain http on a public name
    assert status["prm path-inserted"] == "FAIL" and status["prm suffixed"] == "FAIL" and status["prm root"] == "FAIL"
    assert "Reconnect" in next(c.detail for c in report.checks if c.name == "prm suffixed")
    assert status["401 challenge"] == "FAIL" and status["host allowlist"] == "FAIL"


def test_doctor_with_token_lists_tools(facade_hub, monkeypatch):
    from typer.testing import CliRunner

    from hub.cli import app
    from facade_harness import hub_token

    monkeypatch.setenv("DOCTOR_TOKEN", hub_token(facade_hub, ["user"]))
    r = CliRunner().invoke(app, ["doctor", "--token-env", "DOCTOR_TOKEN", facade_hub.mcp_url])
    assert r.exit_code == 0, r.output
    assert "OK   tools/list: " in r.output and "time__get_current_time" not in r.output
    assert CliRunner().invoke(app, ["doctor", "--token-env", "UNSET_VAR_X", facade_hub.mcp_url]).exit_code == 2
