"""Connector manifests: ``connectors/<name>/manifest.yaml``.

The connector-package format of seed ``000`` (``name``, ``version``, ``scopes``, ``egress``, ``rate``) extended for
MCP upstreams. Reference (every key; unknown keys are errors)::

    name: everything                 # ^[a-z0-9]+(-[a-z0-9]+)*$, ≤ 32 chars; the tool namespace ("everything__echo")
    version: 2026.1.0
    description: MCP reference server with test tools
    transport:
      type: stdio                    # or http
      command: npx                   # stdio: argv[0] when `bin` is not found
      args: ["-y", "@modelcontextprotocol/server-everything"]
      bin: mcp-server-everything     # optional: an installed executable tried first (connectors.search_path, the
      bin_args: []                   #   hub's own environment, then PATH), run with bin_args instead of args
      env: {}                        # fixed environment for the child (values from the manifest, never secrets)
      cwd: null                      # "{user_dir}" etc. allowed
      url: https://host/mcp          # http only
      protocol: auto                 # auto | legacy | 2026-07-28: how the hub talks to the upstream
    isolation: auto                  # auto (per user when credentials are declared) | user | shared
    network: false                   # true when the upstream needs the internet (not enabled by default)
    credentials:
      - name: GITHUB_TOKEN
        description: A fine-grained personal access token
        kind: secret                 # secret (vault) | entra_obo (with scopes)
        inject: {header: Authorization, template: "Bearer {value}"}   # or {env: GITHUB_TOKEN}
        required: true
    tools: {allow: ["*"], deny: ["delete_*"]}        # fnmatch patterns on the upstream's tool names; deny wins
    scopes: ["repo:read"]            # informational: what the connector can do, shown by GET /v1/connectors
    egress: ["https://api.githubcopilot.com/"]       # http: URL prefixes the upstream URL must start with
    rate: {burst: "10/second", sustained: "600/minute"}   # per user; `limits` notation ("N/second|minute|hour|day")

Placeholders in ``args``, ``bin_args``, ``env`` values and ``cwd``: ``{data_dir}`` (the hub's data directory),
``{user_dir}`` (``{data_dir}/users/<user ref>/<connector>``, created ``0700``; forces per-user isolation) and
``{connector}``. Nothing else is substituted; no shell is involved.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hub.seams import CredentialSpec
from mcpguard.errors import ConfigError

CONNECTOR_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
PLACEHOLDERS = frozenset({"data_dir", "user_dir", "connector"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_placeholders(text: str) -> str:
    for name in _PLACEHOLDER.findall(text):
        if name not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder {{{name}}}; allowed: {', '.join(sorted(PLACEHOLDERS))}")
    return text


class Transport(_Model):
    """``transport:``; see the module docstring."""

    type: Literal["stdio", "http"]
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    bin: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.@+-]{1,128}$")
    bin_args: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    protocol: Literal["auto", "legacy", "2026-07-28"] = "auto"

    @field_validator("args", "bin_args")
    @classmethod
    def _args(cls, v: list[str] | None) -> list[str] | None:
        for a in v or []:
            _check_placeholders(a)
        return v

    @model_validator(mode="after")
    def _shape(self) -> Transport:
        if self.type == "stdio":
            if not (self.command or self.bin):
                raise ValueError("a stdio transport needs command or bin")
            if self.url:
                raise ValueError("url is for http transports")
        else:
            if not self.url or not self.url.startswith(("http://", "https://")):
                raise ValueError("an http transport needs an http(s) url")
            if self.command or self.bin or self.args or self.env or self.cwd:
                raise ValueError("command/bin/args/env/cwd are for stdio transports")
        for v in self.env.values():
            _check_placeholders(v)
        if self.cwd:
            _check_placeholders(self.cwd)
        return self


class ToolFilter(_Model):
    """``tools:``: fnmatch patterns over the upstream's own tool names; ``deny`` wins over ``allow``."""

    allow: list[str] = Field(default_factory=lambda: ["*"])
    deny: list[str] = Field(default_factory=list)

    def permits(self, tool: str) -> bool:
        """True if ``tool`` matches an ``allow`` glob and no ``deny`` glob (fnmatch, case-sensitive; deny wins)."""
        if any(fnmatch.fnmatchcase(tool, p) for p in self.deny):
            return False
        return any(fnmatch.fnmatchcase(tool, p) for p in self.allow)


class Rate(_Model):
    """``rate:``: per-user limits in ``limits`` notation; both must admit a call."""

    burst: str | None = None
    sustained: str | None = None

    @field_validator("burst", "sustained")
    @classmethod
    def _parse(cls, v: str | None) -> str | None:
        if v is None:
            return v
        import limits

        # The seed writes "10/min" and "100/h"; accept those spellings too.
        v = re.sub(r"/(min)$", "/minute", v.strip())
        v = re.sub(r"/(h|hr)$", "/hour", v)
        v = re.sub(r"/(s|sec)$", "/second", v)
        try:
            limits.parse(v)
        except ValueError:
            raise ValueError("rate must look like 10/second, 100/minute, 1000/hour") from None
        return v


class Manifest(_Model):
    """One connector. ``source`` is the directory it was read from (set by :func:`load_manifest`)."""

    name: str = Field(max_length=32)
    version: str = "0"
    description: str = ""
    transport: Transport
    isolation: Literal["auto", "user", "shared"] = "auto"
    network: bool = False
    credentials: list[CredentialSpec] = Field(default_factory=list)
    tools: ToolFilter = ToolFilter()
    scopes: list[str] = Field(default_factory=list)
    egress: list[str] = Field(default_factory=list)
    rate: Rate = Rate()
    source: str | None = Field(default=None, exclude=True)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not CONNECTOR_NAME.match(v):
            raise ValueError("connector name must be lowercase letters/digits separated by single hyphens")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        names = [c.name for c in self.credentials]
        if len(names) != len(set(names)):
            raise ValueError("duplicate credential name")
        for c in self.credentials:
            if self.transport.type == "stdio" and c.inject.env is None:
                raise ValueError(f"credential {c.name}: a stdio connector injects credentials as env")
            if self.transport.type == "http" and c.inject.header is None:
                raise ValueError(f"credential {c.name}: an http connector injects credentials as a header")
        if self.transport.type == "http":
            if not self.egress:
                raise ValueError("an http connector needs an egress list")
            if not egress_allows(self.egress, self.transport.url or ""):
                raise ValueError("transport.url is outside egress")
        return self

    @property
    def per_user(self) -> bool:
        """True when each user gets their own upstream instance."""
        if self.isolation != "auto":
            return self.isolation == "user"
        uses_user_dir = any("{user_dir}" in a for a in [*self.transport.args, *(self.transport.bin_args or []),
                                                        *self.transport.env.values(), self.transport.cwd or ""])
        return bool(self.credentials) or uses_user_dir or self.transport.type == "http"

    @property
    def needs_credentials(self) -> bool:
        """True if any declared credential is required."""
        return any(c.required for c in self.credentials)


def egress_allows(prefixes: list[str], url: str) -> bool:
    """True when ``url`` starts with one of ``prefixes`` at a boundary (a prefix ``https://a.example`` does not admit
    ``https://a.example.evil``): the prefix ends in ``/`` or the next character of ``url`` is ``/``, ``?`` or end."""
    for p in prefixes:
        if url == p:
            return True
        if url.startswith(p) and (p.endswith("/") or url[len(p)] in "/?"):
            return True
    return False


def load_manifest(path: Path) -> Manifest:
    """Parse one ``manifest.yaml``; raises :class:`ConfigError` naming the file and key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read connector manifest {path}: {exc.strerror}") from None
    except yaml.YAMLError:
        raise ConfigError(f"connector manifest {path} is not valid YAML") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"connector manifest {path} must be a mapping")
    try:
        m = Manifest.model_validate({**raw, "source": str(path.parent)})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors(include_input=False)
        )
        raise ConfigError(f"invalid connector manifest {path}: {problems}") from None
    if m.name != path.parent.name:
        raise ConfigError(f"connector manifest {path}: name {m.name!r} differs from its directory")
    return m


def load_dir(directory: Path) -> dict[str, Manifest]:
    """Every ``<name>/manifest.yaml`` under ``directory`` (missing directory → empty)."""
    out: dict[str, Manifest] = {}
    if not directory.is_dir():
        return out
    for p in sorted(directory.glob("*/manifest.yaml")):
        m = load_manifest(p)
        out[m.name] = m
    return out


__all__ = ["Manifest", "Rate", "ToolFilter", "Transport", "egress_allows", "load_dir", "load_manifest"]
