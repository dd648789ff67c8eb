"""Alembic migrations of the facade's ``facade_*`` tables; run by :func:`hub.auth.facade.migrate.upgrade`."""
