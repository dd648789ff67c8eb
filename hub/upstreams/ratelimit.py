"""Per-user, per-connector rate limits from a manifest's ``rate`` (``burst`` and ``sustained``), enforced with the
``limits`` library's moving-window strategy over in-process memory (one hub process holds the counters; several
replicas would each allow the full rate — put a shared ``limits`` storage here for that)."""

from __future__ import annotations

from collections.abc import Mapping

import limits
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from hub.upstreams.registry import Connector


class RateLimits:
    """``allow(user_id, connector)`` → False when either limit of that connector is exhausted for that user."""

    def __init__(self, connectors: Mapping[str, Connector]) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._items: dict[str, list[limits.RateLimitItem]] = {}
        for name, c in connectors.items():
            items = [limits.parse(r) for r in (c.manifest.rate.burst, c.manifest.rate.sustained) if r]
            if items:
                self._items[name] = items

    def allow(self, user_id: str, connector: str) -> bool:
        """Count a call of ``user_id`` to ``connector``; False (nothing counted) if any window's budget is spent."""
        items = self._items.get(connector)
        if not items:
            return True
        # Test every window first so a refused call does not consume the other window's budget.
        if not all(self._limiter.test(i, connector, user_id) for i in items):
            return False
        return all([self._limiter.hit(i, connector, user_id) for i in items])


__all__ = ["RateLimits"]
