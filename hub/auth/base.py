"""The hub's authentication seam.

Every request on the MCP route and the admin API passes through one :class:`Authenticator`, chosen by
``auth.mode`` in the hub settings (``dev``: the hub's own locally signed JWTs; ``entra``: Entra ID access tokens
validated directly; ``facade``: the hub's own OAuth 2.1 authorization server in front of Entra). The rest of the hub
sees only the :class:`Principal` it returns, so a new mode plugs in without touching routes, upstreams or the vault.

Failures raise :class:`AuthError` subclasses carrying a stable ``code`` (the JSON body's ``error.code``) and a
``reason`` (``error.context.reason``) that says exactly what was wrong; the HTTP layer turns them into
``401`` + ``WWW-Authenticate: Bearer resource_metadata="…"`` (or ``403`` for :class:`Forbidden`). Messages never hold the
token itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from mcpguard.errors import MCPGuardError

Role = Literal["admin", "manager", "user", "viewer"]
#: Roles from most to least privileged.
ROLES: tuple[Role, ...] = ("admin", "manager", "user", "viewer")


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified caller.

    ``user_id`` is the stable key for all per-user state (sessions, child processes, vault rows, token scopes):
    ``tid:oid`` for Entra identities, the e-mail for dev tokens. ``email`` is lowercased and for display and mapping
    only. ``tenant`` is the Entra tenant id (``"dev"`` in dev mode). ``token_id`` is the ``jti`` of the hub token, when
    the hub issued it, so it can be revoked. ``scopes`` are the granted OAuth scopes.
    """

    user_id: str
    email: str
    tenant: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    token_id: str | None = None
    expires_at: float | None = None

    def has_role(self, role: Role) -> bool:
        """True when the principal holds ``role`` or a more privileged one (admin ⊃ manager ⊃ user ⊃ viewer)."""
        want = ROLES.index(role)
        return any(ROLES.index(r) <= want for r in self.roles)


class AuthError(MCPGuardError):
    """Authentication failed: HTTP 401. ``code`` is one of ``MISSING_TOKEN``, ``INVALID_TOKEN``,
    ``USER_NOT_PROVISIONED``, ``UNAUTHORIZED``; ``reason`` a short machine string such as ``missing_token``,
    ``bad_signature``, ``expired``, ``not_yet_valid``, ``wrong_audience``, ``wrong_issuer``, ``unknown_kid``,
    ``alg_not_allowed``, ``tenant_not_allowed``, ``graph_audience``, ``missing_claim``, ``revoked``, ``unknown_user``,
    ``token_in_query``."""

    code: str = "INVALID_TOKEN"
    reason = "invalid_token"
    status = 401
    jsonrpc_code = -32001

    def __init__(self, message: str, *, reason: str | None = None, code: str | None = None) -> None:
        super().__init__(message, reason=reason)
        if code is not None:
            self.code = code


class MissingToken(AuthError):
    """No bearer token on a request that needs one."""

    code = "MISSING_TOKEN"
    reason = "missing_token"


class InvalidToken(AuthError):
    """A bearer token that does not verify (signature, expiry, audience, issuer, claims …)."""

    code = "INVALID_TOKEN"
    reason = "invalid_token"


class UserNotProvisioned(AuthError):
    """A valid token for a user the hub does not know or has offboarded."""

    code = "USER_NOT_PROVISIONED"
    reason = "unknown_user"


class Forbidden(AuthError):
    """Authenticated but not allowed (role or scope): HTTP 403."""

    code = "UNAUTHORIZED"
    reason = "insufficient_role"
    status = 403


@runtime_checkable
class Authenticator(Protocol):
    """Verifies a bearer token. Implementations: ``hub.auth.dev.DevAuthenticator``, ``hub.auth.entra.EntraAuthenticator``,
    ``hub.auth.facade`` (tokens minted by the hub's own authorization server)."""

    async def authenticate(self, token: str) -> Principal:
        """Return the verified :class:`Principal` for ``token`` or raise an :class:`AuthError` subclass."""
        ...
