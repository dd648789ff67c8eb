"""Namespacing upstream names for the aggregated view: ``{connector}__{name}``.

Claude and the MCP spec (2025-11-25, "Tool names") want tool names matching ``^[a-zA-Z0-9_-]{1,64}$``. Connector names
never contain ``__`` (see :mod:`hub.upstreams.manifest`), so splitting at the first ``__`` is unambiguous and two
connectors can never produce the same namespaced name; a name that would be invalid or duplicated within one
connector is a :class:`NamingError` (the item is left out and logged).
"""

from __future__ import annotations

import re

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
SEP = "__"


class NamingError(ValueError):
    """A namespaced name is invalid or collides."""


def namespaced(connector: str, name: str, *, strict: bool = True) -> str:
    """``{connector}__{name}``. ``strict`` (tool names): raises :class:`NamingError` when the result does not match
    ``^[a-zA-Z0-9_-]{1,64}$``. Prompt, resource and template names are not held to that rule (resources are routed
    by URI; names like ``architecture.md`` are normal there) but must be non-empty and free of control characters."""
    full = f"{connector}{SEP}{name}"
    if strict:
        if not name or not TOOL_NAME.match(full):
            raise NamingError(
                f"{connector}: name of {len(name)} chars does not fit ^[a-zA-Z0-9_-]{{1,64}}$ once prefixed")
    elif not name or len(full) > 256 or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise NamingError(f"{connector}: name is empty, too long or has control characters")
    return full


def split(full: str) -> tuple[str, str] | None:
    """``(connector, name)`` for a namespaced name, or None when it is not one."""
    connector, sep, name = full.partition(SEP)
    if not sep or not connector or not name:
        return None
    return connector, name


__all__ = ["NamingError", "SEP", "TOOL_NAME", "namespaced", "split"]
