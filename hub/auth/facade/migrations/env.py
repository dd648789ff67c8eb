"""Alembic environment for the facade. Runs online only, on the connection :func:`hub.auth.facade.migrate.upgrade`
passes in ``config.attributes["connection"]`` (or a URL in ``sqlalchemy.url`` when run by the ``alembic`` tool).
Only ``facade_*`` tables are this history's: autogenerate ignores the vault's and anyone else's."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from hub.auth.facade.migrate import VERSION_TABLE
from hub.auth.facade.store import Base

config = context.config


def include_name(name, type_, parent_names) -> bool:  # type: ignore[no-untyped-def]
    """Autogenerate compares only the facade's own tables (never its version table)."""
    if type_ == "table":
        return bool(name) and name.startswith("facade_") and name != VERSION_TABLE
    return True


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
