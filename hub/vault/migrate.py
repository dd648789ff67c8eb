"""Run the vault's Alembic migrations programmatically at start (no ``alembic.ini`` needed).

The vault keeps its own version table (:data:`VERSION_TABLE`) so it can share a database with other Alembic users.
"""

from __future__ import annotations

from pathlib import Path

from hub.migrations import MigrationHistory

VERSION_TABLE = "vault_alembic_version"
SCRIPT_DIR = Path(__file__).resolve().parent / "migrations"
HISTORY = MigrationHistory(SCRIPT_DIR, VERSION_TABLE)

#: Bring the vault schema to a revision (default head); see :meth:`MigrationHistory.upgrade`.
upgrade = HISTORY.upgrade
#: Step back (``"base"`` drops every vault table: all credentials are lost).
downgrade = HISTORY.downgrade
current_revision = HISTORY.current_revision
head_revision = HISTORY.head_revision
