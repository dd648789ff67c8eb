"""Fixtures for the hub's own tests (tests/hub/*.py, tests/hub/upstreams/). Sub-directories owned by other parts of
the hub (auth/, vault/, admin/) bring their own conftest; nothing here is autouse."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
