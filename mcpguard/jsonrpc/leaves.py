"""A JSON document ⇄ its scannable leaves, addressed by RFC 6901 JSON pointers.

:func:`collect` walks a parsed JSON value (``dict``/``list``/``str``/numbers, as ``json.loads`` returns) and yields a
:class:`mcpguard.types.Leaf` for every string value, every object key and, when asked, every bare number. Depth is
bounded: a document nested deeper than ``max_depth`` raises :class:`mcpguard.errors.FrameTooDeep` instead of
recursing without limit.

:func:`apply` rebuilds the document with replacement texts for some leaves. Only containers on the way to a changed
leaf are copied; the input is never mutated. A renamed object key never silently overwrites a sibling: when two keys
would collide, the later renamed one gets a ``#2``, ``#3`` … suffix.

:func:`message_parts` names the members of a JSON-RPC message that carry content (``params``, ``result``,
``error`` and anything unexpected) and never ``jsonrpc``, ``id`` or ``method``.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from mcpguard.errors import FrameTooDeep
from mcpguard.types import Leaf, LeafKind

#: Members of a JSON-RPC message that routing depends on; never scanned or rewritten.
ENVELOPE_KEYS = frozenset({"jsonrpc", "id", "method"})

DEFAULT_MAX_DEPTH = 64


def escape_segment(segment: str) -> str:
    """Escape one reference token for a JSON pointer (RFC 6901 §3: ``~`` → ``~0``, ``/`` → ``~1``)."""
    if "~" not in segment and "/" not in segment:
        return segment
    return segment.replace("~", "~0").replace("/", "~1")


def unescape_segment(segment: str) -> str:
    """Undo :func:`escape_segment` (RFC 6901 §4: ``~1`` first, then ``~0``)."""
    return segment.replace("~1", "/").replace("~0", "~")


def split_pointer(pointer: str) -> list[str]:
    """The unescaped reference tokens of a JSON pointer: ``"/a~1b/0"`` → ``["a/b", "0"]``; ``""`` → ``[]``.
    Raises ``ValueError`` for a non-empty pointer that does not start with ``/``."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError("a JSON pointer is empty or starts with '/'")
    if "~" not in pointer:
        return pointer[1:].split("/")
    return [unescape_segment(s) for s in pointer[1:].split("/")]


def join_pointer(base: str, segment: str | int) -> str:
    """``base`` extended by one reference token (escaped)."""
    return f"{base}/{escape_segment(str(segment))}"


def message_parts(message: Mapping[str, Any]) -> list[str]:
    """The top-level members of a JSON-RPC message to scan, in document order: everything except ``jsonrpc``,
    ``id`` and ``method`` (so ``params`` of requests and notifications, ``result`` or ``error`` of responses, and any
    unexpected member, which could otherwise smuggle data past the scan)."""
    return [k for k in message if k not in ENVELOPE_KEYS]


def collect(
    value: Any,
    *,
    base: str = "",
    numbers: bool = False,
    max_depth: int = DEFAULT_MAX_DEPTH,
    depth: int = 0,
) -> list[Leaf]:
    """Every string leaf of ``value`` (and object key, and bare number when ``numbers``) as :class:`Leaf` objects.

    ``base`` is the pointer of ``value`` itself; ``depth`` its nesting depth (containers above it). Booleans and
    ``null`` are never leaves. Raises :class:`FrameTooDeep` when containers nest deeper than ``max_depth``.
    """
    out: list[Leaf] = []
    _walk(value, base, numbers, max_depth, depth, out)
    return out


def collect_message(message: Mapping[str, Any], *, numbers: bool = False, max_depth: int = DEFAULT_MAX_DEPTH) -> list[Leaf]:
    """The leaves of the content members of a JSON-RPC message (see :func:`message_parts`), pointers from the message
    root (e.g. ``/params/arguments/query``, ``/result/content/0/text``)."""
    out: list[Leaf] = []
    for part in message_parts(message):
        # The top-level key itself is a leaf too: an unexpected member's name could carry data.
        if part not in ("params", "result", "error"):
            out.append(Leaf(join_pointer("", part), "key", part))
        _walk(message[part], join_pointer("", part), numbers, max_depth, 1, out)
    return out


def _walk(value: Any, path: str, numbers: bool, max_depth: int, depth: int, out: list[Leaf]) -> None:
    if isinstance(value, str):
        out.append(Leaf(path, "value", value))
    elif isinstance(value, dict):
        if depth >= max_depth:
            raise FrameTooDeep(f"JSON nesting exceeds the maximum depth of {max_depth}")
        for key, child in value.items():
            child_path = f"{path}/{escape_segment(key)}"
            out.append(Leaf(child_path, "key", key))
            if isinstance(child, str):
                out.append(Leaf(child_path, "value", child))
            else:
                _walk(child, child_path, numbers, max_depth, depth + 1, out)
    elif isinstance(value, list):
        if depth >= max_depth:
            raise FrameTooDeep(f"JSON nesting exceeds the maximum depth of {max_depth}")
        for index, child in enumerate(value):
            _walk(child, f"{path}/{index}", numbers, max_depth, depth + 1, out)
    elif numbers and isinstance(value, (int, float)) and not isinstance(value, bool):
        out.append(Leaf(path, "number", str(value)))


class _Node:
    """One step of the replacement trie: children by reference token, plus this member's new value or key."""

    __slots__ = ("children", "value", "has_value", "key")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.value: str | None = None
        self.has_value = False
        self.key: str | None = None


def apply(value: Any, replacements: Mapping[tuple[str, LeafKind], str] | Iterable[tuple[tuple[str, LeafKind], str]],
          *, base: str = "") -> Any:
    """``value`` with some leaves replaced; the input is not mutated.

    ``replacements`` maps ``(pointer, kind)`` → new text: for kind ``"value"`` or ``"number"`` the member at
    ``pointer`` becomes that string (a replaced number becomes a string); for kind ``"key"`` the object member at
    ``pointer`` is renamed, keeping its position. Pointers are absolute and must lie under ``base`` (the pointer of
    ``value``). A pointer that does not resolve raises ``KeyError`` (its message never names a key: keys can be
    sensitive). Renamed keys that collide with a sibling get a
    ``#n`` suffix so no member is lost.
    """
    items = replacements.items() if isinstance(replacements, Mapping) else replacements
    root = _Node()
    prefix = split_pointer(base)
    for (pointer, kind), text in items:
        segments = split_pointer(pointer)
        if segments[: len(prefix)] != prefix:
            raise KeyError("a replacement pointer lies outside the document")
        node = root
        for seg in segments[len(prefix):]:
            node = node.children.setdefault(seg, _Node())
        if kind == "key":
            node.key = text
        else:
            node.value = text
            node.has_value = True
    if root.key is not None:
        raise KeyError("the root of a document has no key")
    return _rebuild(value, root)


def _rebuild(value: Any, node: _Node) -> Any:
    if node.has_value:
        return node.value
    if not node.children:
        return value
    if isinstance(value, dict):
        for seg in node.children:
            if seg not in value:
                raise KeyError("a replacement pointer names a missing member")
        renamed = {k for k, n in node.children.items() if n.key is not None and n.key != k}
        # Keys that stay as they are keep their names; renamed keys yield on collision.
        taken = {k for k in value if k not in renamed}
        out: dict[str, Any] = {}
        for key, child in value.items():
            child_node = node.children.get(key)
            new_child = _rebuild(child, child_node) if child_node is not None else child
            name = key
            if key in renamed:
                name = _unique(child_node.key, taken)  # type: ignore[union-attr]
                taken.add(name)
            out[name] = new_child
        return out
    if isinstance(value, list):
        out_list = list(value)
        for seg, child_node in node.children.items():
            if not seg.isdigit() or int(seg) >= len(value):
                raise KeyError("a replacement pointer names a missing array element")
            if child_node.key is not None:
                raise KeyError("array elements have no keys")
            out_list[int(seg)] = _rebuild(value[int(seg)], child_node)
        return out_list
    raise KeyError("cannot descend into a scalar")


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}#{n}" in taken:
        n += 1
    return f"{name}#{n}"


__all__ = [
    "DEFAULT_MAX_DEPTH",
    "ENVELOPE_KEYS",
    "apply",
    "collect",
    "collect_message",
    "escape_segment",
    "join_pointer",
    "message_parts",
    "split_pointer",
    "unescape_segment",
]
