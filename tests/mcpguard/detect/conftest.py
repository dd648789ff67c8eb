"""Fixtures for detector tests: one engine per finder backend, built once per session."""

from __future__ import annotations

import pytest

from mcpguard.config import DetectionConfig
from mcpguard.detect.engine import Engine, build_engine

_ENGINES: dict[bool, Engine] = {}


def engine_for(use_hyperscan: bool) -> Engine:
    """A default-config engine with the given finder backend (cached)."""
    if use_hyperscan not in _ENGINES:
        _ENGINES[use_hyperscan] = build_engine(DetectionConfig(use_hyperscan=use_hyperscan))
    return _ENGINES[use_hyperscan]


@pytest.fixture(params=[True, False], ids=["hyperscan", "python"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The default engine, once with the Hyperscan finder and once with the pure-Python finder."""
    return engine_for(request.param)


def hits(engine: Engine, text: str) -> list[tuple[str, str]]:
    """``[(type, value), …]`` found in ``text``."""
    return [(f.type, f.value) for f in engine.scan_text(text)]
