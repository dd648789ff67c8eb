"""Run the vault's Alembic migrations programmatically at start (no ``alembic.ini`` needed).

The vault keeps its own version table (:data:`VERSION_TABLE`) so it can share a database with other Alembic users.
"""

from __future__ import annotations

import functools
from pathlib import Path

from sqlalchemy import Engine, inspect

VERSION_TABLE = "vault_alembic_version"
SCRIPT_DIR = Path(__file__).resolve().parent / "migrations"


def _config(connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` in one transaction (PostgreSQL DDL is transactional; SQLite's mostly is)."""
    from alembic import command

    if revision == "head" and current_revision(engine) == head_revision():
        return  # the common start-up case: nothing to do, skip loading the migration scripts
    with engine.begin() as conn:
        command.upgrade(_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Step the schema back to ``revision`` (``"base"`` drops every vault table: all credentials are lost)."""
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(_config(conn), revision)


def current_revision(engine: Engine) -> str | None:
    """The applied revision, or None on an empty database."""
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
