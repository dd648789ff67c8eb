"""The seams between the hub's parts: what the vault, the admin API and the Entra modes plug into.

Who implements what::

    CredentialSource  kind "secret"     hub.vault            (per-user secrets from the encrypted vault)
                      kind "entra_obo"  hub.auth.entra/obo   (on-behalf-of tokens for Entra-protected upstreams)
    Authenticator     mode "dev"        hub.auth.dev         (hub.auth.base defines the protocol and Principal)
                      mode "entra"      hub.auth.entra
                      mode "facade"     hub.auth.facade
    OffboardingHooks                    hub.upstreams.pool   (stop the user's child processes, drop their sessions)
                                        auth modes           (revoke the user's hub tokens)
                                        hub.vault            (delete the user's credentials)
    Revocations                         auth modes           (revoked tokens: the app drops them from its cache)
    ReadinessProbe                      hub.vault (storage reachable, KEK loaded), auth modes (signing keys loaded)
    admin_routes(...)                   hub.admin.routes     (mounted by hub.app under ``{prefix}/v1``)

How they are found (all imports are lazy, in :func:`hub.app.build_app`):

- An auth mode is a module ``hub.auth.<mode>`` with ``build_auth(settings: HubSettings) -> AuthBundle``.
- The vault is ``hub.vault`` with ``build_vault(settings: HubSettings, *, audit) -> Component``; its
  ``extras["vault"]`` is handed to ``admin_routes(vault=...)``; its ``credential_sources`` carry kind ``"secret"``;
  ``extras["users"]``, when present, has ``async admit(principal) -> Principal`` which the app calls after every
  successful authentication (offboarded users are refused there).
- The admin API is ``hub.admin.routes.admin_routes(*, vault, audit, authenticate, hooks, settings, connectors) ->
  Sequence[BaseRoute]``; route paths are relative to ``{prefix}/v1`` (e.g. ``/me/credentials``, ``/openapi.json``).
  ``audit`` is the pipeline's hash-chained :class:`mcpguard.audit.AuditLog` (one chain for frames and admin actions),
  ``hooks`` runs every :class:`OffboardingHooks` (the pool's, the components', the app's caches).

Inside a route, ``await authenticate(request)`` returns the verified :class:`~hub.auth.base.Principal` or raises an
:class:`~hub.auth.base.AuthError`; let it propagate: the app's exception handler turns it into the 401/403 JSON body
with ``WWW-Authenticate: Bearer resource_metadata="…"`` (RFC 6750 §3, RFC 9728 §5.1) and logs the reason.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.auth.base import Authenticator, Principal
from hub.auth.revocations import Revocations

if TYPE_CHECKING:  # starlette is only needed by the app; keep this module cheap to import
    from starlette.requests import Request
    from starlette.routing import BaseRoute

CredentialKind = Literal["secret", "entra_obo"]
#: Environment variable and HTTP header names we are willing to inject into.
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")
#: Headers a credential may never be injected as (hop-by-hop or framing headers, and the MCP session/version ones).
FORBIDDEN_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "mcp-session-id", "mcp-protocol-version",
     "mcp-method", "mcp-name", "cookie"}
)


class CredentialInject(BaseModel):
    """Where a credential goes at the last hop: ``env`` (a stdio child's environment variable) or ``header`` (an HTTP
    upstream's request header) whose value is ``template`` with ``{value}`` replaced (e.g. ``"Bearer {value}"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = None
    header: str | None = None
    template: str = "{value}"

    @model_validator(mode="after")
    def _one_target(self) -> CredentialInject:
        if (self.env is None) == (self.header is None):
            raise ValueError("inject needs exactly one of env or header")
        if self.env is not None and not _ENV_NAME.match(self.env):
            raise ValueError("inject.env is not a valid environment variable name")
        if self.header is not None and (
            not _HEADER_NAME.match(self.header) or self.header.lower() in FORBIDDEN_HEADERS
        ):
            raise ValueError("inject.header is not an allowed header name")
        if self.template.count("{value}") != 1 or any(c in self.template for c in "\r\n\0"):
            raise ValueError("inject.template must contain {value} exactly once and no control characters")
        return self

    def render(self, value: str) -> str:
        """The injected string for ``value`` (plain replace: a ``{`` inside the value is not a format field)."""
        return self.template.replace("{value}", value)


class CredentialSpec(BaseModel):
    """One credential a connector needs, from ``credentials:`` in ``connectors/<name>/manifest.yaml``.

    ``name`` is the vault key (``/v1/me/credentials/{connector}/{name}``); ``kind`` picks the
    :class:`CredentialSource` (``secret``: stored by the user in the vault; ``entra_obo``: an Entra on-behalf-of token
    for ``scopes``). ``required``: a user without it cannot use the connector (its tools are hidden from that user and a
    call says which credential is missing); optional credentials are injected when present."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    description: str = ""
    kind: CredentialKind = "secret"
    scopes: tuple[str, ...] = ()
    inject: CredentialInject
    required: bool = True

    @model_validator(mode="after")
    def _scopes_for_obo(self) -> CredentialSpec:
        if self.kind == "entra_obo" and not self.scopes:
            raise ValueError("an entra_obo credential needs scopes")
        return self


@runtime_checkable
class CredentialSource(Protocol):
    """Resolves one user's value for one connector credential. Returns None when the user has none (not an error:
    the caller decides from ``credential.required``). Raises :class:`mcpguard.errors.MCPGuardError` subclasses
    (e.g. ``CryptoError`` on a tampered record) to fail closed; messages never hold the value."""

    async def resolve(self, principal: Principal, connector: str, credential: CredentialSpec) -> str | None:
        """The user's value for ``credential`` of ``connector``, or None if they have none."""


@runtime_checkable
class OffboardingHooks(Protocol):
    """Called by ``DELETE /v1/users/{user}`` after the user's credentials are deleted. Must be idempotent."""

    async def on_user_deleted(self, user_id: str) -> None:
        """Drop everything held for ``user_id``; idempotent."""


@runtime_checkable
class ReadinessProbe(Protocol):
    """One check behind ``/ready`` and the start-up probe. ``name`` appears in the ``/ready`` body; ``check`` raises
    (any exception) when not ready. Must be cheap (it runs on every ``/ready``) and never put secrets in messages."""

    name: str

    async def check(self) -> None:
        """Return if ready; raise (any exception, secret-free message) if not."""


#: ``await authenticate(request)`` → verified principal, or raises :class:`hub.auth.base.AuthError`.
Authenticate = Callable[["Request"], Awaitable[Principal]]


@dataclass(frozen=True, slots=True)
class ResourceMetadata:
    """What the RFC 9728 protected-resource metadata says beyond ``resource`` (the hub fills that in per path):
    ``authorization_servers`` (issuer URLs; dev mode: the hub itself), ``scopes_supported``, and any ``extra``
    members (e.g. ``resource_name``)."""

    authorization_servers: tuple[str, ...] = ()
    scopes_supported: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Component:
    """What a pluggable part contributes to the app.

    ``routes`` are mounted at the root as given (they include ``settings.server.prefix`` themselves where it applies,
    e.g. the facade's ``/.well-known/oauth-authorization-server{prefix}``); ``credential_sources`` maps a
    :data:`CredentialKind` to its source; ``lifespan`` (an async context manager factory) is entered at start-up
    before the readiness probe and left at shutdown; ``extras`` carries objects other parts need (``"vault"``);
    ``revocations`` (auth modes) is where the mode announces revoked tokens, and the app subscribes its
    verified-token cache to it (:mod:`hub.auth.revocations`)."""

    name: str
    routes: Sequence[BaseRoute] = ()
    credential_sources: Mapping[str, CredentialSource] = field(default_factory=dict)
    probes: Sequence[ReadinessProbe] = ()
    offboarding: Sequence[OffboardingHooks] = ()
    lifespan: Callable[[], AbstractAsyncContextManager[Any]] | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)
    revocations: Revocations | None = None
    #: The component's routes carry admin actions; the app refuses to start without an audit log for them.
    admin_actions: bool = False


@dataclass(frozen=True, slots=True)
class AuthBundle:
    """What ``hub.auth.<mode>.build_auth(settings)`` returns: the :class:`Authenticator`, the RFC 9728 metadata
    content, and a :class:`Component` with the mode's own routes (OAuth endpoints, JWKS), credential sources
    (``entra_obo``), probes (signing keys loaded) and offboarding (revoke hub tokens)."""

    authenticator: Authenticator
    resource_metadata: ResourceMetadata
    component: Component = field(default_factory=lambda: Component(name="auth"))


class AdminRoutesFactory(Protocol):
    """The shape of ``hub.admin.routes.admin_routes``."""

    def __call__(
        self, *, vault: Any, audit: Any, authenticate: Authenticate, hooks: OffboardingHooks, settings: Any
    ) -> Sequence[BaseRoute]: ...


__all__ = [
    "AdminRoutesFactory",
    "AuthBundle",
    "Authenticate",
    "Component",
    "CredentialInject",
    "CredentialKind",
    "CredentialSource",
    "CredentialSpec",
    "FORBIDDEN_HEADERS",
    "OffboardingHooks",
    "ReadinessProbe",
    "ResourceMetadata",
]
