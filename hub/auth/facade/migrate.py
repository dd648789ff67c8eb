"""Run the facade's Alembic migrations programmatically at start (no ``alembic.ini`` needed).

The facade keeps its own version table (:data:`VERSION_TABLE`), apart from the vault's ``vault_alembic_version``, so
the two migration histories share the hub database without colliding. Databases whose ``facade_*`` tables were made
by ``create_all`` before migrations existed are adopted: stamped at the initial revision (whose schema they have),
then upgraded like any other.
"""

from __future__ import annotations

from pathlib import Path

from hub.migrations import MigrationHistory

VERSION_TABLE = "facade_alembic_version"
SCRIPT_DIR = Path(__file__).resolve().parent / "migrations"
#: The revision whose schema ``metadata.create_all`` produced before the facade had migrations.
PRE_MIGRATION_REVISION = "0001_initial"
HISTORY = MigrationHistory(SCRIPT_DIR, VERSION_TABLE, adopt_table="facade_clients",
                           adopt_revision=PRE_MIGRATION_REVISION)

#: Bring the facade schema to a revision (default head), adopting a pre-migration database first.
upgrade = HISTORY.upgrade
#: Step back (``"base"`` drops every ``facade_*`` table: all grants are lost).
downgrade = HISTORY.downgrade
current_revision = HISTORY.current_revision
head_revision = HISTORY.head_revision
