"""The wrapper's start-up read of ``mcpguard.toml``: just enough to spawn the child before pydantic is imported.

Importing pydantic and validating the whole config costs ~100-200 ms here, and building the detection engine more;
the wrapper is spawned every time an editor starts, so it starts the child first and validates in the background.
:func:`read_raw` reads the file once (the same bytes are later validated by :func:`mcpguard.config.parse_config`, so
the two can never disagree about which file was read) and :func:`spawn_settings` extracts, with strict type checks,
the three ``[wrap]`` values needed to start the child: ``stderr``, ``env_passthrough`` and ``env`` (plus the
``--pass-env`` names from argv). The full validation then confirms them (:func:`check_against`); any disagreement is a
fatal :class:`ConfigError`.

The lookup order mirrors :func:`mcpguard.config.load_config` (``--config``, ``$MCPGUARD_CONFIG``, ``./mcpguard.toml``,
``~/.config/mcpguard/mcpguard.toml``, else defaults); a test pins the two together.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from typing import Any, NamedTuple

from mcpguard.errors import ConfigError
from mcpguard.wrap.env import is_env_name

#: Kept equal to ``mcpguard.config.DEFAULT_CONFIG_PATHS`` / ``CONFIG_ENV`` (tested) without importing pydantic.
DEFAULT_CONFIG_PATHS = ("mcpguard.toml", "~/.config/mcpguard/mcpguard.toml")
CONFIG_ENV = "MCPGUARD_CONFIG"
STDERR_MODES = ("filter", "drop", "inherit")


class SpawnSettings(NamedTuple):
    """What the child needs before the config is fully validated: ``stderr`` mode, ``env_passthrough`` names and
    ``env`` values (from the config file), ``wrap.name``, and the ``--pass-env`` names from argv. (A NamedTuple: no
    dataclasses/inspect import on the path to spawning the child.)"""

    stderr: str = "filter"
    env_passthrough: tuple[str, ...] = ()
    env: dict[str, str] = {}  # noqa: RUF012 - never mutated
    name: str | None = None
    pass_env: tuple[str, ...] = ()

    @property
    def passthrough(self) -> tuple[str, ...]:
        """Everything copied from the wrapper's environment: ``env_passthrough`` entries, then ``--pass-env`` names."""
        return self.env_passthrough + self.pass_env


def resolve_path(path: str | os.PathLike[str] | None, environ: Any) -> str | None:
    """The config file to read, or None for built-in defaults (same order as ``load_config``)."""
    if path is None:
        env = environ.get(CONFIG_ENV)
        if env:
            path = env
        else:
            for candidate in DEFAULT_CONFIG_PATHS:
                p = os.path.expanduser(candidate)
                if os.path.isfile(p):
                    return p
            return None
    return os.path.expanduser(os.fspath(path))


def read_raw(path: str | None) -> dict[str, Any]:
    """Read and TOML-parse the config file (``{}`` when ``path`` is None). Raises :class:`ConfigError`."""
    if path is None:
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            return tomllib.loads(fh.read())
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def spawn_settings(raw: dict[str, Any], *, stderr_override: str | None = None,
                   pass_env: Sequence[str] = ()) -> SpawnSettings:
    """Extract :class:`SpawnSettings` from the raw config and the ``--pass-env`` names. Raises :class:`ConfigError`
    naming the key (never a value) when one of them has the wrong type, and naming only the position of a
    ``--pass-env`` argument that is not a variable name (it may be a mistaken ``NAME=VALUE``)."""
    for i, var in enumerate(pass_env, 1):
        if not is_env_name(var):
            raise ConfigError(f"--pass-env #{i} is not a variable name (letters, digits and _, not starting with a "
                              "digit); give the name only, never NAME=VALUE")
    wrap = raw.get("wrap", {})
    if not isinstance(wrap, dict):
        raise ConfigError("invalid config: wrap: must be a table")
    stderr = wrap.get("stderr", "filter")
    if stderr not in STDERR_MODES:
        raise ConfigError("invalid config: wrap.stderr: must be one of filter, drop, inherit")
    if stderr_override is not None:
        if stderr_override not in STDERR_MODES:
            raise ConfigError("--stderr must be one of filter, drop, inherit")
        stderr = stderr_override
    passthrough = wrap.get("env_passthrough", [])
    if not isinstance(passthrough, list) or not all(isinstance(x, str) for x in passthrough):
        raise ConfigError("invalid config: wrap.env_passthrough: must be a list of variable names")
    env = wrap.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise ConfigError("invalid config: wrap.env: must be a table of strings")
    name = wrap.get("name")
    if name is not None and not isinstance(name, str):
        raise ConfigError("invalid config: wrap.name: must be a string")
    return SpawnSettings(stderr=stderr, env_passthrough=tuple(passthrough), env=dict(env), name=name,
                         pass_env=tuple(pass_env))


def check_against(spawned: SpawnSettings, wrap_config: Any, *, stderr_override: str | None = None) -> None:
    """Confirm the validated ``WrapConfig`` agrees with what the child was spawned with; raise :class:`ConfigError`
    otherwise (e.g. pydantic coerced a value the start-up read took differently)."""
    stderr = stderr_override or wrap_config.stderr
    if (
        stderr != spawned.stderr
        or tuple(wrap_config.env_passthrough) != spawned.env_passthrough
        or dict(wrap_config.env) != spawned.env
    ):
        raise ConfigError("invalid config: wrap: stderr, env_passthrough or env did not validate as read")


__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_PATHS",
    "STDERR_MODES",
    "SpawnSettings",
    "check_against",
    "read_raw",
    "resolve_path",
    "spawn_settings",
]
