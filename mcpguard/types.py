"""The shared vocabulary of the protection pipeline.

Every stage speaks these types: ``leaves`` turns a JSON-RPC message into :class:`Leaf` objects, the detection engine
turns leaves into :class:`Finding` objects, ``policy`` turns findings plus a :class:`Context` into :class:`Decision`
objects, the transforms apply them, and :class:`Outcome` tells a front door (the stdio wrapper or the hub) what to do
with the frame.

A :class:`Finding` holds the raw matched value in memory only (``value`` is excluded from ``repr`` and from
:meth:`Finding.public`); nothing that serializes findings may read it except the transforms and the keyed fingerprint.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple


class Direction(str, enum.Enum):
    """Which way a frame travels. ``client_to_server`` carries requests from the AI client (tool arguments) to the MCP
    server; ``server_to_client`` carries results, notifications and server-initiated requests back."""

    CLIENT_TO_SERVER = "client_to_server"
    SERVER_TO_CLIENT = "server_to_client"


class Action(str, enum.Enum):
    """What the policy does with a finding, ordered from least to most protective (see :data:`ACTION_RANK`)."""

    ALLOW = "allow"
    MASK = "mask"
    REDACT = "redact"
    TOKENIZE = "tokenize"
    ENCRYPT = "encrypt"
    BLOCK = "block"


#: Precedence when two decisions cover overlapping spans: the higher rank wins.
ACTION_RANK: dict[Action, int] = {
    Action.ALLOW: 0,
    Action.MASK: 1,
    Action.TOKENIZE: 2,
    Action.ENCRYPT: 3,
    Action.REDACT: 4,
    Action.BLOCK: 5,
}


class Category(str, enum.Enum):
    """Family of a detected type: credentials, personal data, infrastructure identifiers, or user-defined rules."""

    SECRET = "secret"
    PII = "pii"
    INFRA = "infra"
    CUSTOM = "custom"


LeafKind = Literal["value", "key", "number"]


class Leaf(NamedTuple):
    """One scannable string of a JSON document (immutable).

    ``path`` is an RFC 6901 JSON pointer (``""`` for a bare string or plain text). ``kind`` is ``"value"`` for a string
    value, ``"key"`` for an object key (its path points at the member), ``"number"`` for a bare JSON number rendered
    with ``str`` (only collected when configured). ``text`` is the leaf's text as a ``str``; finding offsets index it.
    A named tuple rather than a frozen dataclass: the walk creates one per string and key of every frame (~1,500 per
    MB of chat), and a tuple is built in a third of the time.
    """

    path: str
    kind: LeafKind
    text: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A detected sensitive value inside one leaf.

    ``type`` is the detected data type (e.g. ``"aws_access_key_id"``, ``"email"``, ``"kr_rrn"``); ``rule`` the id of
    the rule that fired; ``path`` and ``kind`` identify the leaf; ``start``/``end`` are ``str`` offsets into that leaf's
    text (half-open); ``confidence`` is in ``[0, 1]``. ``value`` is the raw match: in memory only, never logged.
    """

    type: str
    rule: str
    category: Category
    path: str
    start: int
    end: int
    confidence: float
    value: str = field(repr=False, compare=False)
    kind: LeafKind = "value"

    def public(self) -> dict[str, Any]:
        """The finding without its value: safe for audit, logs and ``mcpguard scan`` output."""
        return {
            "type": self.type,
            "rule": self.rule,
            "category": self.category.value,
            "path": self.path,
            "start": self.start,
            "end": self.end,
            "confidence": round(self.confidence, 3),
        }


@dataclass(frozen=True, slots=True)
class Context:
    """Where a frame is in the conversation.

    ``server`` names the MCP server (the wrapper's configured name, or the hub's connector); ``user`` is the verified
    user id (``"local"`` in the wrapper); ``method`` the JSON-RPC method of the message, or for a response the method of
    the request it answers; ``tool`` the tool name for ``tools/call``. ``instance`` names the running instance of the
    server when one server runs as several (the hub's per-user upstreams: ``"<connector>@<user ref>"``), or None when
    there is one; the tool guard keys its pins and drift state by it (default: ``server``). It is written to the pin
    file and audit records, so it never holds a secret.
    """

    direction: Direction
    method: str | None = None
    server: str = "default"
    user: str = "local"
    tool: str | None = None
    request_id: str | int | None = None
    instance: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's verdict on one finding: the ``action`` to apply and a short machine ``reason`` (e.g.
    ``"policy:type"``, ``"allowlist:value"``, ``"report-only"``, ``"below-min-confidence"``)."""

    finding: Finding
    action: Action
    reason: str


OutcomeKind = Literal["forward", "reject", "drop"]


@dataclass(slots=True)
class Outcome:
    """What a front door does with a frame after :meth:`mcpguard.pipeline.Pipeline.protect`.

    - ``forward``: send ``message`` (possibly transformed) on.
    - ``reject``: do not forward; for a request answer the sender with ``error`` (a JSON-RPC error object
      ``{"code", "message", "data"}``, naming types and rule ids, never values); for a result send ``message``, which
      then holds the replacement error result the model can read.
    - ``drop``: forward nothing (e.g. a blocked notification).

    ``decisions`` lists every decision taken (``report-only`` decisions included); ``audit`` is the record written,
    if any.
    """

    kind: OutcomeKind
    message: dict[str, Any] | None
    decisions: list[Decision] = field(default_factory=list)
    error: dict[str, Any] | None = None
    audit: dict[str, Any] | None = None

    @property
    def blocked(self) -> bool:
        """True when the frame was refused or dropped because of a ``block`` decision."""
        return self.kind != "forward"
