"""Alembic migration histories run programmatically at start (no ``alembic.ini``).

Each component of the hub that owns tables (the vault, the OAuth facade) keeps its own script directory and its own
version table, so several histories share one database without colliding. :class:`MigrationHistory` is the one
implementation; ``hub.vault.migrate`` and ``hub.auth.facade.migrate`` configure it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect


@dataclass(frozen=True)
class MigrationHistory:
    """One Alembic history: ``script_dir`` (holding ``env.py`` and ``versions/``) and its ``version_table``.

    ``adopt_table``/``adopt_revision``: a database that has ``adopt_table`` but no version table (tables created with
    ``metadata.create_all`` before migrations existed) is stamped at ``adopt_revision`` before upgrading.
    """

    script_dir: Path
    version_table: str
    adopt_table: str | None = None
    adopt_revision: str | None = None

    def alembic_config(self, connection: Any) -> Any:
        """An ``alembic.config.Config`` for this history bound to ``connection`` (for ``alembic.command`` calls)."""
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(self.script_dir))
        cfg.attributes["connection"] = connection
        return cfg

    def upgrade(self, engine: Engine, revision: str = "head") -> None:
        """Bring the schema to ``revision`` in one transaction (PostgreSQL DDL is transactional; SQLite's mostly is)."""
        from alembic import command

        if revision == "head" and self.current_revision(engine) == self.head_revision():
            return  # the common start-up case: nothing to do, skip loading the migration scripts
        with engine.begin() as conn:
            cfg = self.alembic_config(conn)
            if self.adopt_table is not None:
                names = set(inspect(conn).get_table_names())
                if self.version_table not in names and self.adopt_table in names:
                    command.stamp(cfg, self.adopt_revision)
            command.upgrade(cfg, revision)

    def downgrade(self, engine: Engine, revision: str) -> None:
        """Step the schema back to ``revision`` (``"base"`` drops this history's tables and their data)."""
        from alembic import command

        with engine.begin() as conn:
            command.downgrade(self.alembic_config(conn), revision)

    def current_revision(self, engine: Engine) -> str | None:
        """The applied revision, or None on a database without this history's version table."""
        from alembic.runtime.migration import MigrationContext

        with engine.connect() as conn:
            if not inspect(conn).has_table(self.version_table):
                return None
            opts = {"version_table": self.version_table}
            return MigrationContext.configure(conn, opts=opts).get_current_revision()

    def head_revision(self) -> str:
        """The newest revision shipped with this package (``""`` if none)."""
        return _head(str(self.script_dir))


@functools.cache
def _head(script_dir: str) -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(script_dir).get_current_head() or ""


def run_env(context: Any, metadata: Any, version_table: str, include_name: Any) -> None:
    """The body of a history's Alembic ``env.py`` (online mode only): run on the connection :meth:`upgrade` passed in
    ``config.attributes["connection"]``, or on ``sqlalchemy.url`` when run by the ``alembic`` tool. SQLite gets batch
    mode because it cannot ALTER most columns in place."""
    from sqlalchemy import create_engine

    def run(connection: Any) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table,
            include_name=include_name,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
    else:
        with create_engine(context.config.get_main_option("sqlalchemy.url")).begin() as conn:
            run(conn)
