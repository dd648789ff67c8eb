"""Launching a stdio upstream: argv with placeholders filled, a scrubbed environment, a private working directory.

The child's environment is the SDK's minimal base (HOME, LOGNAME, PATH, SHELL, TERM, USER) plus the manifest's fixed
``env`` plus this user's injected credentials — nothing else of the hub's environment (in particular none of the
hub's own keys) reaches it. The child's stderr goes to ``/dev/null``: servers print request data there and the hub
cannot vouch for it.
"""

from __future__ import annotations

import os
from pathlib import Path

from mcp.client.stdio import StdioServerParameters

from hub.logs import user_ref
from hub.upstreams.registry import Connector


def user_dir(data_dir: Path, user_id: str, connector: str) -> Path:
    """``{data_dir}/users/<user ref>/<connector>``, created ``0700``. The ref is a hash: user ids are e-mails and
    must not become path components."""
    d = data_dir / "users" / user_ref(user_id) / connector
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def fill(text: str, values: dict[str, str]) -> str:
    """Replace the manifest placeholders (``{data_dir}``, ``{user_dir}``, ``{connector}``) by plain substitution."""
    for k, v in values.items():
        text = text.replace("{" + k + "}", v)
    return text


def stdio_parameters(
    connector: Connector, *, data_dir: Path, user_id: str | None, injected_env: dict[str, str]
) -> StdioServerParameters:
    """The :class:`StdioServerParameters` for one instance. ``user_id`` is None for a shared instance (then
    ``{user_dir}`` is not allowed, which the manifest's isolation rules guarantee)."""
    m = connector.manifest
    values = {"data_dir": str(data_dir), "connector": m.name}
    if user_id is not None:
        values["user_dir"] = str(user_dir(data_dir, user_id, m.name))
    argv = [fill(a, values) for a in connector.argv]
    env = {k: fill(v, values) for k, v in m.transport.env.items()}
    env.update(injected_env)
    cwd = fill(m.transport.cwd, values) if m.transport.cwd else values.get("user_dir") or str(data_dir)
    return StdioServerParameters(command=argv[0], args=argv[1:], env=env, cwd=cwd)


_devnull = None


def devnull():
    """A shared writable ``/dev/null`` for children's stderr."""
    global _devnull
    if _devnull is None:
        _devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    return _devnull


__all__ = ["devnull", "fill", "stdio_parameters", "user_dir"]
