"""Alembic environment for the vault. Runs online only, on the connection :func:`hub.vault.migrate.upgrade` passes
in ``config.attributes["connection"]`` (or a URL in ``sqlalchemy.url`` when run by the ``alembic`` tool)."""

from __future__ import annotations

from alembic import context

from hub.migrations import run_env
from hub.vault.migrate import VERSION_TABLE
from hub.vault.models import Base


def include_name(name, type_, parent_names) -> bool:  # type: ignore[no-untyped-def]
    """Autogenerate leaves the facade's tables (``facade_*``, its own Alembic history) alone."""
    return type_ != "table" or not (name or "").startswith("facade_")


run_env(context, Base.metadata, VERSION_TABLE, include_name)
