"""The hub's settings (``hub.toml``), parsed once by :func:`load_settings` and passed down; no globals.

Every model is frozen and forbids unknown keys, so a typo fails closed with a :class:`mcpguard.errors.ConfigError`
naming the key (never the value). Key material never lives here: only paths to key files and names of environment
variables.

Sections (owner in brackets)::

    [server]      host, port, public_url, prefix, allowed_hosts, allowed_origins, drain   (hub.app)
    [auth]        mode = "dev" | "entra" | "facade"; [auth.dev], [auth.entra], [auth.facade]
    [storage]     database_url, data_dir                                                   (hub.vault)
    [vault]       KEK provider settings                                                    (hub.vault)
    [connectors]  dirs, enabled, bundled, [connectors.overrides.<name>]                   (hub.upstreams)
    [limits]      child-process caps, idle timeouts, call timeout                          (hub.upstreams)
    [policy]      path to an mcpguard.toml for the pipeline, or inline tables              (mcpguard.runtime)
    [audit]       path of the hash-chained audit log
    [log]         level

With no file at all the defaults describe the embedded dev hub: dev auth on 127.0.0.1:8080, SQLite under
``~/.local/share/mcpguard/hub`` and the bundled connectors that need no network.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hub.auth.config import EntraSettings, FacadeSettings
from mcpguard.config import describe_validation_error, find_config_file, read_toml
from mcpguard.errors import ConfigError

#: Environment variable naming a hub config file (an explicit ``--config`` wins).
CONFIG_ENV = "MCPGUARD_HUB_CONFIG"
#: Where :func:`load_settings` looks when no path is given, in order.
DEFAULT_CONFIG_PATHS = ("hub.toml", "~/.config/mcpguard/hub.toml")
DEFAULT_DATA_DIR = "~/.local/share/mcpguard/hub"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Model):
    """``[server]``. ``prefix`` is the path prefix every route lives under (``""`` or ``/team-a``; reverse proxies do
    not strip it). ``public_url`` is the externally visible origin (scheme://host[:port], no path) used in RFC 9728
    metadata and token audiences; default ``http://{host}:{port}``. ``allowed_hosts``/``allowed_origins`` extend the
    DNS-rebinding allowlist, which always holds the loopback names and ``public_url``'s host; entries may end in
    ``:*`` for any port. ``drain_seconds`` bounds graceful shutdown on SIGTERM."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = None
    prefix: str = ""
    allowed_hosts: list[str] = Field(default_factory=list)
    allowed_origins: list[str] = Field(default_factory=list)
    dns_rebinding_protection: bool = True
    drain_seconds: float = Field(default=10.0, ge=0.0, le=600.0)
    #: Largest accepted request body on the MCP route, bytes.
    max_request_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    #: Legacy-era (2025-11-25) sessions: cap and idle expiry (seconds).
    max_sessions: int = Field(default=10_000, ge=1)
    session_idle_seconds: float = Field(default=1800.0, ge=10.0)
    #: Worker threads that run the mcpguard pipeline on frames too big to protect on the event loop (at most this
    #: many frames are being protected at once; more wait their turn). The GIL still shares one core between them:
    #: more threads add queueing fairness, not throughput, except where detection releases the GIL (Hyperscan).
    detect_threads: int = Field(default=2, ge=1, le=64)

    @field_validator("prefix")
    @classmethod
    def _prefix_shape(cls, v: str) -> str:
        v = v.rstrip("/")
        if v and (not v.startswith("/") or "//" in v or any(c in v for c in "?#% ")):
            raise ValueError("prefix must be empty or a path like /team-a")
        return v

    @field_validator("public_url")
    @classmethod
    def _public_url_shape(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError("public_url must be scheme://host[:port] without a path (use prefix for the path)")
        return v.rstrip("/")

    @property
    def base_url(self) -> str:
        """The external origin, without a trailing slash."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def mcp_url(self) -> str:
        """The MCP endpoint's full URL: what clients add, the RFC 9728 ``resource`` and the dev tokens' audience."""
        return f"{self.base_url}{self.prefix}/mcp"


class DevAuthSettings(_Model):
    """``[auth.dev]``: the hub signs its own ES256 JWTs with a local P-256 key (``key_file``, default
    ``{data_dir}/dev-signing-key.pem``, created ``0600``). ``users``: when set, only these user ids are known (any
    other gets ``unknown_user``)."""

    key_file: str | None = None
    token_ttl_seconds: int = Field(default=3600, ge=30, le=86400)
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    users: list[str] | None = None


class AuthSettings(_Model):
    """``[auth]``. ``entra`` and ``facade`` are the Entra modes' own models (:mod:`hub.auth.config`), validated at
    load time so a typo in ``[auth.entra]`` fails before start-up, naming the key."""

    mode: Literal["dev", "entra", "facade"] = "dev"
    dev: DevAuthSettings = DevAuthSettings()
    entra: EntraSettings | None = None
    facade: FacadeSettings | None = None


class StorageSettings(_Model):
    """``[storage]``: ``database_url`` (SQLAlchemy URL; default ``sqlite:///{data_dir}/hub.sqlite3``) and the data
    directory holding keys and local state (created ``0700``)."""

    database_url: str | None = None
    data_dir: str = DEFAULT_DATA_DIR

    @property
    def data_path(self) -> Path:
        """``data_dir`` with ``~`` expanded."""
        return Path(self.data_dir).expanduser()

    @property
    def url(self) -> str:
        """SQLAlchemy database URL: ``database_url`` or ``sqlite:///{data_dir}/hub.sqlite3``."""
        return self.database_url or f"sqlite:///{self.data_path / 'hub.sqlite3'}"


class ConnectorOverride(_Model):
    """``[connectors.overrides.<name>]``: per-deployment changes to a manifest. ``command`` replaces the stdio argv's
    first element (e.g. an absolute path instead of ``npx``), ``args`` the rest; ``env`` is merged; ``url`` replaces
    an http upstream's URL (still subject to the manifest's ``egress``)."""

    enabled: bool | None = None
    command: str | None = None
    args: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    tools_allow: list[str] | None = None
    tools_deny: list[str] | None = None


class ConnectorsSettings(_Model):
    """``[connectors]``: manifests are read from the bundled ``connectors/`` directory (unless ``bundled = false``)
    and from ``dirs``; later dirs win on a name clash. ``enabled``: connector names to serve (None = every bundled
    connector that needs no network and no credential, plus every connector from ``dirs``)."""

    bundled: bool = True
    dirs: list[str] = Field(default_factory=list)
    #: Directories searched for a manifest's ``transport.bin`` before the hub's own environment and PATH (e.g. a
    #: ``node_modules/.bin`` holding pinned npm servers, so ``npx -y`` need not reach the registry).
    search_path: list[str] = Field(default_factory=list)
    enabled: list[str] | None = None
    overrides: dict[str, ConnectorOverride] = Field(default_factory=dict)
    #: When true, a user sees and calls only the connectors granted to them or to one of their roles (the
    #: ``hub_grants`` table of :mod:`hub.users`); when false (default) every enabled connector is open to every
    #: authenticated user.
    require_grants: bool = False


class LimitsSettings(_Model):
    """``[limits]``: per-user upstream instances. Counts are processes/sessions; times are seconds."""

    max_children_per_user: int = Field(default=8, ge=1)
    max_children_total: int = Field(default=64, ge=1)
    idle_seconds: float = Field(default=300.0, ge=1.0)
    call_timeout_seconds: float = Field(default=120.0, ge=1.0)
    connect_timeout_seconds: float = Field(default=30.0, ge=1.0)
    #: How often a running per-user instance re-reads its user's credentials (a changed or deleted one restarts it).
    credential_recheck_seconds: float = Field(default=30.0, ge=0.0)
    #: After a failed start, calls to that (user, connector) fail fast for this long instead of re-spawning.
    start_backoff_seconds: float = Field(default=30.0, ge=0.0)
    #: Upstream listings are cached per instance until the upstream says list_changed, and at most this long.
    list_cache_seconds: float = Field(default=60.0, ge=0.0)
    #: A listing (tools/list …) waits at most this long for each upstream; a slower one is left out of that page.
    list_timeout_seconds: float = Field(default=10.0, ge=0.1)


class PolicySettings(_Model):
    """``[policy]``: the mcpguard pipeline config, from ``path`` (an ``mcpguard.toml``) or ``inline`` (the same tables
    inline); neither means mcpguard's defaults."""

    path: str | None = None
    inline: dict[str, Any] | None = None


class AuditSettings(_Model):
    """``[audit]``: hash-chained JSONL audit log (default ``{data_dir}/audit.jsonl``; ``""`` disables)."""

    path: str | None = None


class LogSettings(_Model):
    """``[log]``: minimum level of the hub's JSON logs."""
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class HubSettings(_Model):
    """The whole ``hub.toml``."""

    server: ServerSettings = ServerSettings()
    auth: AuthSettings = AuthSettings()
    storage: StorageSettings = StorageSettings()
    #: KEK provider settings; validated by ``hub.vault`` with its own model (``hub.vault.settings.VaultSettings``).
    vault: dict[str, Any] = Field(default_factory=dict)

    @field_validator("vault")
    @classmethod
    def _vault_shape(cls, v: dict[str, Any]) -> dict[str, Any]:
        # Checked at load time so a typo in [vault] fails like any other key; the vault's model owns the shape.
        from hub.vault.settings import VaultSettings

        try:
            VaultSettings.model_validate(v)
        except ValidationError as exc:
            raise ValueError("; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_input=False)
            )) from None
        return v

    connectors: ConnectorsSettings = ConnectorsSettings()
    limits: LimitsSettings = LimitsSettings()
    policy: PolicySettings = PolicySettings()
    audit: AuditSettings = AuditSettings()
    log: LogSettings = LogSettings()

    @property
    def audit_path(self) -> Path | None:
        """Audit log file: ``audit.path`` (``~`` expanded), ``{data_dir}/audit.jsonl`` if unset, None if set to
        ``""``."""
        if self.audit.path == "":
            return None
        return Path(self.audit.path).expanduser() if self.audit.path else self.storage.data_path / "audit.jsonl"


def load_settings(path: str | os.PathLike[str] | None = None) -> HubSettings:
    """Load ``hub.toml``. ``path`` None: ``$MCPGUARD_HUB_CONFIG``, else the first of :data:`DEFAULT_CONFIG_PATHS`
    that exists, else the built-in defaults (the embedded dev hub). Raises :class:`ConfigError` for an unreadable file,
    invalid TOML, unknown keys or bad values."""
    p = find_config_file(path, env_var=CONFIG_ENV, defaults=DEFAULT_CONFIG_PATHS)
    if p is None:
        return HubSettings()
    raw = read_toml(p, what="hub config")
    return parse_settings(raw, source=str(p))


def parse_settings(raw: dict[str, Any], *, source: str = "<hub config>") -> HubSettings:
    """Validate a mapping into :class:`HubSettings`; raises :class:`ConfigError` naming each bad key."""
    try:
        return HubSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"invalid hub config {source}: {describe_validation_error(exc)}") from None


__all__ = [
    "AuditSettings",
    "AuthSettings",
    "ConnectorOverride",
    "ConnectorsSettings",
    "DevAuthSettings",
    "HubSettings",
    "LimitsSettings",
    "LogSettings",
    "PolicySettings",
    "ServerSettings",
    "StorageSettings",
    "load_settings",
    "parse_settings",
]
