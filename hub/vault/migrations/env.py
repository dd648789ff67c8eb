"""Alembic environment for the vault. Runs online only, on the connection :func:`hub.vault.migrate.upgrade` passes
in ``config.attributes["connection"]`` (or a URL in ``sqlalchemy.url`` when run by the ``alembic`` tool)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from hub.vault.migrate import VERSION_TABLE
from hub.vault.models import Base

config = context.config


def include_name(name, type_, parent_names) -> bool:  # type: ignore[no-untyped-def]
    """Autogenerate leaves the facade's tables (``facade_*``, its own Alembic history) alone."""
    return type_ != "table" or not (name or "").startswith("facade_")


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
