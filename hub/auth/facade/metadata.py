"""RFC 8414 authorization server metadata and the JWKS of the facade.

Served at ``/.well-known/oauth-authorization-server{issuer path}`` (RFC 8414 §3.1, path inserted after the host),
and, when the issuer has a path, also at ``{issuer path}/.well-known/oauth-authorization-server`` for clients that
append instead. ``issuer`` is the configured string exactly (clients compare byte for byte, RFC 8414 §3.3).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.auth.facade.server import Facade


def metadata(facade: Facade) -> dict[str, Any]:
    """Authorization server metadata document (RFC 8414 §2) of the facade."""
    s = facade.settings
    doc: dict[str, Any] = {
        "issuer": facade.issuer,
        "authorization_endpoint": facade.url("/authorize"),
        "token_endpoint": facade.url("/token"),
        "revocation_endpoint": facade.url("/revoke"),
        "jwks_uri": facade.url("/.well-known/jwks.json"),
        "scopes_supported": list(s.scopes),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "client_id_metadata_document_supported": s.cimd.enabled,
    }
    if s.dcr.enabled:
        doc["registration_endpoint"] = facade.url("/register")
    return doc


async def handle_metadata(facade: Facade, request: Request) -> Response:
    """GET ``/.well-known/oauth-authorization-server`` (RFC 8414 §3); cacheable 300 s, CORS open."""
    return JSONResponse(metadata(facade), headers={"Cache-Control": "public, max-age=300",
                                                   "Access-Control-Allow-Origin": "*"})


async def handle_jwks(facade: Facade, request: Request) -> Response:
    """GET the JWK Set (RFC 7517) referenced by ``jwks_uri``; cacheable 300 s, CORS open."""
    return JSONResponse(facade.keys.jwks(), headers={"Cache-Control": "public, max-age=300",
                                                     "Access-Control-Allow-Origin": "*"})
