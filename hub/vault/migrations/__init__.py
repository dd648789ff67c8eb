"""Alembic migrations of the vault and user-directory tables; run by :func:`hub.vault.migrate.upgrade`."""
