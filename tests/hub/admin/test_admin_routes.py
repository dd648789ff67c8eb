"""hub.admin.routes in-process: write-only credentials, validation reasons, roles, offboarding, audit-before-effect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest

from mcpguard.audit import AuditLog, verify_file
from mcpguard.errors import CryptoError, KeyUnavailable

from admin_harness import SECRET, Hub, build_app

pytestmark = pytest.mark.anyio

ALICE = Hub.auth("alice@example.com", "user")
BOB = Hub.auth("bob@example.com", "user")
ADMIN = Hub.auth("root@example.com", "admin")
VIEWER = Hub.auth("vic@example.com", "viewer")
PUT_PATH = "/me/credentials/github/GITHUB_TOKEN"


def _no_secret(resp: httpx2.Response, secret: str = SECRET) -> None:
    assert secret not in resp.text
    assert all(secret not in v for v in resp.headers.values())


def _error(resp: httpx2.Response, status: int, code: str, reason: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()["error"]
    assert body["code"] == code and body["context"]["reason"] == reason, body
    assert "request_id" in body["context"]
    return body


async def test_self_service_put_list_delete_is_write_only(hub: Hub) -> None:
    r = await hub.client.put(PUT_PATH, json={"value": SECRET}, headers=ALICE)
    assert r.status_code == 201, r.text
    _no_secret(r)
    meta = r.json()
    assert meta["connector"] == "github" and meta["name"] == "GITHUB_TOKEN" and len(meta["fingerprint"]) == 12
    assert "value" not in meta and r.headers["cache-control"] == "no-store"

    r2 = await hub.client.put(PUT_PATH, json={"value": SECRET + "2", "expires_at": "2099-01-01T00:00:00Z"},
                              headers=ALICE)
    assert r2.status_code == 200 and r2.json()["fingerprint"] != meta["fingerprint"]
    assert r2.json()["created_at"] == meta["created_at"]

    listed = await hub.client.get("/me/credentials", headers=ALICE)
    assert listed.status_code == 200
    _no_secret(listed)
    _no_secret(listed, SECRET + "2")
    body = listed.json()
    assert body["user"] == "alice@example.com"
    assert [(c["connector"], c["name"], c["expired"]) for c in body["credentials"]] == [
        ("github", "GITHUB_TOKEN", False)]
    assert body["credentials"][0]["expires_at"].startswith("2099-01-01")

    # The value is really there for the last hop, and only there.
    assert hub.service.store.reveal(tenant="dev", user_id="alice@example.com", connector="github",
                                    name="GITHUB_TOKEN") == SECRET + "2"

    assert (await hub.client.delete(PUT_PATH, headers=ALICE)).status_code == 204
    _error(await hub.client.delete(PUT_PATH, headers=ALICE), 404, "NOT_FOUND", "credential_not_found")
    assert (await hub.client.get("/me/credentials", headers=ALICE)).json()["credentials"] == []


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        ("/me/credentials/nope/GITHUB_TOKEN", 404, "unknown_connector"),
        ("/me/credentials/github/NOT_DECLARED", 422, "undeclared_credential"),
        ("/me/credentials/github/GRAPH", 422, "not_a_vault_credential"),
        ("/me/credentials/time/ANY", 422, "undeclared_credential"),
    ],
)
async def test_unknown_connector_or_credential_is_refused_with_a_reason(
    hub: Hub, path: str, status: int, reason: str
) -> None:
    r = await hub.client.put(path, json={"value": SECRET}, headers=ALICE)
    _error(r, status, "NOT_FOUND" if status == 404 else "BAD_REQUEST", reason)
    _no_secret(r)
    assert hub.service.store.list(tenant="dev", user_id="alice@example.com") == []


@pytest.mark.parametrize(
    ("content", "ctype", "status", "reason"),
    [
        (b'{"value": ', "application/json", 400, "invalid_json"),
        (b'{"valu": "' + SECRET.encode() + b'"}', "application/json", 422, "validation_failed"),
        (b'{"value": "' + SECRET.encode() + b'", "extra": "' + SECRET.encode() + b'"}', "application/json", 422,
         "validation_failed"),
        (b'{"value": ""}', "application/json", 422, "validation_failed"),
        (b'{"value": 12345}', "application/json", 422, "validation_failed"),
        (b'{"value": "' + SECRET.encode() + b'", "expires_at": "2030-01-01T00:00:00"}', "application/json", 422,
         "validation_failed"),
        (b'{"value": "' + SECRET.encode() + b'", "expires_at": "2001-01-01T00:00:00Z"}', "application/json", 422,
         "expires_in_past"),
        (b'value=' + SECRET.encode(), "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"value": "' + b"x" * 70_000 + b'"}', "application/json", 413, "body_too_large"),
    ],
)
async def test_bad_bodies_are_refused_without_echoing_the_value(
    hub: Hub, content: bytes, ctype: str, status: int, reason: str
) -> None:
    r = await hub.client.put(PUT_PATH, content=content, headers={**ALICE, "content-type": ctype})
    _error(r, status, "BAD_REQUEST", reason)
    _no_secret(r)
    assert hub.service.store.list(tenant="dev", user_id="alice@example.com") == []


async def test_missing_and_bad_tokens_get_the_apps_401(hub: Hub) -> None:
    r = await hub.client.get("/me/credentials")
    _error(r, 401, "MISSING_TOKEN", "missing_token")
    assert r.headers["www-authenticate"].startswith('Bearer resource_metadata="')
    _error(await hub.client.get("/me/credentials", headers={"authorization": "Bearer bad"}), 401,
           "INVALID_TOKEN", "bad_signature")


async def test_user_cannot_touch_another_users_credentials(hub: Hub) -> None:
    await hub.client.put(PUT_PATH, json={"value": SECRET}, headers=BOB)
    for method, path in [
        ("GET", "/users/bob@example.com/credentials"),
        ("PUT", "/users/bob@example.com/credentials/github/GITHUB_TOKEN"),
        ("DELETE", "/users/bob@example.com/credentials/github/GITHUB_TOKEN"),
        ("DELETE", "/users/bob@example.com"),
        ("GET", "/connectors"),
    ]:
        r = await hub.client.request(method, path, json={"value": "evil"} if method == "PUT" else None,
                                     headers=ALICE)
        _error(r, 403, "UNAUTHORIZED", "admin_role_required")
    # Alice's own view never includes Bob's.
    assert (await hub.client.get("/me/credentials", headers=ALICE)).json()["credentials"] == []
    assert hub.service.store.reveal(tenant="dev", user_id="bob@example.com", connector="github",
                                    name="GITHUB_TOKEN") == SECRET
    assert hub.audit.kinds().count("admin.denied") == 5
    assert hub.hooks.calls == []


async def test_viewer_reads_but_cannot_write(hub: Hub) -> None:
    assert (await hub.client.get("/me/credentials", headers=VIEWER)).status_code == 200
    _error(await hub.client.put(PUT_PATH, json={"value": SECRET}, headers=VIEWER), 403, "UNAUTHORIZED",
           "user_role_required")
    _error(await hub.client.get("/me/credentials", headers=Hub.auth("nobody@example.com")), 403,
           "UNAUTHORIZED", "viewer_role_required")


async def test_admin_manages_another_users_credentials(hub: Hub) -> None:
    path = "/users/bob@example.com/credentials/github/GITHUB_TOKEN"
    r = await hub.client.put(path, json={"value": SECRET}, headers=ADMIN)
    assert r.status_code == 201
    _no_secret(r)
    mine = (await hub.client.get("/me/credentials", headers=BOB)).json()["credentials"]
    assert [c["name"] for c in mine] == ["GITHUB_TOKEN"]
    listed = await hub.client.get("/users/bob@example.com/credentials", headers=ADMIN)
    assert listed.status_code == 200 and listed.json()["user"] == "bob@example.com"
    _no_secret(listed)
    assert (await hub.client.delete(path, headers=ADMIN)).status_code == 204
    assert (await hub.client.get("/me/credentials", headers=BOB)).json()["credentials"] == []
    # The admin's own credentials are untouched by all this.
    assert hub.service.store.list(tenant="dev", user_id="root@example.com") == []


async def test_connectors_lists_declared_credentials_for_admins(hub: Hub) -> None:
    r = await hub.client.get("/connectors", headers=ADMIN)
    assert r.status_code == 200
    conns = {c["name"]: c for c in r.json()["connectors"]}
    assert set(conns) == {"github", "time"}
    assert conns["github"]["transport"] == "http" and conns["github"]["scopes"] == ["repo:read"]
    assert [(c["name"], c["kind"], c["required"]) for c in conns["github"]["credentials"]] == [
        ("GITHUB_TOKEN", "secret", True), ("GRAPH", "entra_obo", True)]


async def test_offboarding_deletes_marks_and_calls_hooks(hub: Hub) -> None:
    await hub.client.put(PUT_PATH, json={"value": SECRET}, headers=BOB)
    await hub.client.put(PUT_PATH, json={"value": SECRET}, headers=ALICE)
    r = await hub.client.delete("/users/bob@example.com", headers=ADMIN)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"] == "bob@example.com" and body["status"] == "offboarded" and body["credentials_deleted"] == 1
    assert hub.hooks.calls == ["bob@example.com"]
    assert hub.service.store.list(tenant="dev", user_id="bob@example.com") == []
    assert hub.service.store.reveal(tenant="dev", user_id="alice@example.com", connector="github",
                                    name="GITHUB_TOKEN") == SECRET
    # Later tokens for Bob are refused as not provisioned; admins cannot store for him either.
    _error(await hub.client.get("/me/credentials", headers=BOB), 401, "USER_NOT_PROVISIONED", "offboarded")
    _error(await hub.client.put("/users/bob@example.com/credentials/github/GITHUB_TOKEN",
                                json={"value": SECRET}, headers=ADMIN), 409, "CONFLICT", "user_offboarded")
    # Idempotent.
    again = await hub.client.delete("/users/bob@example.com", headers=ADMIN)
    assert again.status_code == 200 and again.json()["credentials_deleted"] == 0
    assert again.json()["offboarded_at"] == body["offboarded_at"]
    offboards = [f for k, f in hub.audit.events if k == "admin.user.offboard"]
    assert len(offboards) == 2 and all("bob@example.com" not in str(f) for f in offboards)


async def test_offboarding_an_unknown_user_still_blocks_their_later_tokens(hub: Hub) -> None:
    r = await hub.client.delete("/users/never-seen@example.com", headers=ADMIN)
    assert r.status_code == 200 and r.json()["credentials_deleted"] == 0
    _error(await hub.client.get("/me/credentials", headers=Hub.auth("never-seen@example.com", "user")), 401,
           "USER_NOT_PROVISIONED", "offboarded")


async def test_admin_cannot_offboard_themselves(hub: Hub) -> None:
    _error(await hub.client.delete("/users/root@example.com", headers=ADMIN), 409, "CONFLICT",
           "cannot_offboard_self")


async def test_failing_hook_is_reported_and_the_user_stays_offboarded(hub: Hub) -> None:
    hub.hooks.fail = True
    r = await hub.client.delete("/users/bob@example.com", headers=ADMIN)
    _error(r, 500, "INTERNAL", "offboarding_incomplete")
    assert hub.service.users.is_offboarded("bob@example.com")
    assert "admin.user.offboard.incomplete" in hub.audit.kinds()


async def test_audit_failure_refuses_the_action(hub: Hub) -> None:
    hub.audit.fail = True
    r = await hub.client.put(PUT_PATH, json={"value": SECRET}, headers=ALICE)
    _error(r, 503, "NOT_READY", "audit_unavailable")
    assert hub.service.store.list(tenant="dev", user_id="alice@example.com") == []
    hub.audit.fail = False
    await hub.client.put(PUT_PATH, json={"value": SECRET}, headers=BOB)
    hub.audit.fail = True
    _error(await hub.client.delete("/users/bob@example.com", headers=ADMIN), 503, "NOT_READY", "audit_unavailable")
    assert not hub.service.users.is_offboarded("bob@example.com") and hub.hooks.calls == []


async def test_every_action_is_audited_value_free_in_the_hash_chain(hub: Hub, tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", fingerprint_key=bytes(range(32)))
    app = build_app(hub.service, log, hub.hooks)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app),
                                  base_url="http://127.0.0.1:8000/team/v1") as c:
        assert (await c.put(PUT_PATH, json={"value": SECRET}, headers=ALICE)).status_code == 201
        assert (await c.get("/me/credentials", headers=ALICE)).status_code == 200
        assert (await c.put("/users/bob@example.com/credentials/github/GITHUB_TOKEN", json={"value": SECRET},
                            headers=ADMIN)).status_code == 201
        assert (await c.get("/connectors", headers=ADMIN)).status_code == 200
        assert (await c.delete(PUT_PATH, headers=ALICE)).status_code == 204
        assert (await c.delete("/users/bob@example.com", headers=ADMIN)).status_code == 200
        assert (await c.get("/connectors", headers=ALICE)).status_code == 403
    log.close()
    text = (tmp_path / "audit.jsonl").read_text()
    assert SECRET not in text and "alice@example.com" not in text
    kinds = [line.split('"kind":"')[1].split('"')[0] for line in text.splitlines()]
    assert kinds == ["admin.credential.put", "admin.credential.list", "admin.credential.put",
                     "admin.connectors.list", "admin.credential.delete", "admin.user.offboard", "admin.denied"]
    assert verify_file(tmp_path / "audit.jsonl").ok


async def test_openapi_document_is_public_valid_and_covers_every_route(hub: Hub) -> None:
    from openapi_spec_validator import validate

    r = await hub.client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    ops = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert ops == {
        ("/openapi.json", "get"), ("/me/credentials", "get"), ("/me/credentials/{connector}/{name}", "put"),
        ("/me/credentials/{connector}/{name}", "delete"), ("/users/{user}/credentials", "get"),
        ("/users/{user}/credentials/{connector}/{name}", "put"),
        ("/users/{user}/credentials/{connector}/{name}", "delete"), ("/users/{user}", "delete"),
        ("/connectors", "get"),
    }
    put_schema = doc["components"]["schemas"]["CredentialPut"]
    assert put_schema["properties"]["value"]["writeOnly"] is True
    out_props = doc["components"]["schemas"]["CredentialOut"]["properties"]
    assert "value" not in out_props


@pytest.mark.parametrize(
    ("exc", "status", "code", "reason"),
    [
        (RuntimeError("boom " + SECRET), 500, "INTERNAL", "internal_error"),
        ("operational", 503, "NOT_READY", "storage_unavailable"),
        (KeyUnavailable("KEK version 1 is not available"), 503, "NOT_READY", "key_unavailable"),
        (CryptoError("ciphertext failed authentication"), 500, "INTERNAL", "crypto_failed"),
    ],
)
async def test_unexpected_failures_become_json_errors_without_details(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, exc: Any, status: int, code: str, reason: str
) -> None:
    from sqlalchemy.exc import OperationalError

    err = OperationalError("SELECT secret", {"v": SECRET}, Exception("db down")) if exc == "operational" else exc

    async def broken(*_a: Any, **_k: Any) -> Any:
        raise err

    monkeypatch.setattr(hub.service, "list", broken)
    r = await hub.client.get("/me/credentials", headers=ALICE)
    _error(r, status, code, reason)
    _no_secret(r)
    assert "SELECT" not in r.text


async def test_no_value_in_logs(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("DEBUG"):
        await hub.client.put(PUT_PATH, json={"value": SECRET}, headers=ALICE)
        await hub.client.put(PUT_PATH, content=b'{"value": "' + SECRET.encode() + b'", "x": 1}',
                             headers={**ALICE, "content-type": "application/json"})
        await hub.client.get("/me/credentials", headers=ALICE)
        await hub.client.delete("/users/alice@example.com", headers=ADMIN)
    assert caplog.records and SECRET not in caplog.text


async def test_admins_stay_within_their_tenant(service: Any) -> None:
    from admin_harness import RecordingAudit, RecordingHooks
    from hub.auth.base import Principal

    async def entra_auth(request: Any) -> Principal:
        tid = request.headers["x-tid"]
        return Principal(user_id=f"{tid}:admin-oid", email="a@x", tenant=tid, roles=frozenset({"admin"}))

    from hub.admin.routes import admin_routes
    from starlette.applications import Starlette
    from starlette.routing import Mount

    hooks = RecordingHooks()
    app = Starlette(routes=[Mount("/v1", routes=list(admin_routes(
        vault=service, audit=RecordingAudit(), authenticate=entra_auth, hooks=hooks, connectors={})))])
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1/v1") as c:
        r = await c.delete("/users/tenant-b:victim-oid", headers={"x-tid": "tenant-a"})
        _error(r, 404, "NOT_FOUND", "unknown_user")
        assert hooks.calls == [] and not service.users.is_offboarded("tenant-b:victim-oid")
        ok = await c.delete("/users/tenant-b:victim-oid", headers={"x-tid": "tenant-b"})
        assert ok.status_code == 200 and hooks.calls == ["tenant-b:victim-oid"]
        # Once known as tenant B's, tenant A's admin cannot see their credentials either.
        _error(await c.get("/users/tenant-b:victim-oid/credentials", headers={"x-tid": "tenant-a"}), 404,
               "NOT_FOUND", "unknown_user")
