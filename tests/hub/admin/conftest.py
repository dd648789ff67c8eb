"""Fixtures for the admin API tests; the harness itself lives in ``admin_harness`` (importable by the tests)."""

from admin_harness import anyio_backend, hub, service  # noqa: F401
