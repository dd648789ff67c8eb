"""Alembic environment for the facade. Runs online only, on the connection :func:`hub.auth.facade.migrate.upgrade`
passes in ``config.attributes["connection"]`` (or a URL in ``sqlalchemy.url`` when run by the ``alembic`` tool).
Only ``facade_*`` tables are this history's: autogenerate ignores the vault's and anyone else's."""

from __future__ import annotations

from alembic import context

from hub.migrations import run_env
from hub.auth.facade.migrate import VERSION_TABLE
from hub.auth.facade.store import Base


def include_name(name, type_, parent_names) -> bool:  # type: ignore[no-untyped-def]
    """Autogenerate compares only the facade's own tables (never its version table)."""
    if type_ == "table":
        return bool(name) and name.startswith("facade_") and name != VERSION_TABLE
    return True


run_env(context, Base.metadata, VERSION_TABLE, include_name)
