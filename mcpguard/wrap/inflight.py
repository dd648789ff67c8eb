"""Outstanding JSON-RPC requests, one table per direction.

A response carries only an ``id``; the pipeline needs the method (and tool) of the request it answers, and when the
child dies every client request still open must be answered. Ids are strings or integers (``1`` and ``"1"`` are
different ids, JSON-RPC 2.0 §4); an id may not be reused while outstanding (MCP "Basic › Requests").
"""

from __future__ import annotations

from dataclasses import dataclass

#: Requests one side may have outstanding at once; beyond it new requests are refused (memory bound).
MAX_IN_FLIGHT = 10_000


@dataclass(frozen=True, slots=True)
class Pending:
    """One outstanding request: its ``method`` and, for ``tools/call``, the ``tool`` name."""

    method: str
    tool: str | None = None


class InFlight:
    """Outstanding requests of one direction, keyed by id (``str`` and ``int`` kept apart)."""

    __slots__ = ("_table", "limit")

    def __init__(self, limit: int = MAX_IN_FLIGHT) -> None:
        self._table: dict[tuple[type, str | int], Pending] = {}
        self.limit = limit

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, request_id: str | int) -> bool:
        return (type(request_id), request_id) in self._table

    def full(self) -> bool:
        """True when ``limit`` requests are outstanding (a new one is then refused, not queued)."""
        return len(self._table) >= self.limit

    def add(self, request_id: str | int, pending: Pending) -> None:
        """Record an outstanding request; ``1`` and ``"1"`` are different ids (JSON-RPC 2.0 §4)."""
        self._table[(type(request_id), request_id)] = pending

    def pop(self, request_id: str | int) -> Pending | None:
        """Remove and return the request answered by ``request_id``, or None when it is not outstanding."""
        return self._table.pop((type(request_id), request_id), None)

    def drain(self) -> list[tuple[str | int, Pending]]:
        """Remove and return every outstanding request, oldest first."""
        items = [(key[1], p) for key, p in self._table.items()]
        self._table.clear()
        return items


__all__ = ["InFlight", "MAX_IN_FLIGHT", "Pending"]
