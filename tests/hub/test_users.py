"""hub.users: first sight, offboarding refuses later tokens, grants."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.auth.base import Principal, UserNotProvisioned
from hub.users import UserDirectory
from hub.vault import make_engine
from hub.vault.migrate import upgrade


@pytest.fixture
def users(tmp_path: Path) -> UserDirectory:
    engine = make_engine(f"sqlite:///{tmp_path / 'u.sqlite3'}")
    upgrade(engine)
    return UserDirectory(engine)


def _p(user: str, *roles: str) -> Principal:
    return Principal(user_id=user, email=user, tenant="dev", roles=frozenset(roles))  # type: ignore[arg-type]


def test_seen_offboard_reinstate(users: UserDirectory) -> None:
    rec = users.seen(_p("alice@example.com"))
    assert rec.status == "active" and rec.tenant == "dev"
    assert users.seen(_p("alice@example.com")).created_at == rec.created_at
    off = users.offboard("alice@example.com", tenant="dev", by="root")
    assert off.status == "offboarded" and off.offboarded_at is not None
    with pytest.raises(UserNotProvisioned) as err:
        users.seen(_p("alice@example.com"))
    assert err.value.code == "USER_NOT_PROVISIONED" and err.value.reason == "offboarded"
    assert users.offboard("alice@example.com", tenant="dev", by="other").offboarded_at == off.offboarded_at
    users.reinstate("alice@example.com")
    assert users.seen(_p("alice@example.com")).status == "active"


def test_grants_by_user_and_role(users: UserDirectory) -> None:
    users.grant("github", user="alice@example.com")
    users.grant("github", user="alice@example.com")  # idempotent
    users.grant("time", role="viewer")
    assert users.granted_connectors(_p("alice@example.com")) == {"github"}
    assert users.granted_connectors(_p("bob@example.com", "viewer")) == {"time"}
    assert users.revoke("github", user="alice@example.com") and not users.revoke("github", user="alice@example.com")
    with pytest.raises(ValueError):
        users.grant("x")
