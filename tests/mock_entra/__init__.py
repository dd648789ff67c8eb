"""A loopback mock of Microsoft Entra ID for tests (no network).

It answers as ``https://login.microsoftonline.com`` would, for the paths the hub and MSAL use: OIDC discovery, JWKS,
``/oauth2/v2.0/authorize`` (PKCE S256; a ``login_hint`` naming a known user auto-approves, so tests need no browser),
and ``/oauth2/v2.0/token`` (authorization code, refresh token, OBO ``jwt-bearer`` with
``requested_token_use=on_behalf_of``). Tokens come in the v1 and v2 shapes. Users can be disabled (their refresh and
OBO grants then fail with AADSTS50057). The hub reaches it through a host map (``hub.auth.entra_http``), so issuers
and URLs keep the real host.
"""

from .entra import (
    GRAPH_APP_ID,
    HUB_APP_ID_URI,
    HUB_CLIENT_ID,
    HUB_CLIENT_SECRET,
    DOWNSTREAM_CLIENT_ID,
    OTHER_TENANT,
    TENANT,
    MockEntra,
    MockUser,
)
from .server import serve

__all__ = [
    "GRAPH_APP_ID",
    "HUB_APP_ID_URI",
    "HUB_CLIENT_ID",
    "HUB_CLIENT_SECRET",
    "DOWNSTREAM_CLIENT_ID",
    "OTHER_TENANT",
    "TENANT",
    "MockEntra",
    "MockUser",
    "serve",
]
