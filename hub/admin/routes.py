"""The ``/v1`` admin API: per-user credentials (write-only), connectors, offboarding. Mounted by ``hub.app`` under
``{prefix}/v1`` (paths here are relative to that).

::

    GET    /openapi.json                                    public      the OpenAPI 3.1 document
    GET    /me/credentials                                  viewer+     my credentials' metadata
    PUT    /me/credentials/{connector}/{name}               user+       store or replace one of mine
    DELETE /me/credentials/{connector}/{name}               user+       delete one of mine
    GET    /users/{user}/credentials                        admin
    PUT    /users/{user}/credentials/{connector}/{name}     admin
    DELETE /users/{user}/credentials/{connector}/{name}     admin
    GET    /connectors                                      admin       connectors and the credentials they declare
    DELETE /users/{user}                                    admin       offboard: mark, delete credentials, hooks

Every request is authenticated by the app's ``authenticate`` (its :class:`~hub.auth.base.AuthError` propagates to
the app's 401/403 handler); an offboarded user is refused with ``USER_NOT_PROVISIONED``. Admins act within their own
tenant. Every action — reads too, and refusals — is written to the hash-chained audit log *before* it takes effect:
if the audit record cannot be written the request fails with 503 and nothing changes. Audit records hold keyed
fingerprints of user ids, connector and credential names, never a value.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mcpguard.errors import CryptoError, KeyUnavailable, MCPGuardError

from hub.admin.models import (
    ConnectorCredential,
    ConnectorList,
    ConnectorOut,
    CredentialList,
    CredentialOut,
    CredentialPut,
    OffboardResult,
)
from hub.auth.base import Forbidden, Principal, Role
from hub.errors import error_response
from hub.logs import request_id_var, user_ref
from hub.seams import Authenticate, CredentialSpec
from hub.vault.store import CredentialMeta

log = logging.getLogger("hub.admin")

#: Largest accepted request body, bytes (a credential is at most 16 KiB; JSON escaping can double it).
MAX_BODY_BYTES = 64 * 1024
_USER_MAX = 320


class ApiError(Exception):
    """A refusal with its HTTP status, coarse ``code`` and exact ``reason``; ``message`` is value-free."""

    def __init__(self, status: int, code: str, reason: str, message: str, **context: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.reason, self.context = status, code, reason, context

    def response(self) -> Response:
        """This error as a JSON error response (status, code, message, reason and context fields)."""
        return error_response(self.status, self.code, str(self), self.reason, **self.context)


def _json(model: Any, status: int = 200) -> Response:
    return Response(model.model_dump_json().encode(), status_code=status, media_type="application/json",
                    headers={"cache-control": "no-store"})


def _out(meta: CredentialMeta, now: datetime) -> CredentialOut:
    return CredentialOut(connector=meta.connector, name=meta.name, fingerprint=meta.fingerprint,
                         created_at=meta.created_at, updated_at=meta.updated_at, expires_at=meta.expires_at,
                         last_used_at=meta.last_used_at, expired=meta.expired(now))


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _manifest(entry: Any) -> Any:
    """A registry entry (``hub.upstreams.registry.Connector``) or a bare manifest → the manifest."""
    return getattr(entry, "manifest", entry)


def _default_catalog(settings: Any) -> Mapping[str, Any]:
    if settings is None:
        return {}
    from hub.upstreams.registry import load_registry

    return load_registry(settings)


class AdminApi:
    """The endpoints, sharing their dependencies. ``connectors``: name → manifest (or registry entry); a callable
    returning that mapping is called on each request (so a reload shows up)."""

    def __init__(self, *, vault: Any, audit: Any, authenticate: Authenticate, hooks: Any,
                 connectors: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.vault = vault
        self.audit = audit
        self.authenticate = authenticate
        self.hooks = hooks
        self._connectors = connectors
        self.clock = clock

    # -- plumbing ---------------------------------------------------------------------------------------------------

    def connectors(self) -> Mapping[str, Any]:
        """Installed connectors, name -> registry entry; resolved on each call when given as a callable."""
        c = self._connectors
        return c() if callable(c) else c

    def _ref(self, user_id: str) -> str:
        fp = getattr(self.audit, "fingerprint", None)
        return fp("user_id", user_id) if callable(fp) else user_ref(user_id)

    async def _audit(self, kind: str, principal: Principal | None, *, required: bool = True, **fields: Any) -> None:
        """Record ``kind`` before acting. ``required``: a failure refuses the request (503) — audit before effect."""
        record = {"request_id": request_id_var.get(), **fields}
        if principal is not None:
            record["actor"] = self._ref(principal.user_id)
            record["actor_roles"] = sorted(principal.roles)
        if "target" in record:
            record["target"] = self._ref(record["target"])
        if self.audit is None:
            return
        try:
            await _maybe_await(self.audit.record_event(kind, record))
        except Exception as exc:  # noqa: BLE001 - any audit failure must stop the action
            log.error("admin audit record %s failed: %s", kind, type(exc).__name__)
            if required:
                raise ApiError(503, "NOT_READY", "audit_unavailable",
                               "the audit log cannot be written; the request was not carried out") from None

    async def _principal(self, request: Request, role: Role, action: str) -> Principal:
        principal = await self.authenticate(request)
        users = getattr(self.vault, "users", None)
        if users is not None:
            await users.admit(principal)
        if not principal.has_role(role):
            await self._audit("admin.denied", principal, required=False, action=action, need_role=role)
            raise Forbidden(f"this action needs the {role} role", reason=f"{role}_role_required")
        return principal

    def _spec(self, connector: str, name: str) -> CredentialSpec:
        manifest = self.connectors().get(connector)
        if manifest is None:
            raise ApiError(404, "NOT_FOUND", "unknown_connector", f"no connector named {connector!r} on this hub")
        spec = next((c for c in _manifest(manifest).credentials if c.name == name), None)
        if spec is None:
            raise ApiError(422, "BAD_REQUEST", "undeclared_credential",
                           f"connector {connector!r} declares no credential named {name!r}")
        if spec.kind != "secret":
            raise ApiError(422, "BAD_REQUEST", "not_a_vault_credential",
                           f"credential {name!r} of {connector!r} is of kind {spec.kind}, obtained by the hub itself")
        return spec

    async def _target(self, request: Request, principal: Principal) -> str:
        user = request.path_params["user"]
        if not user or len(user) > _USER_MAX:
            raise ApiError(422, "BAD_REQUEST", "invalid_user", "user id is empty or too long")
        rec = await _thread(self.vault.users.get, user) if getattr(self.vault, "users", None) else None
        # Entra user ids are "tid:oid": an admin of one tenant cannot reach (or pre-emptively offboard) another's.
        foreign_id = principal.tenant != "dev" and ":" in user and user.split(":", 1)[0] != principal.tenant
        if foreign_id or (rec is not None and rec.tenant != principal.tenant):
            raise ApiError(404, "NOT_FOUND", "unknown_user", "no such user in your tenant")
        return user

    async def _body(self, request: Request) -> CredentialPut:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ApiError(415, "BAD_REQUEST", "unsupported_media_type", "send the body as application/json")
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            raise ApiError(413, "BAD_REQUEST", "body_too_large", f"body exceeds {MAX_BODY_BYTES} bytes")
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY_BYTES:
                raise ApiError(413, "BAD_REQUEST", "body_too_large", f"body exceeds {MAX_BODY_BYTES} bytes")
        try:
            data = orjson.loads(bytes(raw))
        except orjson.JSONDecodeError:
            raise ApiError(400, "BAD_REQUEST", "invalid_json", "the body is not valid JSON") from None
        try:
            body = CredentialPut.model_validate(data)
        except ValidationError as exc:
            # Locations and messages only: pydantic's "input" would echo the value.
            fields = [{"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]}
                      for e in exc.errors(include_input=False, include_url=False, include_context=False)]
            raise ApiError(422, "BAD_REQUEST", "validation_failed", "the body does not match CredentialPut",
                           fields=fields) from None
        if body.expires_at is not None and body.expires_at <= self.clock():
            raise ApiError(422, "BAD_REQUEST", "expires_in_past", "expires_at is not in the future")
        return body

    # -- credentials ------------------------------------------------------------------------------------------------

    async def _list(self, principal: Principal, user: str, kind: str) -> Response:
        await self._audit(kind, principal, target=user)
        metas = await self.vault.list(principal.tenant, user)
        now = self.clock()
        return _json(CredentialList(user=user, credentials=[_out(m, now) for m in metas]))

    async def _put(self, request: Request, principal: Principal, user: str, kind: str) -> Response:
        connector, name = request.path_params["connector"], request.path_params["name"]
        self._spec(connector, name)
        body = await self._body(request)
        users = getattr(self.vault, "users", None)
        if users is not None and user != principal.user_id and await _thread(users.is_offboarded, user):
            raise ApiError(409, "CONFLICT", "user_offboarded", "this user is offboarded")
        await self._audit(kind, principal, target=user, connector=connector, credential=name,
                          expires_at=body.expires_at.isoformat() if body.expires_at else None)
        try:
            meta, created = await self.vault.put(principal.tenant, user, connector, name,
                                                 body.value.get_secret_value(), body.expires_at)
        except ValueError as exc:
            raise ApiError(422, "BAD_REQUEST", "validation_failed", str(exc)) from None
        log.info("credential stored", extra={"actor": user_ref(principal.user_id), "target": user_ref(user),
                                            "connector": connector, "credential": name})
        return _json(_out(meta, self.clock()), 201 if created else 200)

    async def _delete(self, request: Request, principal: Principal, user: str, kind: str) -> Response:
        connector, name = request.path_params["connector"], request.path_params["name"]
        existing = await _thread(self.vault.store.get_meta, tenant=principal.tenant, user_id=user,
                                 connector=connector, name=name)
        if existing is None:
            # Stored credentials can be deleted even after the manifest stopped declaring them; otherwise say why.
            self._spec(connector, name)
            raise ApiError(404, "NOT_FOUND", "credential_not_found", f"no stored credential {connector}/{name}")
        await self._audit(kind, principal, target=user, connector=connector, credential=name)
        await self.vault.delete(principal.tenant, user, connector, name)
        return Response(status_code=204, headers={"cache-control": "no-store"})

    async def me_list(self, request: Request) -> Response:
        """GET own credentials (role ``viewer``): names and metadata, never secret values; audited."""
        p = await self._principal(request, "viewer", "me.credentials.list")
        return await self._list(p, p.user_id, "admin.credential.list")

    async def me_put(self, request: Request) -> Response:
        """PUT one of the caller's own credentials into the vault (role ``user``); audited."""
        p = await self._principal(request, "user", "me.credential.put")
        return await self._put(request, p, p.user_id, "admin.credential.put")

    async def me_delete(self, request: Request) -> Response:
        """DELETE one of the caller's own credentials (role ``user``); audited."""
        p = await self._principal(request, "user", "me.credential.delete")
        return await self._delete(request, p, p.user_id, "admin.credential.delete")

    async def user_list(self, request: Request) -> Response:
        """GET another user's credentials (role ``admin``); audited."""
        p = await self._principal(request, "admin", "user.credentials.list")
        return await self._list(p, await self._target(request, p), "admin.credential.list")

    async def user_put(self, request: Request) -> Response:
        """PUT a credential for another user (role ``admin``); audited."""
        p = await self._principal(request, "admin", "user.credential.put")
        return await self._put(request, p, await self._target(request, p), "admin.credential.put")

    async def user_delete(self, request: Request) -> Response:
        """DELETE another user's credential (role ``admin``); audited."""
        p = await self._principal(request, "admin", "user.credential.delete")
        return await self._delete(request, p, await self._target(request, p), "admin.credential.delete")

    # -- connectors and users ---------------------------------------------------------------------------------------

    async def connectors_list(self, request: Request) -> Response:
        """GET the installed connectors and their credential slots (role ``admin``) as a ``ConnectorList``."""
        p = await self._principal(request, "admin", "connectors.list")
        await self._audit("admin.connectors.list", p)
        out = []
        for name, entry in sorted(self.connectors().items()):
            m = _manifest(entry)
            out.append(ConnectorOut(
                name=name, version=str(m.version), description=m.description, transport=m.transport.type,
                network=bool(getattr(m, "network", False)), scopes=list(getattr(m, "scopes", [])),
                credentials=[ConnectorCredential(name=c.name, description=c.description, kind=c.kind,
                                                 required=c.required) for c in m.credentials],
            ))
        return _json(ConnectorList(connectors=out))

    async def user_offboard(self, request: Request) -> Response:
        """Offboard a user (role ``admin``): mark them offboarded, delete their vault records, run
        every ``on_user_deleted`` hook (a failing hook is reported, the rest still run).

        Raises ``ApiError`` 409 ``CONFLICT`` when admins target themselves.
        """
        p = await self._principal(request, "admin", "user.offboard")
        user = await self._target(request, p)
        if user == p.user_id:
            raise ApiError(409, "CONFLICT", "cannot_offboard_self", "an admin cannot offboard themselves")
        await self._audit("admin.user.offboard", p, target=user)
        # Mark first so no new token for the user is accepted while the rest runs.
        rec = await _thread(self.vault.users.offboard, user, tenant=p.tenant, by=p.user_id)
        deleted = await self.vault.delete_user(p.tenant, user)
        hooks = self.hooks if isinstance(self.hooks, Sequence) else [self.hooks] if self.hooks else []
        failed = []
        for hook in hooks:
            try:
                await _maybe_await(hook.on_user_deleted(user))
            except Exception as exc:  # noqa: BLE001 - report, keep going: the other hooks must still run
                failed.append(type(hook).__name__)
                log.error("offboarding hook %s failed: %s", type(hook).__name__, type(exc).__name__,
                          extra={"target": user_ref(user)})
        if failed:
            await self._audit("admin.user.offboard.incomplete", p, required=False, target=user, hooks=failed)
            raise ApiError(500, "INTERNAL", "offboarding_incomplete",
                           "the user is offboarded and their credentials deleted, but some clean-up failed; "
                           "repeat the request", hooks=failed)
        log.info("user offboarded", extra={"actor": user_ref(p.user_id), "target": user_ref(user),
                                          "credentials_deleted": deleted})
        assert rec.offboarded_at is not None
        return _json(OffboardResult(user=user, credentials_deleted=deleted, offboarded_at=rec.offboarded_at))


async def _thread(fn: Any, /, *args: Any, **kw: Any) -> Any:
    import anyio.to_thread
    from functools import partial

    return await anyio.to_thread.run_sync(partial(fn, *args, **kw))


def _endpoint(method: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """Turn :class:`ApiError` and value-free library errors into the JSON error body; let ``AuthError`` through."""

    async def endpoint(request: Request) -> Response:
        try:
            return await method(request)
        except ApiError as err:
            return err.response()
        except KeyUnavailable as err:
            log.error("vault key unavailable: %s", err)
            return error_response(503, "NOT_READY", "the vault's keys are not available", "key_unavailable")
        except CryptoError as err:
            # Fail closed; the message is value-free by contract but stays in the log, not the body.
            log.error("vault crypto failure: %s", err)
            return error_response(500, "INTERNAL", "a stored credential failed its integrity check", err.reason)
        except MCPGuardError as err:
            if err.status in (401, 403):
                raise
            log.error("admin request failed: %s", err)
            return error_response(err.status, "INTERNAL", str(err), err.reason)
        except OperationalError as err:
            # Database unreachable or locked: the type only (SQLAlchemy messages quote statements).
            log.error("admin request failed: storage unavailable (%s)", type(err.orig).__name__)
            return error_response(503, "NOT_READY", "the credential store is unavailable", "storage_unavailable")
        except Exception as err:  # noqa: BLE001 - one boundary: never a bare 500 or a traceback with data
            log.error("admin request failed: %s", type(err).__name__)
            return error_response(500, "INTERNAL", "internal error", "internal_error")

    endpoint.__name__ = method.__name__
    return endpoint


def admin_routes(
    *,
    vault: Any,
    audit: Any,
    authenticate: Authenticate,
    hooks: Any,
    settings: Any = None,
    connectors: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Sequence[BaseRoute]:
    """The admin API's routes, relative to ``{prefix}/v1``.

    ``vault``: a :class:`hub.vault.service.VaultService` (with ``users``); ``audit``: anything with
    ``record_event(kind, fields)`` (sync or async; :class:`mcpguard.audit.AuditLog`); ``authenticate``: ``await
    authenticate(request) -> Principal``; ``hooks``: one :class:`~hub.seams.OffboardingHooks` or a sequence;
    ``connectors``: name → manifest (default: :func:`hub.upstreams.registry.load_registry(settings)`, loaded once)."""
    from hub.admin.openapi import openapi_document

    catalog: Mapping[str, Any] | Callable[[], Mapping[str, Any]]
    catalog = connectors if connectors is not None else _default_catalog(settings)
    api = AdminApi(vault=vault, audit=audit, authenticate=authenticate, hooks=hooks, connectors=catalog,
                   **({"clock": clock} if clock else {}))
    prefix = getattr(getattr(settings, "server", None), "prefix", "") or ""
    base = getattr(getattr(settings, "server", None), "base_url", None)
    doc = orjson.dumps(openapi_document(server_url=f"{base or ''}{prefix}/v1"))

    async def openapi(_request: Request) -> Response:
        return Response(doc, media_type="application/json")

    e = _endpoint
    return [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/me/credentials", e(api.me_list), methods=["GET"]),
        Route("/me/credentials/{connector}/{name}", e(api.me_put), methods=["PUT"]),
        Route("/me/credentials/{connector}/{name}", e(api.me_delete), methods=["DELETE"]),
        Route("/users/{user}/credentials", e(api.user_list), methods=["GET"]),
        Route("/users/{user}/credentials/{connector}/{name}", e(api.user_put), methods=["PUT"]),
        Route("/users/{user}/credentials/{connector}/{name}", e(api.user_delete), methods=["DELETE"]),
        Route("/users/{user}", e(api.user_offboard), methods=["DELETE"]),
        Route("/connectors", e(api.connectors_list), methods=["GET"]),
    ]


__all__ = ["AdminApi", "ApiError", "admin_routes"]
