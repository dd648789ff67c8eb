"""The OpenAPI 3.1 document of the ``/v1`` admin API, generated from the pydantic models in :mod:`hub.admin.models`
(OpenAPI 3.1.0 §4.8; schemas are JSON Schema 2020-12, which pydantic v2 emits). Served at ``{prefix}/v1/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from hub.admin import models as m

_REF = "#/components/schemas/{model}"


def _schemas() -> dict[str, Any]:
    pairs = [
        (m.CredentialPut, "validation"),
        (m.CredentialOut, "serialization"),
        (m.CredentialList, "serialization"),
        (m.ConnectorList, "serialization"),
        (m.OffboardResult, "serialization"),
        (m.ErrorBody, "serialization"),
    ]
    _, top = models_json_schema(pairs, ref_template=_REF)  # type: ignore[arg-type]
    return dict(top.get("$defs", {}))


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Malformed JSON.",
        401: "Missing, invalid or expired token, or the user is not provisioned (offboarded). Carries "
             "`WWW-Authenticate: Bearer resource_metadata=…`.",
        403: "Authenticated but the role is insufficient.",
        404: "Unknown connector, user or stored credential.",
        409: "Conflicts with the user's state (offboarded, self-offboarding).",
        413: "Body too large.",
        415: "Body is not application/json.",
        422: "Body or path fails validation (e.g. a credential name the connector does not declare).",
        500: "Integrity failure of a stored record (fail closed) or incomplete offboarding.",
        503: "Audit log or vault keys unavailable; nothing was changed.",
    }
    return {str(c): _json("ErrorBody", text[c]) for c in codes}


def _param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


CONNECTOR = _param("connector", "Connector name, as in its manifest (e.g. `github`).")
NAME = _param("name", "Credential name declared in the connector's manifest (e.g. `GITHUB_TOKEN`).")
USER = _param("user", "The user id (dev mode: the e-mail; Entra: `tid:oid`).")


def _credential_ops(scope: str, role: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    who = "the caller's own" if scope == "me" else "a user's"
    common = [401, 403, 503] if scope == "me" else [401, 403, 404, 503]
    put_body = {
        "required": True,
        "content": {"application/json": {"schema": _ref("CredentialPut")}},
    }
    return {
        "put": {
            "operationId": f"{scope}PutCredential",
            "summary": f"Store or replace {who} credential (write-only; role {role}).",
            "parameters": [*params, CONNECTOR, NAME],
            "requestBody": put_body,
            "responses": {
                "200": _json("CredentialOut", "Replaced; metadata only."),
                "201": _json("CredentialOut", "Created; metadata only."),
                **_errors(*sorted({*common, 400, 404, 409, 413, 415, 422})),
            },
        },
        "delete": {
            "operationId": f"{scope}DeleteCredential",
            "summary": f"Delete {who} credential (role {role}).",
            "parameters": [*params, CONNECTOR, NAME],
            "responses": {"204": {"description": "Deleted."}, **_errors(*sorted({*common, 404, 422}))},
        },
    }


def openapi_document(server_url: str = "/v1") -> dict[str, Any]:
    """The whole document; ``server_url`` is where ``/v1`` lives (``{public_url}{prefix}/v1``)."""
    me_ops = _credential_ops("me", "user", [])
    user_ops = _credential_ops("user", "admin", [USER])
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mcpguard hub admin API",
            "version": "1",
            "description": (
                "Per-user credentials for the hub's connectors (write-only: reads return metadata and a keyed "
                "fingerprint, never a value), the connector catalogue and user offboarding. Every request needs a "
                "bearer token from the hub's login (dev mode: `mcpguard hub dev-token`)."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": {
            "/me/credentials": {
                "get": {
                    "operationId": "meListCredentials",
                    "summary": "Metadata of the caller's credentials (role viewer).",
                    "responses": {"200": _json("CredentialList", "The caller's credentials, without values."),
                                  **_errors(401, 403, 503)},
                }
            },
            "/me/credentials/{connector}/{name}": me_ops,
            "/users/{user}/credentials": {
                "get": {
                    "operationId": "userListCredentials",
                    "summary": "Metadata of a user's credentials (role admin).",
                    "parameters": [USER],
                    "responses": {"200": _json("CredentialList", "The user's credentials, without values."),
                                  **_errors(401, 403, 404, 422, 503)},
                }
            },
            "/users/{user}/credentials/{connector}/{name}": user_ops,
            "/users/{user}": {
                "delete": {
                    "operationId": "offboardUser",
                    "summary": "Offboard a user: refuse their tokens, delete their credentials, stop their child "
                               "processes, revoke their hub tokens (role admin; idempotent).",
                    "parameters": [USER],
                    "responses": {"200": _json("OffboardResult", "Offboarded."),
                                  **_errors(401, 403, 404, 409, 422, 500, 503)},
                }
            },
            "/connectors": {
                "get": {
                    "operationId": "listConnectors",
                    "summary": "The connectors this hub serves and the credentials each declares (role admin).",
                    "responses": {"200": _json("ConnectorList", "Connectors."), **_errors(401, 403, 503)},
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "security": [],
                    "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                                          "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            },
        },
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "A hub access token (RFC 6750)."}
            },
        },
    }


__all__ = ["openapi_document"]
