"""The child server's environment: an allowlist, never the wrapper's full environment.

A child inherits everything unless told otherwise, and an editor's environment routinely holds cloud credentials
(``AWS_SECRET_ACCESS_KEY``, ``GITHUB_TOKEN``) that an MCP server has no business reading. The child gets
:data:`SAFE_BASE` (what a shell, Python and Node need to run and find their files), plus the variables the config
names in ``wrap.env_passthrough`` or given with ``mcpguard wrap --pass-env NAME``, plus ``wrap.env`` set from the
config file itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# A portable variable name (POSIX.1-2017 XBD §8.1, lower case allowed): what --pass-env accepts.
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Variables passed through from the wrapper's environment by default.
SAFE_BASE = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "TERM",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TEMP",
        "TMP",
        # XDG base directories: where servers keep config and caches.
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_CACHE_HOME",
        "XDG_STATE_HOME",
        "XDG_RUNTIME_DIR",
        # Trust stores, so a server that talks TLS verifies against the same roots as the user.
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "NODE_EXTRA_CA_CERTS",
    }
)
#: Prefixes passed through by default (locale categories).
SAFE_PREFIXES = ("LC_",)


def child_env(
    environ: Mapping[str, str], *, passthrough: Iterable[str] = (), extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Build the child's environment.

    ``environ`` is the wrapper's environment; ``passthrough`` names extra variables to copy from it (exact names, or
    a prefix ending in ``*``); ``extra`` (``wrap.env``) is set last and wins. Bash exported functions (values starting
    with ``()``) are never copied.
    """
    exact = set()
    prefixes: list[str] = []
    for entry in passthrough:
        if entry.endswith("*"):
            if entry[:-1]:
                prefixes.append(entry[:-1])
        else:
            exact.add(entry)
    prefix_tuple = SAFE_PREFIXES + tuple(prefixes)
    env: dict[str, str] = {}
    for name, value in environ.items():
        if not (name in SAFE_BASE or name in exact or name.startswith(prefix_tuple)):
            continue
        if value.startswith("()"):
            continue
        env[name] = value
    if extra:
        env.update(extra)
    return env


def is_env_name(name: str) -> bool:
    """True when ``name`` is a portable environment variable name (letters, digits, ``_``; not starting with a
    digit). ``NAME=VALUE`` and prefix patterns are not names."""
    return _ENV_NAME.fullmatch(name) is not None


__all__ = ["SAFE_BASE", "SAFE_PREFIXES", "child_env", "is_env_name"]
