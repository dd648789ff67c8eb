"""Admin API for the facade's pre-registered clients, under the admin API's prefix (``{prefix}/v1``)::

    GET    /v1/facade/clients               → 200 [{"client_id", "kind", "name", "redirect_uris", "token_endpoint_auth_method"}]
    POST   /v1/facade/clients               {"name", "redirect_uris"?, "token_endpoint_auth_method"?}
                                            → 201 {"client_id", "client_secret", …}   (the secret is shown once)
    DELETE /v1/facade/clients/{client_id}   → 204 (its grants are revoked) | 404

All need a hub token with the ``admin`` role (else 401/403 through the app's error handler, with the same JSON body
as every other route). Secrets are never listed. The same operations exist on the CLI (``mcpguard hub facade
client …``). Each action — the listing and refusals too — is written to the hub's hash-chained audit log
(``app.state.hub.audit``, see :mod:`hub.auth.facade.audit`) before it takes effect; when the record cannot be
written the answer is ``503 NOT_READY`` (reason ``audit_unavailable``) and nothing changes.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.auth.base import Authenticator, Forbidden, Principal
from hub.auth.config import CLAUDE_CALLBACKS
from hub.auth.facade.audit import record_admin_action
from hub.auth.facade.clients import prepare_confidential
from hub.auth.facade.server import NO_STORE, Facade
from hub.errors import error_response
from hub.logs import user_ref
from mcpguard.errors import AuditUnavailable

logger = logging.getLogger("hub.auth.facade.admin")


def admin_routes(facade: Facade, authenticator: Authenticator, prefix: str) -> list[BaseRoute]:
    """Starlette routes under ``prefix`` to list, add (POST) and remove (DELETE) facade clients; role ``admin``
    required, audited."""
    from hub.app import make_authenticate

    authenticate = make_authenticate(authenticator)

    async def audit(request: Request, kind: str, principal: Principal, **fields: Any) -> None:
        hub = getattr(request.app.state, "hub", None)
        await record_admin_action(getattr(hub, "audit", None), kind, via="api", actor=principal, **fields)

    async def admin(request: Request, action: str) -> Principal:
        principal = await authenticate(request)
        if not principal.has_role("admin"):
            try:
                await audit(request, "admin.denied", principal, action=action, need_role="admin")
            except AuditUnavailable:
                pass  # the refusal stands either way
            raise Forbidden("managing OAuth clients needs the admin role", reason="insufficient_role")
        return principal

    def unaudited() -> Response:
        return error_response(503, "NOT_READY", "the audit log cannot be written; the request was not carried out",
                              "audit_unavailable")

    async def list_clients(request: Request) -> Response:
        principal = await admin(request, "facade.clients.list")
        try:
            await audit(request, "admin.facade.clients.list", principal)
        except AuditUnavailable:
            return unaudited()
        rows = facade.store.list_clients()
        return JSONResponse([
            {"client_id": r.client_id, "kind": r.kind, "name": r.name, "redirect_uris": json.loads(r.redirect_uris),
             "token_endpoint_auth_method": r.auth_method, "created_at": r.created_at} for r in rows
        ], headers=NO_STORE)

    async def add_client(request: Request) -> Response:
        principal = await admin(request, "facade.client.add")
        try:
            body: Any = json.loads(await request.body() or b"{}")
        except ValueError:
            return error_response(400, "BAD_REQUEST", "body is not JSON", "invalid_body")
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
            return error_response(400, "BAD_REQUEST", "name is required", "invalid_body")
        uris = body.get("redirect_uris") or list(CLAUDE_CALLBACKS)
        method = body.get("token_endpoint_auth_method") or "client_secret_post"
        if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
            return error_response(400, "BAD_REQUEST", "redirect_uris must be a list of URIs", "invalid_body")
        try:
            row, secret = prepare_confidential(body["name"].strip(), uris, auth_method=method)
        except ValueError as exc:
            return error_response(400, "BAD_REQUEST", str(exc), "invalid_body")
        try:
            await audit(request, "admin.facade.client.add", principal, client_id=row.client_id, auth_method=method,
                        redirect_uri_count=len(uris))
        except AuditUnavailable:
            return unaudited()
        facade.store.put_client(row)
        logger.info("oauth client registered", extra={"actor": user_ref(principal.user_id),
                                                      "client_id": row.client_id})
        return JSONResponse({"client_id": row.client_id, "client_secret": secret, "name": row.name,
                             "redirect_uris": uris, "token_endpoint_auth_method": method},
                            status_code=201, headers=NO_STORE)

    async def remove_client(request: Request) -> Response:
        principal = await admin(request, "facade.client.remove")
        client_id = request.path_params["client_id"]
        try:
            await audit(request, "admin.facade.client.remove", principal, client_id=client_id)
        except AuditUnavailable:
            return unaudited()
        if not facade.store.delete_client(client_id):
            return error_response(404, "NOT_FOUND", "no such client", "unknown_client")
        logger.info("oauth client removed", extra={"actor": user_ref(principal.user_id), "client_id": client_id})
        return Response(status_code=204)

    base = f"{prefix}/v1/facade/clients"
    return [
        Route(base, list_clients, methods=["GET"]),
        Route(base, add_client, methods=["POST"]),
        Route(base + "/{client_id:path}", remove_client, methods=["DELETE"]),
    ]
