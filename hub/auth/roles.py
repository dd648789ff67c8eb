"""Entra app roles and groups → hub roles (``admin`` / ``manager`` / ``user`` / ``viewer``).

Entra puts app roles in the ``roles`` claim (values are the app role's ``value``, e.g. ``Hub.Admin``) and, when the
app registration emits them, group object ids in ``groups``. The mapping is configuration (``auth.entra.roles``):
each claim value names one hub role; a user gets every role any of their values maps to. ``default`` is granted when
nothing maps (``None`` = such users are refused as not provisioned). Sources: Microsoft identity platform "Add app
roles and get them from a token"; "Configure group claims".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.auth.base import Role

DEFAULT_APP_ROLES: dict[str, Role] = {
    "Hub.Admin": "admin",
    "Hub.Manager": "manager",
    "Hub.User": "user",
    "Hub.Viewer": "viewer",
}


class RoleMapping(BaseModel):
    """``app_roles``: app role value → hub role; ``groups``: group object id → hub role; ``default``: role for
    signed-in users with no mapped value, or ``None`` to refuse them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    app_roles: dict[str, Role] = Field(default_factory=lambda: dict(DEFAULT_APP_ROLES))
    groups: dict[str, Role] = Field(default_factory=dict)
    default: Role | None = "user"

    @field_validator("default", mode="before")
    @classmethod
    def _none_word(cls, v: Any) -> Any:
        # TOML has no null: "none" (or "") means "refuse users with no mapped role".
        return None if isinstance(v, str) and v.strip().lower() in ("", "none") else v


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def map_roles(claims: Mapping[str, Any], mapping: RoleMapping) -> frozenset[Role]:
    """The hub roles for a token's ``roles`` and ``groups`` claims; empty when nothing maps and ``default`` is None.

    Group ids compare case-insensitively (GUIDs); app role values exactly, as Entra emits them."""
    out: set[Role] = set()
    for value in _strings(claims.get("roles")):
        role = mapping.app_roles.get(value)
        if role is not None:
            out.add(role)
    groups = {k.lower(): v for k, v in mapping.groups.items()}
    for gid in _strings(claims.get("groups")):
        role = groups.get(gid.lower())
        if role is not None:
            out.add(role)
    if not out and mapping.default is not None:
        out.add(mapping.default)
    return frozenset(out)
