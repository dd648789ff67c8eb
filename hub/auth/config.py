"""Settings models for the Entra modes: ``auth.entra`` and ``auth.facade`` of ``hub.settings``.

Secrets never live here: the Entra client secret comes from an environment variable or a ``0600`` file named here.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.auth.roles import RoleMapping
from mcpguard.errors import ConfigError

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"

#: Redirect URIs a dynamically registered client may use (RFC 7591 §2 ``redirect_uris``), besides loopback.
CLAUDE_CALLBACKS = ("https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback")


class EntraSettings(BaseModel):
    """``auth.entra``: the Entra tenant(s) and the hub's app registration.

    ``authority`` is the logical authority host (sovereign clouds: ``https://login.microsoftonline.us`` …); issuers,
    MSAL and discovery use it. ``authority_transport_url`` sends that host's traffic elsewhere (a loopback mock in
    tests); every other host is refused. ``required_scopes``: a direct (``entra`` mode) token's ``scp`` must hold one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_ids: list[str] = Field(default_factory=list)
    client_id: str = ""
    app_id_uri: str | None = None
    authority: str = "https://login.microsoftonline.com"
    authority_transport_url: str | None = None
    client_secret_env: str = "MCPGUARD_ENTRA_CLIENT_SECRET"
    client_secret_file: str | None = None
    required_scopes: list[str] = Field(default_factory=lambda: ["mcp.access"])
    roles: RoleMapping = Field(default_factory=RoleMapping)
    leeway_seconds: int = Field(60, ge=0, le=300)
    jwks_ttl_seconds: float = Field(3600.0, gt=0)
    jwks_cooldown_seconds: float = Field(30.0, ge=0)
    http_timeout_seconds: float = Field(5.0, gt=0, le=60)

    def check_complete(self) -> None:
        """Raise :class:`ConfigError` when the Entra modes cannot run with these settings."""
        if not self.tenant_ids:
            raise ConfigError("auth.entra.tenant_ids must list at least one tenant id")
        if not self.client_id:
            raise ConfigError("auth.entra.client_id is required")
        if not self.authority.startswith("https://"):
            raise ConfigError("auth.entra.authority must be an https URL")

    def issuers(self) -> dict[str, str]:
        """Allowed issuer → tenant id: v1 ``https://sts.windows.net/{tid}/`` and v2 ``{authority}/{tid}/v2.0``."""
        base = self.authority.rstrip("/")
        out: dict[str, str] = {}
        for tid in self.tenant_ids:
            out[f"https://sts.windows.net/{tid}/"] = tid
            out[f"{base}/{tid}/v2.0"] = tid
        return out

    def audiences(self) -> set[str]:
        """Accepted ``aud`` values: the app's client id and its App ID URI, whichever are set."""
        return {a for a in (self.client_id, self.app_id_uri) if a}

    def hub_scope(self) -> str:
        """The delegated scope the facade requests from Entra so the Entra token's ``aud`` is the hub (and OBO works)."""
        return f"{self.app_id_uri or 'api://' + self.client_id}/{(self.required_scopes or ['mcp.access'])[0]}"

    def client_secret(self) -> str:
        """The app registration's client secret from ``client_secret_file`` (must be ``0600``) or the env variable."""
        if self.client_secret_file:
            path = Path(self.client_secret_file).expanduser()
            if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise ConfigError(f"{path} is readable by group or others; chmod 600 it")
            value = path.read_text().strip()
        else:
            value = os.environ.get(self.client_secret_env, "").strip()
        if not value:
            raise ConfigError(f"Entra client secret missing: set {self.client_secret_env} or client_secret_file")
        return value


class DcrSettings(BaseModel):
    """RFC 7591 dynamic registration, restricted to allowlisted redirect URIs (exact match) and loopback."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    allowed_redirect_uris: list[str] = Field(default_factory=lambda: list(CLAUDE_CALLBACKS))
    allow_loopback: bool = True


class CimdSettings(BaseModel):
    """Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): fetch limits and SSRF guards.

    ``test_allow_hosts`` lets listed ``host:port`` pairs bypass the https/public-address rules. It exists for the
    loopback test server only and is empty by default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    max_bytes: int = Field(5120, gt=0, le=65536)
    timeout_seconds: float = Field(3.0, gt=0, le=10)
    cache_seconds: float = Field(300.0, ge=0)
    allowed_redirect_uris: list[str] | None = None
    test_allow_hosts: list[str] = Field(default_factory=list)


class FacadeRateLimitSettings(BaseModel):
    """``auth.facade.rate_limits``: request budgets for the unauthenticated OAuth endpoints, in the ``limits``
    library's notation (``"20/minute"``, several joined by ``;``; ``""`` turns one off), over a moving window.

    ``register_per_ip``: ``POST /register`` per client address. ``token_per_ip``: ``POST /token`` per client address;
    ``token_per_ip_client``: per client address and claimed ``client_id`` together (so nobody can spend another
    address's budget for a shared client such as claude.ai's). Counters live in the process (each replica allows the
    full rate). ``trusted_proxy_hops``: how many reverse proxies in front of the hub append to ``X-Forwarded-For``;
    0 (default) uses the TCP peer, N uses the N-th address from the right (the one the outermost trusted proxy saw).
    Set it when behind a proxy, else every client shares the proxy's budget."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    register_per_ip: str = "60/minute;600/hour"
    token_per_ip: str = "600/minute"
    token_per_ip_client: str = "300/minute"
    trusted_proxy_hops: int = Field(0, ge=0, le=10)

    @field_validator("register_per_ip", "token_per_ip", "token_per_ip_client")
    @classmethod
    def _parses(cls, value: str) -> str:
        import limits

        if value.strip():
            limits.parse_many(value)  # ValueError names the string: a limit, not a secret
        return value


class FacadeSettings(BaseModel):
    """``auth.facade``: the hub's own OAuth 2.1 authorization server in front of Entra.

    ``issuer`` is compared byte for byte by clients (RFC 8414 §3.3): no trailing slash unless you mean it.
    ``resource`` is the hub's MCP URL (``aud`` of hub tokens, RFC 8707); default ``{issuer}{prefix}/mcp``.
    Lifetimes are seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = ""
    resource: str | None = None
    scopes: list[str] = Field(default_factory=lambda: ["mcp.access"])
    access_token_ttl: int = Field(600, gt=0, le=3600)
    refresh_token_ttl: int = Field(30 * 86400, gt=0)
    code_ttl: int = Field(60, gt=0, le=600)
    consent_ttl: int = Field(600, gt=0, le=1800)
    key_rotation_days: int = Field(30, gt=0)
    signing_alg: str = Field("ES256", pattern="^(ES256|RS256)$")
    recheck_entra_on_refresh: bool = True
    dcr: DcrSettings = Field(default_factory=DcrSettings)
    cimd: CimdSettings = Field(default_factory=CimdSettings)
    rate_limits: FacadeRateLimitSettings = Field(default_factory=FacadeRateLimitSettings)

    def resource_url(self, prefix: str = "") -> str:
        """The protected resource URL (RFC 8707/RFC 9728): ``resource`` if set, else ``{issuer}{prefix}/mcp``."""
        return self.resource or f"{self.issuer.rstrip('/')}{prefix}/mcp"
