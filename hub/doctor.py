"""``mcpguard hub doctor URL``: check a running hub from the outside, the way an MCP client (claude.ai) will meet it.

Follows the seed platform's MCP server checklist (``architecture/mcp-server-checklist``) and the MCP authorization
spec; each check prints ``OK``, ``WARN`` or ``FAIL`` with what is wrong and how to fix it, and the exit code is 1 when
any check fails. ``URL`` is the MCP endpoint as users add it (``https://hub.example.com/team-a/mcp``).

Checks: liveness (``{prefix}/health``) and readiness; RFC 9728 metadata on all three paths (path-inserted,
suffixed, root) served without a token, ``resource`` equal to the URL; the authorization server's metadata
(RFC 8414 for the hub's facade: exact issuer, S256, ``iss`` response parameter, DCR or CIMD; OIDC discovery for
Entra, with the warning that claude.ai cannot use Entra directly); JWKS reachable and holding public signing keys
only; the 401 challenge (``WWW-Authenticate: Bearer resource_metadata=…`` that resolves) and the JSON reason body
for a missing and a fake token; a token in the query string refused; a foreign ``Host`` refused (DNS-rebinding
allowlist); https outside loopback. Without ``--token-env`` nothing here sends a real credential; with it, the
token (read from the named environment variable, never argv) opens an MCP session and the tool names are checked
against claude.ai's rule ``^[a-zA-Z0-9_-]{1,64}$``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Optional
from urllib.parse import urlsplit

import httpx2
import typer

ACCEPT = "application/json, text/event-stream"
PROBE_BODY = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


@dataclass
class Check:
    """One doctor check: ``name``, ``status`` (``OK`` | ``WARN`` | ``FAIL``) and a one-line ``detail``."""
    name: str
    status: str  # OK | WARN | FAIL
    detail: str


@dataclass
class Report:
    """All checks run against the hub at ``url``."""
    url: str
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, ok: bool | None, detail: str) -> None:
        """Record a check: ``ok`` True -> OK, None -> WARN, False -> FAIL."""
        self.checks.append(Check(name, "OK" if ok else ("WARN" if ok is None else "FAIL"), detail))

    @property
    def failed(self) -> bool:
        """True if any check FAILed."""
        return any(c.status == "FAIL" for c in self.checks)

    def render(self) -> str:
        """Human-readable report: one line per check and a PASSED/FAILED summary line."""
        lines = [f"mcpguard hub doctor {self.url}"]
        lines += [f"  {c.status:<4} {c.name}: {c.detail}" for c in self.checks]
        n_fail = sum(c.status == "FAIL" for c in self.checks)
        n_warn = sum(c.status == "WARN" for c in self.checks)
        lines.append(f"{'FAILED' if n_fail else 'PASSED'}: {len(self.checks)} checks, {n_fail} failed, {n_warn} warnings")
        return "\n".join(lines)

    def as_json(self) -> str:
        """The report as indented JSON: ``{"url", "ok", "checks": [{"name", "status", "detail"}]}``."""
        return json.dumps({"url": self.url, "ok": not self.failed,
                           "checks": [c.__dict__ for c in self.checks]}, indent=2)


def _json(resp: httpx2.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1", "[::1]")


async def run_doctor(url: str, *, client: httpx2.AsyncClient | None = None, timeout: float = 10.0,
                     token: str | None = None) -> Report:
    """Run every check against the MCP endpoint ``url``; never raises for a broken hub (that is a FAIL). With a
    ``token`` (a real access token for the hub) it also lists the tools as a client would and checks their names."""
    report = Report(url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        report.add("url", False, "give the MCP endpoint URL, e.g. https://hub.example.com/mcp")
        return report
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/") or "/mcp"
    prefix = path[: -len("/mcp")] if path.endswith("/mcp") else ""
    own = client is None
    client = client or httpx2.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)
    try:
        await _checks(report, client, url.rstrip("/"), origin, path, prefix, parts.hostname or "")
        if token:
            await _authenticated(report, url.rstrip("/"), token, timeout)
    finally:
        if own:
            await client.aclose()
    return report


async def _get(client: httpx2.AsyncClient, url: str, **kw: Any) -> httpx2.Response | str:
    try:
        return await client.get(url, **kw)
    except httpx2.HTTPError as exc:
        return f"{type(exc).__name__} ({exc})"[:200]


async def _post(client: httpx2.AsyncClient, url: str, **kw: Any) -> httpx2.Response | str:
    try:
        return await client.post(url, **kw)
    except httpx2.HTTPError as exc:
        return f"{type(exc).__name__} ({exc})"[:200]


async def _checks(report: Report, client: httpx2.AsyncClient, url: str, origin: str, path: str, prefix: str,
                  host: str) -> None:
    # -- transport -------------------------------------------------------------------------------------------------
    if origin.startswith("http://") and not _is_loopback(host):
        report.add("https", False, "the hub is served over plain http; claude.ai needs https (put TLS in front)")
    else:
        report.add("https", True, "https" if origin.startswith("https://") else "loopback http (local use)")

    # -- health ----------------------------------------------------------------------------------------------------
    r = await _get(client, f"{origin}{prefix}/health")
    if isinstance(r, str):
        report.add("health", False, f"{origin}{prefix}/health unreachable: {r}")
        return
    report.add("health", r.status_code == 200, f"GET {prefix}/health → {r.status_code}"
               + ("" if r.status_code == 200 else " (is the path prefix forwarded unchanged by the proxy?)"))
    r = await _get(client, f"{origin}{prefix}/ready")
    if not isinstance(r, str):
        report.add("ready", r.status_code == 200, f"GET {prefix}/ready → {r.status_code}"
                   + ("" if r.status_code == 200 else f" {json.dumps(_json(r))[:200]}"))

    # -- RFC 9728 metadata on all three paths -----------------------------------------------------------------------
    prm_doc: dict[str, Any] | None = None
    for label, p in (("prm path-inserted", f"/.well-known/oauth-protected-resource{path}"),
                     ("prm suffixed", f"{path}/.well-known/oauth-protected-resource"),
                     ("prm root", "/.well-known/oauth-protected-resource")):
        r = await _get(client, origin + p)
        if isinstance(r, str):
            report.add(label, False, f"GET {p} failed: {r}")
            continue
        doc = _json(r)
        if r.status_code != 200 or not isinstance(doc, dict):
            hint = " (a 401 here breaks claude.ai's Reconnect silently)" if r.status_code == 401 else ""
            report.add(label, False, f"GET {p} → {r.status_code}, expected 200 JSON{hint}")
            continue
        problems = []
        if doc.get("resource") != url:
            problems.append(f"resource is {doc.get('resource')!r}, expected {url!r} (clients compare exactly)")
        if not doc.get("authorization_servers"):
            problems.append("authorization_servers is empty")
        report.add(label, not problems, "; ".join(problems) or f"GET {p} → 200")
        prm_doc = prm_doc or (doc if not problems else None)

    # -- authorization server -----------------------------------------------------------------------------------------
    if prm_doc:
        for issuer in prm_doc["authorization_servers"][:3]:
            await _check_as(report, client, str(issuer))

    # -- 401 challenge and reason bodies ----------------------------------------------------------------------------
    r = await _post(client, url, json=PROBE_BODY, headers={"Accept": ACCEPT})
    if isinstance(r, str):
        report.add("401 challenge", False, f"POST {path} failed: {r}")
    else:
        challenge = r.headers.get("www-authenticate", "")
        m = re.search(r'resource_metadata="([^"]+)"', challenge)
        ok = r.status_code == 401 and challenge.lower().startswith("bearer") and m is not None
        detail = f"POST without token → {r.status_code}, WWW-Authenticate {challenge[:120]!r}"
        if r.status_code == 421:
            detail += " (421 Invalid Host header: add the public host to server.allowed_hosts)"
        report.add("401 challenge", ok, detail)
        if m:
            rm = await _get(client, m.group(1))
            good = not isinstance(rm, str) and rm.status_code == 200 and isinstance(_json(rm), dict)
            report.add("challenge metadata", good, f"resource_metadata {m.group(1)} "
                       + ("resolves" if good else "does not resolve to 200 JSON"))
        _check_body(report, "401 body (no token)", r, "MISSING_TOKEN")
    r = await _post(client, url, json=PROBE_BODY, headers={"Accept": ACCEPT,
                                                           "Authorization": "Bearer doctor.fake.token"})
    if not isinstance(r, str):
        report.add("fake token refused", r.status_code == 401, f"POST with a fake bearer → {r.status_code}")
        _check_body(report, "401 body (fake token)", r, "INVALID_TOKEN")
    r = await _post(client, url + "?access_token=doctor-probe", json=PROBE_BODY, headers={"Accept": ACCEPT})
    if not isinstance(r, str):
        report.add("query token refused", r.status_code == 401,
                   f"token in the query string → {r.status_code} (RFC 6750 §2.3: must not be accepted)")

    # -- Host allowlist (DNS rebinding) -----------------------------------------------------------------------------
    r = await _post(client, url, json=PROBE_BODY, headers={"Accept": ACCEPT, "Host": "doctor-rebinding.invalid"})
    if not isinstance(r, str):
        refused = r.status_code in (400, 403, 421)
        report.add("host allowlist", refused, f"foreign Host header → {r.status_code}"
                   + ("" if refused else " (the hub accepted a Host it should not: DNS-rebinding protection is off)"))


#: claude.ai accepts tool names matching this only (no dots).
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


async def _authenticated(report: Report, url: str, token: str, timeout: float) -> None:
    """With a real token: connect as an MCP client, list the tools, check their names."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    try:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=timeout,
                                      trust_env=False) as http:
            async with Client(streamable_http_client(url, http_client=http)) as mcp_client:
                tools = (await mcp_client.list_tools()).tools
    except Exception as exc:  # noqa: BLE001 - any failure here is the finding; the token is never printed
        report.add("tools/list", False, f"authenticated MCP session failed: {type(exc).__name__}")
        return
    bad = [t.name for t in tools if not TOOL_NAME.match(t.name)]
    report.add("tools/list", bool(tools) and not bad,
               f"{len(tools)} tool(s)" + (f"; names claude.ai refuses: {bad[:5]}" if bad else "")
               + ("" if tools else "; no tools: check connector grants and credentials"))


def _check_body(report: Report, name: str, r: httpx2.Response, code: str) -> None:
    if r.status_code != 401:
        return
    body = _json(r)
    err = body.get("error") if isinstance(body, dict) else None
    ctx = err.get("context") if isinstance(err, dict) else None
    ok = (isinstance(err, dict) and err.get("code") == code and bool(err.get("message"))
          and isinstance(ctx, dict) and bool(ctx.get("request_id")) and bool(ctx.get("reason")))
    detail = (f"error.code={err.get('code')} reason={ctx.get('reason')}" if ok and isinstance(err, dict)
              and isinstance(ctx, dict) else
              "expected {\"error\": {\"code\", \"message\", \"context\": {\"request_id\", \"reason\"}}}")
    report.add(name, ok, detail)


async def _check_as(report: Report, client: httpx2.AsyncClient, issuer: str) -> None:
    parts = urlsplit(issuer)
    base = f"{parts.scheme}://{parts.netloc}"
    ipath = parts.path.rstrip("/")
    entra = "login.microsoftonline" in parts.netloc or parts.netloc.startswith("login.")
    if entra:
        r = await _get(client, f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        doc = _json(r) if not isinstance(r, str) else None
        ok = isinstance(doc, dict) and doc.get("issuer") == issuer.rstrip("/")
        report.add("authorization server", ok, f"Entra OIDC discovery for {issuer} "
                   + ("ok" if ok else "failed or issuer mismatch"))
        report.add("claude.ai compatibility", None, "direct Entra mode: claude.ai refuses Entra as authorization "
                   "server (no code_challenge_methods_supported, no DCR/CIMD); use auth.mode = \"facade\"")
        if isinstance(doc, dict) and doc.get("jwks_uri"):
            await _check_jwks(report, client, str(doc["jwks_uri"]))
        return
    r = await _get(client, f"{base}/.well-known/oauth-authorization-server{ipath}")
    if isinstance(r, str) or r.status_code != 200:
        report.add("authorization server", False, f"RFC 8414 metadata at /.well-known/oauth-authorization-server{ipath}"
                   f" → {r if isinstance(r, str) else r.status_code}")
        return
    doc = _json(r) or {}
    problems = []
    if doc.get("issuer") != issuer:
        problems.append(f"issuer {doc.get('issuer')!r} != {issuer!r} (must match byte for byte)")
    if "S256" not in (doc.get("code_challenge_methods_supported") or []):
        problems.append("code_challenge_methods_supported lacks S256 (claude.ai refuses such servers)")
    if not doc.get("authorization_response_iss_parameter_supported"):
        problems.append("authorization_response_iss_parameter_supported is not true")
    if not doc.get("registration_endpoint") and not doc.get("client_id_metadata_document_supported"):
        problems.append("neither DCR nor CIMD: only pre-registered clients can connect")
    for key in ("authorization_endpoint", "token_endpoint"):
        if not str(doc.get(key, "")).startswith(issuer.rstrip("/")):
            problems.append(f"{key} is not under the issuer")
    report.add("authorization server", not problems, "; ".join(problems) or f"RFC 8414 metadata for {issuer} ok")
    if doc.get("jwks_uri"):
        await _check_jwks(report, client, str(doc["jwks_uri"]))


async def _check_jwks(report: Report, client: httpx2.AsyncClient, jwks_uri: str) -> None:
    r = await _get(client, jwks_uri)
    doc = _json(r) if not isinstance(r, str) else None
    keys = doc.get("keys") if isinstance(doc, dict) else None
    if not isinstance(keys, list) or not keys:
        report.add("jwks", False, f"{jwks_uri} unreachable or without keys")
        return
    private = [k.get("kid") for k in keys if isinstance(k, dict) and ("d" in k or k.get("kty") == "oct")]
    no_kid = [k for k in keys if isinstance(k, dict) and not k.get("kid")]
    ok = not private and not no_kid
    report.add("jwks", ok, f"{len(keys)} key(s)" + (f"; PRIVATE or symmetric key material published: {private}"
                                                    if private else "") + ("; keys without kid" if no_kid else ""))


def doctor_command(
    url: Annotated[str, typer.Argument(help="The hub's MCP endpoint as users add it, e.g. https://hub.example.com/mcp")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Per-request timeout in seconds.")] = 10.0,
    token_env: Annotated[Optional[str], typer.Option(
        "--token-env", help="Name of an environment variable holding a real access token: also list the tools "
        "as a client would (the token never goes on the command line).")] = None,
) -> None:
    """Check a running hub from the outside (health, RFC 9728/8414 metadata, 401 challenge and reason bodies, JWKS,
    Host allowlist); prints what is wrong and exits 1 when a check fails."""
    import anyio

    import os

    token = None
    if token_env:
        token = os.environ.get(token_env, "").strip()
        if not token:
            typer.echo(f"mcpguard hub doctor: environment variable {token_env} is empty or unset", err=True)
            raise typer.Exit(2)
    report = anyio.run(lambda: run_doctor(url, timeout=timeout, token=token))
    typer.echo(report.as_json() if json_output else report.render())
    if report.failed:
        raise typer.Exit(1)
