"""Run the facade's Alembic migrations programmatically at start (no ``alembic.ini`` needed).

The facade keeps its own version table (:data:`VERSION_TABLE`), apart from the vault's ``vault_alembic_version``, so
the two migration histories share the hub database without colliding. Databases whose ``facade_*`` tables were made
by ``create_all`` before migrations existed are adopted: stamped at the initial revision (whose schema they have),
then upgraded like any other.
"""

from __future__ import annotations

import functools
from pathlib import Path

from sqlalchemy import Engine, inspect

VERSION_TABLE = "facade_alembic_version"
SCRIPT_DIR = Path(__file__).resolve().parent / "migrations"
#: The revision whose schema ``metadata.create_all`` produced before the facade had migrations.
PRE_MIGRATION_REVISION = "0001_initial"


def _config(connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the facade schema to ``revision`` in one transaction (adopting a pre-migration database first)."""
    from alembic import command

    if revision == "head" and current_revision(engine) == head_revision():
        return  # the common start-up case: nothing to do, skip loading the migration scripts
    with engine.begin() as conn:
        cfg = _config(conn)
        names = set(inspect(conn).get_table_names())
        if VERSION_TABLE not in names and "facade_clients" in names:
            command.stamp(cfg, PRE_MIGRATION_REVISION)  # tables from create_all: the initial revision's schema
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Step the facade schema back to ``revision`` (``"base"`` drops every ``facade_*`` table: all grants are lost)."""
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(_config(conn), revision)


def current_revision(engine: Engine) -> str | None:
    """The applied revision, or None on a database without the facade's version table."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


@functools.cache
def head_revision() -> str:
    """The newest revision shipped with this package."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(SCRIPT_DIR)).get_current_head() or ""
