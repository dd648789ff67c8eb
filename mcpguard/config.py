"""Configuration models for the pipeline and the stdio wrapper (``mcpguard.toml``).

Parsed once by :func:`load_config` and passed down; there are no globals. Every model is frozen and forbids unknown
keys, so a typo fails closed with a :class:`mcpguard.errors.ConfigError` naming the key. Key material never comes from
argv: keys are read from files or from environment variables whose *names* the config gives.

Sections (each owned by the module named beside it):

- ``mode``                       ``enforce`` (default) or ``report-only``           (pipeline)
- ``[detection]``                confidence thresholds, numbers, custom rules       (detect.engine)
- ``[policy]``                   actions per type/category and direction, allowlist (policy)
- ``[keys]``                     where the token, encryption and audit keys live    (crypto)
- ``[tokens]``                   reversible token store and lifetime                (tokens)
- ``[audit]``                    hash-chained JSONL audit log                       (audit)
- ``[wrap]``                     framing limits, stderr mode, child environment     (wrap)
- ``[tools]``                    tool pinning and tool-description scanning         (toolguard)
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mcpguard.errors import ConfigError
from mcpguard.types import Action, Direction

ActionName = Literal["allow", "redact", "mask", "tokenize", "encrypt", "block"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CustomRule(_Model):
    """A user-defined regex rule. ``pattern`` is screened for catastrophic backtracking before it is compiled."""

    id: str = Field(pattern=r"^[a-z0-9_.-]{1,64}$")
    type: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    pattern: str = Field(max_length=1000)
    confidence: float = Field(default=0.9, ge=0.0, le=1.0)
    category: Literal["secret", "pii", "infra", "custom"] = "custom"


class DetectionConfig(_Model):
    """``[detection]``: what the engine looks for and how sure it must be."""

    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    min_confidence_by_type: dict[str, float] = Field(default_factory=dict)
    #: Bare JSON numbers are scanned only in server→client results when true (a number can be a phone or card).
    scan_numbers: bool = False
    #: Types to switch off entirely.
    disabled_types: list[str] = Field(default_factory=list)
    #: Treat well-known documentation placeholders (AKIAIOSFODNN7EXAMPLE, 4242 4242 4242 4242) as findings.
    flag_placeholders: bool = False
    #: Korean RRN / phone / ID regions for phone parsing of numbers without a country code.
    default_region: str = "KR"
    custom_rules: list[CustomRule] = Field(default_factory=list)
    #: Prefer hyperscan when installed; false forces the pure-Python path.
    use_hyperscan: bool = True
    #: Characters of a chunked stream (stderr lines, progress notifications) carried into the next chunk's scan, so
    #: a value split across chunks is still found (see mcpguard.detect.stream). Values longer than this split across
    #: chunks are not guaranteed.
    stream_window: int = Field(default=2048, ge=64, le=1 << 20)


class DirectionPolicy(_Model):
    """Actions per category for one direction; ``types`` overrides per detected type."""

    secret: ActionName = "redact"
    pii: ActionName = "tokenize"
    infra: ActionName = "tokenize"
    custom: ActionName = "redact"
    types: dict[str, ActionName] = Field(default_factory=dict)


class AllowEntry(_Model):
    """An allowlist entry: an exact ``value`` (compared after NFKC folding) and/or a JSON ``path`` (RFC 6901 pointer,
    ``*`` matches one segment), optionally limited to ``types``. Never suppresses ``policy.hard_block`` types."""

    value: str | None = None
    path: str | None = None
    types: list[str] = Field(default_factory=list)


class PolicyConfig(_Model):
    """``[policy]``: per-direction actions, hard-block types and the allowlist."""

    client_to_server: DirectionPolicy = DirectionPolicy(secret="block", pii="allow", infra="allow", custom="redact")
    server_to_client: DirectionPolicy = DirectionPolicy()
    #: Types that are always blocked in both directions; the allowlist cannot suppress them.
    hard_block: list[str] = Field(default_factory=lambda: ["private_key"])
    allowlist: list[AllowEntry] = Field(default_factory=list)
    #: ``mask`` keeps this many trailing characters (at most a quarter of the value).
    mask_keep: int = Field(default=4, ge=0, le=8)

    def for_direction(self, direction: Direction) -> DirectionPolicy:
        """The :class:`DirectionPolicy` for ``direction``."""
        return self.client_to_server if direction is Direction.CLIENT_TO_SERVER else self.server_to_client


class KeysConfig(_Model):
    """``[keys]``: the key provider. ``file`` keeps a 32-byte key file created ``0600`` under ``dir``; ``env`` reads
    base64 keys from the environment variables named here (the names, never the values, live in the config)."""

    provider: Literal["file", "env"] = "file"
    dir: str = "~/.local/share/mcpguard/keys"
    env_prefix: str = "MCPGUARD_KEY_"
    #: Name of the key the ``encrypt`` action uses; it is written into each envelope as the key id, so a new name
    #: rotates the key while old envelopes stay openable with the old one.
    encrypt_key: str = Field(default="encrypt", pattern=r"^[a-z0-9_-]{1,64}$")


class TokensConfig(_Model):
    """``[tokens]``: reversible tokenization. ``store = "memory"`` lives as long as the wrapper; ``"sqlite"`` persists
    encrypted mappings in ``path`` so tokens survive restarts."""

    store: Literal["memory", "sqlite"] = "memory"
    path: str = "~/.local/share/mcpguard/tokens.sqlite3"
    ttl_seconds: int = Field(default=86400, ge=60)
    #: Restore tokens issued by one server in requests to another server (off: a token is only restored toward the
    #: server that issued it).
    share_across_servers: bool = False
    #: Allow ``mcpguard tokens reveal`` (local development only; every reveal is audited).
    allow_reveal: bool = False


class AuditConfig(_Model):
    """``[audit]``: the hash-chained JSONL log. ``path = ""`` disables auditing (then ``fail_closed`` is moot)."""

    path: str = "~/.local/share/mcpguard/audit.jsonl"
    anchor_path: str | None = None
    #: Refuse frames when the audit record cannot be written.
    fail_closed: bool = True
    #: Record frames without findings too (default: only frames with detections or actions).
    record_clean: bool = False
    #: fsync the log (and anchor) after every record: survives power loss, costs a disk flush per protected frame.
    fsync: bool = False


class WrapConfig(_Model):
    """``[wrap]``: the stdio wrapper."""

    name: str | None = None
    max_frame_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_depth: int = Field(default=64, ge=4, le=1000)
    stderr: Literal["filter", "drop", "inherit"] = "filter"
    #: Environment variables passed from the wrapper's environment to the child, beyond the safe base set.
    env_passthrough: list[str] = Field(default_factory=list)
    #: Environment variables set for the child (values from the config file, not the wrapper's environment).
    env: dict[str, str] = Field(default_factory=dict)
    #: Seconds to wait after closing the child's stdin before SIGTERM, and after SIGTERM before SIGKILL.
    shutdown_grace_seconds: float = Field(default=2.0, ge=0.0, le=60.0)


class ToolsConfig(_Model):
    """``[tools]``: tool pinning and poisoned-description scanning (see ``docs/tools.md``).

    ``pinning``: a call to a tool whose definition changed since approval is refused (``block``), let through with an
    audit record (``warn``), or not checked (``off``). ``poisoning``: a definition that looks poisoned is audited
    (``report``), shown with a visible warning (``flag``) or removed (``block``). ``sanitize_controls`` strips escape
    sequences and invisible characters from every server→client string.
    """

    pinning: Literal["off", "warn", "block"] = "block"
    pins_path: str = "~/.local/share/mcpguard/pins.json"
    poisoning: Literal["off", "report", "flag", "block"] = "flag"
    sanitize_controls: bool = True
    #: Poisoning rule ids that do not count (the escape hatch for a false positive; they are still audited).
    poisoning_ignore_rules: list[str] = Field(default_factory=list)


class Config(_Model):
    """The whole ``mcpguard.toml``."""

    mode: Literal["enforce", "report-only"] = "enforce"
    detection: DetectionConfig = DetectionConfig()
    policy: PolicyConfig = PolicyConfig()
    keys: KeysConfig = KeysConfig()
    tokens: TokensConfig = TokensConfig()
    audit: AuditConfig = AuditConfig()
    wrap: WrapConfig = WrapConfig()
    tools: ToolsConfig = ToolsConfig()


#: Where :func:`load_config` looks when no path is given, in order.
DEFAULT_CONFIG_PATHS = ("mcpguard.toml", "~/.config/mcpguard/mcpguard.toml")
#: Environment variable naming a config file (an explicit ``--config`` wins).
CONFIG_ENV = "MCPGUARD_CONFIG"


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load and validate a config file.

    ``path`` None means: ``$MCPGUARD_CONFIG`` if set, else the first of :data:`DEFAULT_CONFIG_PATHS` that exists, else
    the built-in defaults. Raises :class:`ConfigError` for an unreadable file, invalid TOML, unknown keys or bad values;
    the message names the offending key and never echoes a value.
    """
    p = find_config_file(path, env_var=CONFIG_ENV, defaults=DEFAULT_CONFIG_PATHS)
    if p is None:
        return Config()
    raw = read_toml(p, what="config file")
    return parse_config(raw, source=str(p))


def find_config_file(
    path: str | os.PathLike[str] | None, *, env_var: str, defaults: tuple[str, ...]
) -> Path | None:
    """``path`` if given, else ``$env_var`` if set, else the first of ``defaults`` that exists (``~`` expanded), else
    None (use the built-in defaults)."""
    if path is None:
        path = os.environ.get(env_var) or next(
            (Path(c).expanduser() for c in defaults if Path(c).expanduser().is_file()), None
        )
    return None if path is None else Path(path).expanduser()


def read_toml(path: Path, *, what: str) -> dict:
    """Parse the TOML file at ``path``; raises :class:`ConfigError` naming ``what`` and the path (never its content)
    for an unreadable file or invalid TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from None


def parse_config(raw: dict, *, source: str = "<config>") -> Config:
    """Validate a parsed TOML/JSON mapping into a :class:`Config`; raises :class:`ConfigError` naming each bad key."""
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"invalid config {source}: {describe_validation_error(exc)}") from None


def describe_validation_error(exc: ValidationError) -> str:
    """``"key.path: message; …"`` for every error in ``exc``, without the offending input (it may be a secret)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors(include_input=False)
    )


__all__ = [
    "Action",
    "AllowEntry",
    "AuditConfig",
    "Config",
    "CustomRule",
    "DetectionConfig",
    "DirectionPolicy",
    "KeysConfig",
    "PolicyConfig",
    "TokensConfig",
    "ToolsConfig",
    "WrapConfig",
    "describe_validation_error",
    "find_config_file",
    "load_config",
    "parse_config",
    "read_toml",
]
