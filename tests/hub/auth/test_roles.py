"""``hub.auth.roles``: app roles and groups → hub roles."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.auth.roles import RoleMapping, map_roles


@pytest.mark.parametrize("claims,mapping,expected", [
    ({"roles": ["Hub.Admin"]}, RoleMapping(), {"admin"}),
    ({"roles": ["Hub.Viewer", "Other.Role"]}, RoleMapping(), {"viewer"}),
    ({"roles": "Hub.User"}, RoleMapping(), {"user"}),
    ({"roles": ["hub.admin"]}, RoleMapping(), {"user"}),  # app role values match exactly; falls to default
    ({"groups": ["ABC-1"]}, RoleMapping(groups={"abc-1": "manager"}), {"manager"}),  # group GUIDs: any case
    ({"groups": ["g1"], "roles": ["Hub.Viewer"]}, RoleMapping(groups={"g1": "admin"}), {"admin", "viewer"}),
    ({}, RoleMapping(), {"user"}),
    ({}, RoleMapping(default="none"), set()),
    ({"roles": [1, None]}, RoleMapping(default=None), set()),
    ({"roles": ["Custom"]}, RoleMapping(app_roles={"Custom": "manager"}), {"manager"}),
])
def test_map_roles(claims, mapping, expected):
    assert map_roles(claims, mapping) == expected


def test_unknown_hub_role_rejected():
    with pytest.raises(ValidationError):
        RoleMapping(app_roles={"X": "superuser"})
