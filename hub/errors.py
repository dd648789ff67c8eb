"""HTTP error bodies: every refusal the hub sends over HTTP has one JSON shape.

::

    {"error": {"code": "MISSING_TOKEN", "message": "…", "context": {"request_id": "…", "reason": "missing_token"}}}

``code`` is stable and coarse (the seed platform's ``MISSING_TOKEN`` / ``INVALID_TOKEN`` / ``USER_NOT_PROVISIONED`` /
``UNAUTHORIZED``, plus ``BAD_REQUEST``, ``NOT_FOUND``, ``NOT_READY``, ``INTERNAL``); ``reason`` says exactly what was
wrong. 401 responses carry ``WWW-Authenticate: Bearer resource_metadata="…"`` (RFC 6750 §3, RFC 9728 §5.1) so clients
can discover the authorization server. Messages never hold a token or a value.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from hub.auth.base import AuthError
from hub.logs import request_id_var


def error_body(code: str, message: str, reason: str, *, request_id: str | None = None, **context: Any) -> bytes:
    """The JSON body bytes for an error."""
    ctx = {"request_id": request_id or request_id_var.get(), "reason": reason, **context}
    return orjson.dumps({"error": {"code": code, "message": message, "context": ctx}})


def error_response(
    status: int, code: str, message: str, reason: str, *, headers: dict[str, str] | None = None, **context: Any
) -> Response:
    """A JSON error :class:`Response` (``Cache-Control: no-store``: error bodies are per request)."""
    hdrs = {"cache-control": "no-store", **(headers or {})}
    return Response(
        error_body(code, message, reason, **context), status_code=status, media_type="application/json", headers=hdrs
    )


def www_authenticate(resource_metadata_url: str, err: AuthError | None = None) -> str:
    """The ``WWW-Authenticate`` challenge (RFC 6750 §3): ``Bearer resource_metadata="…"`` and, for a presented but
    bad token, ``error="invalid_token"`` (``insufficient_scope`` for 403)."""
    parts = [f'resource_metadata="{resource_metadata_url}"']
    if err is not None and err.code != "MISSING_TOKEN":
        rfc = "insufficient_scope" if err.status == 403 else "invalid_token"
        parts.append(f'error="{rfc}"')
    return "Bearer " + ", ".join(parts)


def auth_error_response(err: AuthError, resource_metadata_url: str) -> Response:
    """401 (or 403) with the challenge header and the JSON body naming ``err.reason``."""
    return error_response(
        err.status,
        err.code,
        str(err),
        err.reason,
        headers={"www-authenticate": www_authenticate(resource_metadata_url, err)},
    )


__all__ = ["auth_error_response", "error_body", "error_response", "www_authenticate"]
