"""The ``[vault]`` section of ``hub.toml``, validated here (``hub.settings`` keeps it as a plain mapping).

::

    [vault]
    kek_provider = "file"             # "file" (dev: key files created 0600), "env" (base64 keys in env vars), or the
                                      # name of a plugin in the entry-point group "mcpguard.vault.kek_providers"
    kek_options = {}                  # plugin only: passed to the plugin's factory (URLs, key names; never secrets)
    fingerprint_key = "auto"          # "auto" (file: kek_dir/fingerprint.key; env and plugins: {prefix}FINGERPRINT),
                                      # "file" or "env" to force one
    kek_dir = "~/.local/share/mcpguard/hub/vault-keys"   # file provider; default {storage.data_dir}/vault-keys
    kek_env_prefix = "MCPGUARD_VAULT_KEK_"               # env provider: MCPGUARD_VAULT_KEK_V1, _V2 …, _FINGERPRINT
    rotate_after_encryptions = 1073741824                # 2^30: warn (status, /ready stays up) past this
    max_encryptions_per_kek = 4294967296                 # 2^32: refuse new wraps under that KEK version

The database is ``[storage] database_url`` (SQLite by default, ``postgresql+psycopg://…`` for PostgreSQL). Key
material never lives in the file: only a directory or an environment-variable prefix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mcpguard.errors import ConfigError

#: NIST SP 800-38D §8.3: with random 96-bit IVs, at most 2^32 invocations of the authenticated encryption function
#: per key. Each credential write (and each re-wrap at rotation) is one invocation under the current KEK.
NIST_RANDOM_IV_LIMIT = 2**32


class VaultSettings(BaseModel):
    """Validated ``[vault]``; see the module docstring for the TOML shape."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kek_provider: str = Field(default="file", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    kek_options: dict[str, Any] = Field(default_factory=dict)
    fingerprint_key: Literal["auto", "file", "env"] = "auto"
    kek_dir: str | None = None
    kek_env_prefix: str = Field(default="MCPGUARD_VAULT_KEK_", pattern=r"^[A-Z][A-Z0-9_]{0,63}$")
    rotate_after_encryptions: int = Field(default=2**30, ge=1, le=NIST_RANDOM_IV_LIMIT)
    max_encryptions_per_kek: int = Field(default=NIST_RANDOM_IV_LIMIT, ge=1, le=NIST_RANDOM_IV_LIMIT)

    @property
    def fingerprint_source(self) -> Literal["file", "env"]:
        """Where the fingerprint key lives: ``fingerprint_key``, or when ``auto`` the KEK provider's kind."""
        if self.fingerprint_key != "auto":
            return self.fingerprint_key
        return "file" if self.kek_provider == "file" else "env"

    def kek_path(self, data_dir: Path) -> Path:
        """Directory of the file provider's key files (``kek-v{N}.key``, ``fingerprint.key``)."""
        return Path(self.kek_dir).expanduser() if self.kek_dir else data_dir / "vault-keys"


def parse_vault_settings(raw: dict[str, Any] | None) -> VaultSettings:
    """Validate the raw ``[vault]`` mapping; raises :class:`ConfigError` naming each bad key (never its value)."""
    try:
        return VaultSettings.model_validate(raw or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"vault.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_input=False)
        )
        raise ConfigError(f"invalid [vault] settings: {problems}") from None
